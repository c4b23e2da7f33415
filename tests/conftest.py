"""Shared test configuration: hypothesis profiles.

CI runs a fixed set of examples (derandomized), so a red run is reproducible and a
landing never hangs on a lucky draw; local runs ("dev") draw new examples each time to
keep exploring.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=50, deadline=None)
# The local KMS secret of every serde that is given none (ConversationEvent's content is
# encrypted): tests that need another secret pass one.
os.environ.setdefault("LOCAL_SECRET", "somacontracts-tests")
# Retries of an unreachable registry wait 1, 2, 4 s by default; the tests prove the same
# behaviour with shorter waits (the CLI runs they start inherit this).
os.environ.setdefault("SCHEMA_REGISTRY_RETRY_WAIT_MS", "20")

settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Start the longest tests first: pytest-xdist's workers then share out the short ones
    that remain, instead of one worker running a long test while the other waits."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """One worker more than cores: the tests wait on brokers, registries, subprocesses and
    a JVM for much of their time, and a spare worker keeps the cores busy meanwhile."""
    return (os.cpu_count() or 1) + 1
