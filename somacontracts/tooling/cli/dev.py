"""``somacontracts dev up|env|down|reset``: the project's local Kafka and registry, running.

``dev up`` starts the local Kafka-protocol broker (Tansu, from the ``local`` extra) and
the local schema registry as background processes, waits until both answer, applies the
catalog's topics (as ``topics apply``), creates the KEKs the contracts' ENCRYPT rules
name in the local KMS and registers the contracts (as ``register``, each new version
proved against the live readers first, without writing the lock file), then prints the
addresses. Its state lives in ``.somacontracts/dev/`` next
to the project's ``pyproject.toml`` (add ``.somacontracts/`` to ``.gitignore``): ports,
pids, the registry's database, the broker's saved messages, the local KMS secret and the
logs. A stack already up is said so and brought in line again.

``dev env`` prints ``export`` lines for ``KAFKA_BOOTSTRAP_SERVERS``,
``SCHEMA_REGISTRY_URL`` and ``LOCAL_SECRET`` (the stack's local KMS secret); run
``eval "$(somacontracts dev env)"`` and every command and client uses the stack.

``dev down`` saves the broker's topics, messages and consumer offsets to the state folder
and stops the two processes ``dev up`` started, recognised by pid, command line and
start time (a process that merely took over a pid is left alone); the next ``dev up``
serves on the same ports with the same subjects and messages. ``dev reset`` stops them
and wipes the state folder: the next ``dev up`` starts empty and creates the topics and
subjects again.

Exit codes: 0 done; 1 the stack runs but its topics or contracts could not be brought in
line (drift, a refused version); 2 bad usage or configuration, a process that would not
start, or (``dev env``) a stack that is not up.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from confluent_kafka import KafkaException

from somacontracts.errors import ContractError
from somacontracts.tooling.cli.common import (
    add_config,
    add_schemas,
    command_parser,
    count,
    project_files,
    settings_of,
    warn,
)
from somacontracts.tooling.configuration import find_config
from somacontracts.tooling.dev.stack import (
    DevStack,
    DevStackError,
    StackState,
    env_lines,
    state_folder,
)

if TYPE_CHECKING:
    from somacontracts.tooling.configuration import ProjectConfig
    from somacontracts.tooling.registration import SubjectPlan
    from somacontracts.tooling.sources import ContractSchemas

__all__ = ["register", "registered_text", "run_down", "run_env", "run_reset", "run_up"]

LOCAL_KMS_KEY = "local-kms://somacontracts-dev"
"""The KMS key the stack's KEKs name: the local KMS, keyed by the stack's secret."""


def register(sub: Any) -> None:
    """Add the subcommand to the parser's subcommands."""
    parser = command_parser(sub, "dev", __doc__)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    up = actions.add_parser("up", help="start the broker and registry, apply topics, register")
    for service, default in (("broker", 9092), ("registry", 8081)):
        up.add_argument(
            f"--{service}-port",
            type=_port,
            metavar="N",
            help=f"the {service}'s port (0: any free one; default: the one it had, else "
            f"{default} if free, else any free one)",
        )
    add_schemas(up)
    add_config(up, lock=False)
    up.set_defaults(run=run_up)
    for name, run, help_line in (
        ("env", run_env, "print the environment of the stack as shell export lines"),
        ("down", run_down, "save the broker's messages and stop the stack"),
        ("reset", run_reset, "stop the stack and wipe its state"),
    ):
        action = actions.add_parser(name, help=help_line)
        add_config(action, lock=False)
        action.set_defaults(run=run)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return port


def _stack(args: argparse.Namespace) -> DevStack:
    config = args.config if args.config is not None else find_config(Path.cwd())
    return DevStack(state_folder(config))


def _use(args: argparse.Namespace, state: StackState) -> None:
    """Point the shared options at the stack, whatever the environment says."""
    args.bootstrap = state.bootstrap_servers
    args.registry = state.registry_url
    args.registry_ca = None


def run_up(args: argparse.Namespace) -> int:
    """Start what is not running, then apply the topics and register the contracts."""
    from somacontracts.tooling import sources

    # A project whose configuration or contracts cannot be read stops here (exit 2),
    # before anything is started.
    config, root, _ = project_files(args)
    tree = sources.load_tree(root)
    stack = _stack(args)
    stack.folder.mkdir(parents=True, exist_ok=True)
    stack.secret()  # made now, so that every client of the stack gets the same one
    recorded = stack.read()
    alive = stack.running(recorded) if recorded is not None else {}
    wanted = {"broker": args.broker_port, "registry": args.registry_port}
    for service in recorded.services if recorded is not None else ():
        asked = wanted[service.name]
        if alive[service.name] and asked not in (None, service.port):
            raise DevStackError(
                f"the {service.name} runs on port {service.port}; "
                f"`somacontracts dev down` first to move it to port {asked}"
            )
    state = stack.ports(recorded, wanted)
    if alive and all(alive.values()):
        print(f"the local stack of {stack.folder} is already up")
    started = _start(stack, state, alive)
    state = stack.read() or state
    _use(args, state)
    for service in state.services:
        how = "started" if service.name in started else "running"
        pid = service.process.pid if service.process is not None else "?"
        print(f"{service.name}: {_address(state, service.name)} (pid {pid}, {how})")
    try:
        _provision(args, stack, restore="broker" in started)
        _register(args, tree, config)
    except ContractError as err:
        print(f"somacontracts dev up: {err}", file=sys.stderr)
        print("the stack runs; `somacontracts dev down` stops it", file=sys.stderr)
        return 1
    print(f"state in {stack.folder} (keep .somacontracts/ out of version control)")
    for line in env_lines(state, None):
        print(line)
    print('eval "$(somacontracts dev env)" sets these and LOCAL_SECRET, the local KMS secret')
    return 0


