"""The rule types the serdes run through confluent-kafka's executors (``CEL``,
``CEL_FIELD``, any executor registered with its ``RuleRegistry``) or its expression
language (``JSONATA``, bounded here), and the packages each rule type needs.

``ENCRYPT`` is this package's own code (:mod:`somacontracts.serde.encryption`); every
other type runs as confluent-kafka runs it, so an expression means exactly what it means
there.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from confluent_kafka.schema_registry import Schema
from confluent_kafka.serialization import MessageField, SerializationContext

from somacontracts.serde.outcomes import RuleFailure

if TYPE_CHECKING:
    from confluent_kafka.schema_registry.common.schema_registry_client import Rule

    from somacontracts.serde.rules import RuleRunner

__all__ = [
    "MISSING",
    "BoundedJsonata",
    "Prepare",
    "Step",
    "confluent_executor",
    "confluent_step",
    "unrunnable",
]

Step = Callable[[Any, SerializationContext | None], Any]
"""A compiled rule's work on one datum (and its context)."""
Prepare = Callable[[], None]
"""Makes ready what a rule needs before its first message; raises :class:`RuleFailure`."""


def confluent_executor(rule_type: str) -> Any:
    """confluent-kafka's executor of ``rule_type`` (JSONATA: the bounded one), or None."""
    if rule_type == "CEL":
        from confluent_kafka.schema_registry.rules.cel.cel_executor import CelExecutor

        return CelExecutor()  # type: ignore[no-untyped-call]
    if rule_type == "CEL_FIELD":
        from confluent_kafka.schema_registry.rules.cel.cel_field_executor import CelFieldExecutor

        return CelFieldExecutor()  # type: ignore[no-untyped-call]
    if rule_type == "JSONATA":
        return BoundedJsonata()
    from confluent_kafka.schema_registry.rule_registry import RuleRegistry

    registry = RuleRegistry.get_global_instance()  # type: ignore[no-untyped-call]
    return registry.get_executor(rule_type)


class BoundedJsonata:
    """The ``JSONATA`` executor: confluent-kafka's (an expression evaluated on the message),
    with bounds it lacks. An expression runs at most :attr:`TIMEOUT_MS` milliseconds and
    :attr:`MAX_DEPTH` nested evaluations: a rule anyone registered (``$f := function($x)
    {$f($x)}``) must not stall every reader of the subject."""

    TIMEOUT_MS = 1000
    MAX_DEPTH = 100

    def __init__(self) -> None:
        self._compiled: dict[str, Any] = {}

    def configure(self, client_conf: Mapping[str, Any], rule_conf: Mapping[str, Any]) -> None:
        """Nothing to configure (confluent-kafka's executor protocol)."""

    def type(self) -> str:
        """The rule type it runs."""
        return "JSONATA"

    def transform(self, ctx: Any, message: Any) -> Any:
        """``message`` through the rule's expression."""
        import jsonata

        expr = ctx.rule.expr or ""
        compiled = self._compiled.get(expr)
        if compiled is None:
            compiled = self._compiled[expr] = jsonata.Jsonata(expr)
        frame = compiled.create_frame()
        frame.set_runtime_bounds(self.TIMEOUT_MS, self.MAX_DEPTH)
        try:
            return compiled.evaluate(message, frame)
        except RecursionError:
            raise RuleFailure("the expression recursed too deeply") from None

    def close(self) -> None:
        """Nothing to close."""


MISSING = "needs "
_MODULES = {
    "ENCRYPT": "somacontracts.serde.encryption",
    "CEL": "confluent_kafka.schema_registry.rules.cel.cel_executor",
    "CEL_FIELD": "confluent_kafka.schema_registry.rules.cel.cel_field_executor",
    "JSONATA": "jsonata",
}
"""The module each rule type the serdes run needs; the ``rules`` extra installs them."""


def unrunnable(rule_type: str) -> str | None:
    """Why rules of ``rule_type`` cannot run in this interpreter (a package of the
    ``rules`` extra is missing), or None."""
    module = _MODULES.get(rule_type)
    if module is None:
        return None
    try:
        importlib.import_module(module)
    except ImportError as err:
        missing = err.name or (
            err.__cause__.name if isinstance(err.__cause__, ImportError) else None
        )
        return (
            f"{MISSING}{missing or module}, which is not installed: "
            "pip install 'somacontracts[rules]'"
        )
    return None


def confluent_step(
    rule: Rule,
    index: int,
    rules: list[Rule],
    schema: Schema,
    parsed: Any,
    target: Any,
    subject: str,
    *,
    write: bool,
    runner: RuleRunner,
    rule_type: str,
) -> tuple[Step, Prepare]:
    from confluent_kafka.schema_registry.common.avro import get_inline_tags, transform
    from confluent_kafka.schema_registry.common.schema_registry_client import (
        RuleMode as ConfluentMode,
    )
    from confluent_kafka.schema_registry.serde import RuleContext, RuleError

    expanded = _expanded(target)
    tags = get_inline_tags(parsed)
    mode = ConfluentMode.WRITE if write else ConfluentMode.READ
    default_ctx = SerializationContext(subject.removesuffix("-value"), MessageField.VALUE)

    def field_transformer(ctx: Any, field_transform: Any, message: Any) -> Any:
        return transform(ctx, expanded, message, field_transform)

    def step(datum: Any, ctx: SerializationContext | None) -> Any:
        executor = runner.executor(rule_type)
        if executor is None:
            raise RuleError(f'no executor for rule type "{rule.type}"')
        context = RuleContext(
            schema.rule_set.enable_at if schema.rule_set else None,
            ctx or default_ctx,
            None,
            schema,
            subject,
            mode,
            rule,
            index,
            rules,
            tags,
            field_transformer,
            None,
            datum,
        )
        return executor.transform(context, datum)

    def prepare() -> None:
        if runner.executor(rule_type) is None:
            raise RuleFailure(f'no executor for rule type "{rule.type}" is registered')

    return step, prepare


def _expanded(parsed: Any) -> Any:
    from fastavro.schema import expand_schema

    return expand_schema(parsed)
