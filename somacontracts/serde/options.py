"""How the serdes run the Data Contract rules of the schemas they meet (imported by every
service: kept apart from the rule engine, which loads only for schemas with rules)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = ["RuleOptions"]


@dataclass(frozen=True, slots=True)
class RuleOptions:
    """How a serde runs the Data Contract rules of the schemas it meets.

    ``kms`` is the configuration handed to the KMS drivers of ENCRYPT rules:
    ``{"secret": ...}`` for ``local-kms`` (else ``LOCAL_SECRET`` is read), credentials for
    a cloud KMS. ``clock`` gives the time in seconds, against which data keys expire.
    """

    kms: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Not in ``repr``: it holds secrets."""
    clock: Callable[[], float] = time.time