def _address(state: StackState, service: str) -> str:
    return state.bootstrap_servers if service == "broker" else state.registry_url


def _start(stack: DevStack, state: StackState, alive: dict[str, bool]) -> list[str]:
    """Start the services of ``state`` that are not running; on a failure stop those
    started here again. Return the names of those started."""
    started: list[str] = []
    try:
        for service in state.services:
            if not alive.get(service.name):
                state = replace(state, **{service.name: stack.start(service)})
                stack.write(state)
                started.append(service.name)
        stack.write(state)
    except BaseException:
        stack.stop([getattr(state, name) for name in started])
        for name in started:
            state = replace(state, **{name: replace(getattr(state, name), process=None)})
        stack.write(state)
        raise
    return started


def _provision(args: argparse.Namespace, stack: DevStack, *, restore: bool) -> None:
    """Replay the saved messages into a new broker, then apply the catalog's topics."""
    from somacontracts.kafka import apply_plans, catalog_topics, open_admin, plan_topics
    from somacontracts.tooling.dev.snapshot import restore_broker

    settings = settings_of(args)
    if restore and stack.broker_data.exists():
        saved = restore_broker(settings, stack.broker_data)
        print(
            f"replayed {count(saved.messages, 'message')} of {count(saved.topics, 'topic')} "
            f"and the offsets of {count(saved.groups, 'consumer group')} from {stack.broker_data}"
        )
    admin = open_admin(settings)
    changed = apply_plans(admin, plan_topics(admin, catalog_topics(settings)))
    print(f"topics: {changed} created or updated")


def _register(
    args: argparse.Namespace, tree: Mapping[str, ContractSchemas], config: ProjectConfig
) -> None:
    """Create the KEKs the contracts' rules name, then register every version that every
    live reader can read (as ``register`` proves)."""
    from somacontracts.serde.registry_client import connect
    from somacontracts.tooling.cli.register import prove_pending
    from somacontracts.tooling.keks import create_keks, kek_names
    from somacontracts.tooling.registration import register_tree

    settings = settings_of(args, config.catalog)

    def prove(plans: Sequence[SubjectPlan]) -> None:
        pending = [p for p in plans if p.to_register or p.set_level]
        if any(p.broken for p in prove_pending(client, settings, tree, pending)):
            raise ContractError("a live reader cannot read a version; nothing registered")

    with connect(url=args.registry) as client:
        keks = create_keks(client, kek_names(tree), LOCAL_KMS_KEY)
        plans = register_tree(client, tree, config.subjects_of, config.level_of, prove)
    print(registered_text(plans))
    if keks:
        print(f"created {count(len(keks), 'KEK')} in the local KMS: {', '.join(keks)}")


def registered_text(plans: Sequence[SubjectPlan]) -> str:
    """What registering ``plans`` did, in a line: the versions registered and the subjects
    that got them, the subjects whose level was set, or that all were up to date."""
    got = [plan for plan in plans if plan.to_register]
    versions = sum(len(plan.to_register) for plan in got)
    levels = sum(1 for plan in plans if plan.set_level)
    text = f"registered {count(versions, 'version')}"
    if got:
        text += f" under {count(len(got), 'subject')}"
    if levels:
        text += f"; set the compatibility level of {count(levels, 'subject')}"
    elif not got:
        text += f": {count(len(plans), 'subject')} up to date"
    return text


def run_env(args: argparse.Namespace) -> int:
    """Print the export lines of a stack that is up."""
    stack = _stack(args)
    state = stack.up_state()
    for line in env_lines(state, stack.secret()):
        print(line)
    return 0


def _stop_all(stack: DevStack, state: StackState) -> None:
    recorded = [s for s in state.services if s.process is not None]
    for service, ran in zip(recorded, stack.stop(recorded), strict=True):
        pid = service.process.pid if service.process is not None else "?"
        if ran:
            print(f"stopped the {service.name} (pid {pid})")
        else:
            print(f"the {service.name} (pid {pid}) was not running; left alone")
    stack.write(StackState(*(replace(s, process=None) for s in state.services)))


def run_down(args: argparse.Namespace) -> int:
    """Save the broker's messages, then stop the stack's processes."""
    from somacontracts.tooling.dev.snapshot import save_broker

    stack = _stack(args)
    state = stack.read()
    if state is None or not any(s.process for s in state.services):
        print(f"the local stack of {stack.folder} is not up; nothing to stop")
        return 0
    if stack.running(state)["broker"]:
        _use(args, state)
        try:
            saved = save_broker(settings_of(args), stack.broker_data)
        except (ContractError, KafkaException, OSError) as err:
            warn("dev down", f"the broker's messages were not saved ({err}); stopping anyway")
        else:
            print(
                f"saved {count(saved.messages, 'message')} of {count(saved.topics, 'topic')} "
                f"and the offsets of {count(saved.groups, 'consumer group')} to "
                f"{stack.broker_data}"
            )
    _stop_all(stack, state)
    return 0


def run_reset(args: argparse.Namespace) -> int:
    """Stop the stack's processes and wipe its state folder."""
    stack = _stack(args)
    state = stack.read()
    if state is not None:
        _stop_all(stack, state)
    stack.wipe()
    print(f"removed {stack.folder}: the next `somacontracts dev up` starts empty")
    return 0
