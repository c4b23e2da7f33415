"""The Data Contract rules a registered schema carries, run by the serdes on every message.

A schema version registered with a ``ruleSet`` says what its writers and readers must do:
``ENCRYPT`` fields with a tag (see :mod:`somacontracts.serde.encryption`), check ``CEL``
conditions on the message (``message.tenant_id != ""``) or ``CEL_FIELD`` conditions on
tagged fields, and so on. The rules run as confluent-kafka's serdes run them, so a
message means the same to either:

- a rule runs in the mode it names; ``WRITEREAD`` rules on write and on read; read
  runs the list backwards (decrypt after the checks that saw it encrypted);
- a disabled rule does not run, nor any rule of a set whose ``enableAt`` is neither
  ``ALL`` nor ``CLIENT``; of two transforms of the same type, mode and tags, only the
  first (on write) or the last (on read) runs;
- a ``CONDITION`` that is false, or any rule that fails, is handled by ``onFailure``:
  ``ERROR`` (the default) refuses the message, ``NONE`` goes on with it as it was, and
  ``DLQ`` refuses it for the dead-letter topic; ``"ERROR,NONE"`` names the action on write
  and on read apart;
- the parameters of a rule are its ``params``, else the version's ``metadata.properties``.

``ENCRYPT`` is this package's own code (it is the hot path); ``CEL``, ``CEL_FIELD`` and
any executor registered with confluent-kafka's ``RuleRegistry`` run as confluent-kafka's
executors, so an expression means exactly what it means there; ``JSONATA`` evaluates as
confluent-kafka's executor does, within time and depth bounds it lacks.

Rules are compiled once per registered schema, subject and mode; :class:`Rules` is what
a serde keeps, and is None when nothing is to be done.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from confluent_kafka.schema_registry import Schema
from confluent_kafka.serialization import SerializationContext

from somacontracts.errors import RulesUnavailableError
from somacontracts.schema.wildcards import wildcard_match
from somacontracts.serde.executors import (
    MISSING,
    Prepare,
    Step,
    confluent_executor,
    confluent_step,
    unrunnable,
)
from somacontracts.serde.fields import Leaf, Walk, inline_tags, tagged_walk
from somacontracts.serde.options import RuleOptions
from somacontracts.serde.outcomes import Failure, RuleFailure, RuleRefusal, one_line

if TYPE_CHECKING:
    from confluent_kafka.schema_registry.common.schema_registry_client import Rule

    from somacontracts.serde.contract_model import SchemaForms
    from somacontracts.serde.encryption import KeyRing

_log = logging.getLogger("somacontracts.serde.rules")

__all__ = [
    "Failure",
    "RuleFailure",
    "RuleOptions",
    "RuleRefusal",
    "RuleRunner",
    "Rules",
    "compile_rules",
]

_CLIENT_SIDE = {None, "ALL", "CLIENT"}


class RuleRunner:
    """What runs the rules of one serde: its registry configuration, its keys and the
    confluent-kafka executors it made; closed with the serde."""

    def __init__(self, registry_config: Mapping[str, Any], options: RuleOptions) -> None:
        self._registry_config = dict(registry_config)
        self.options = options
        self._lock = threading.Lock()
        self._ring: KeyRing | None = None
        self._executors: dict[str, Any] = {}

    def key_ring(self) -> KeyRing:
        """The keys of ENCRYPT rules (Tink is imported only now)."""
        with self._lock:
            if self._ring is None:
                from somacontracts.serde.encryption import KeyRing

                self._ring = KeyRing(self._registry_config, self.options.kms, self.options.clock)
            return self._ring

    def executor(self, rule_type: str) -> Any:
        """confluent-kafka's executor of ``rule_type``, configured once, or None."""
        with self._lock:
            if rule_type in self._executors:
                return self._executors[rule_type]
            made = confluent_executor(rule_type)
            if made is not None:
                made.configure(self._registry_config, dict(self.options.kms))
            self._executors[rule_type] = made
            return made

    def close(self) -> None:
        """Close what the rules opened (the DEK registry client)."""
        if self._ring is not None:
            self._ring.close()


@dataclass(frozen=True, slots=True)
class _Compiled:
    rule: Rule
    name: str
    on_failure: str
    on_success: str
    condition: bool
    step: Step
    prepare: Prepare | None = None


class Rules:
    """The rules of one registered schema for one subject and mode, ready to run."""

    __slots__ = ("_ignored", "_steps", "subject", "write")

    def __init__(self, steps: tuple[_Compiled, ...], *, subject: str, write: bool) -> None:
        self._steps = steps
        self.subject = subject
        self.write = write
        self._ignored: dict[str, int] = {}
        """Failures ``onFailure`` NONE let pass, per rule: logged, not raised."""

    @property
    def names(self) -> frozenset[str]:
        """The names of the rules that run."""
        return frozenset(compiled.name for compiled in self._steps)

    def prepare(self, label: str) -> None:
        """Make ready, before the first message, what the rules need: the packages that run
        them, and each rule's own preparation (the data key of an ENCRYPT rule on write).

        A rule that cannot run here raises :class:`RulesUnavailableError` naming ``label``
        (the model), the subject and the rule, so a service fails at start-up rather
        than at its first message; a rule whose action is ``NONE`` is logged instead.
        """
        for compiled in self._steps:
            reason = unrunnable(str(compiled.rule.type or "").upper())
            if reason is None and compiled.prepare is not None:
                try:
                    compiled.prepare()
                except RuleFailure as err:
                    reason = str(err)
                except Exception as err:  # a KMS driver's or registry client's own errors
                    reason = f"{type(err).__name__}: {err}"
            if reason is None:
                continue
            if reason.startswith(MISSING) or (compiled.on_failure or "ERROR") != "NONE":
                raise RulesUnavailableError(label, self.subject, compiled.name, one_line(reason))
            _log.warning(
                'rule "%s" of %s under "%s" cannot run on %s; onFailure NONE lets messages '
                "through as they are: %s",
                compiled.name,
                label,
                self.subject,
                "write" if self.write else "read",
                one_line(reason),
            )

    def apply(self, datum: Any, ctx: SerializationContext | None = None) -> Any:
        """``datum`` after every rule; raise :class:`RuleRefusal` if one refuses it."""
        for compiled in self._steps:
            try:
                result = compiled.step(datum, ctx)
            except RuleRefusal:
                raise
            except RuleFailure as err:
                self._fail(compiled, str(err))
                continue
            except Exception as err:  # an executor's failure, whatever its type
                self._fail(compiled, f"{type(err).__name__}: {err}")
                continue
            if compiled.condition:
                if not result:
                    self._fail(compiled, "the condition is false")
                    continue
            else:
                if result is None:
                    self._fail(compiled, "the transform gave no message")
                    continue
                datum = result
            if compiled.on_success not in ("", "NONE"):
                self._act(compiled, compiled.on_success, "the rule asks to refuse on success")
        return datum

    def _fail(self, compiled: _Compiled, reason: str) -> None:
        action = compiled.on_failure or "ERROR"
        if action == "NONE":
            # The message goes on as it was (a field left encrypted): said in the log, at
            # the first failure of the rule and at every thousandth, never silently.
            count = self._ignored[compiled.name] = self._ignored.get(compiled.name, 0) + 1
            if count == 1 or count % 1000 == 0:
                _log.warning(
                    'rule "%s" failed on %s (%d so far); onFailure NONE lets the message '
                    "through as it was: %s",
                    compiled.name,
                    "write" if self.write else "read",
                    count,
                    one_line(reason),
                )
            return
        self._act(compiled, action, reason)

    @staticmethod
    def _act(compiled: _Compiled, action: str, reason: str) -> None:
        if action == "NONE":
            return
        if action not in ("ERROR", "DLQ"):
            reason = f'{reason}; its action "{action}" is not ERROR, NONE or DLQ'
            action = "ERROR"
        raise RuleRefusal(Failure(compiled.name, action, reason))


def _action(value: str | None, rule: Rule, *, write: bool) -> str:
    """The action ``value`` names for this direction (``"ERROR,NONE"``: write, read)."""
    if not value:
        return ""
    mode = str(rule.mode) if rule.mode is not None else ""
    if "," in value and mode in ("WRITEREAD", "UPDOWN"):
        first, _, second = value.partition(",")
        return (first if write else second).strip()
    return value.strip()


def compile_rules(
    schema: Schema,
    forms: SchemaForms,
    *,
    subject: str,
    write: bool,
    runner: RuleRunner,
    shape: SchemaForms | None = None,
) -> Rules | None:
    """The domain rules of ``schema`` (as registered) for messages of ``subject``, on
    write or on read; None when none applies.

    ``forms`` are ``schema`` parsed; ``shape``, the schema the datums have when it is
    another (a reader's, resolved from this writer's): fields are found in ``shape`` and
    their tags taken from ``schema``.
    """
    rule_set = schema.rule_set
    if rule_set is None or not rule_set.domain_rules:
        return None
    if rule_set.enable_at not in _CLIENT_SIDE:
        return None
    mode = "WRITE" if write else "READ"
    rules = list(rule_set.domain_rules)
    order = range(len(rules)) if write else range(len(rules) - 1, -1, -1)
    metadata = schema.metadata
    properties = dict(metadata.properties.properties) if metadata and metadata.properties else {}
    metadata_tags = dict(metadata.tags.tags) if metadata and metadata.tags else {}
    own_tags = inline_tags(forms.node)

    def tags_of(full_name: str) -> frozenset[str]:
        found = set(own_tags.get(full_name, ()))
        for pattern, tags in metadata_tags.items():
            if wildcard_match(full_name, pattern):
                found.update(tags)
        return frozenset(found)

    target = shape if shape is not None else forms
    steps: list[_Compiled] = []
    for index in order:
        rule = rules[index]
        rule_mode = str(rule.mode) if rule.mode is not None else ""
        if rule.disabled or rule_mode not in (mode, "WRITEREAD"):
            continue
        if str(rule.kind) == "TRANSFORM" and _shadowed(rule, rules, index, write=write):
            continue
        params = {**properties, **(rule.params.params if rule.params else {})}
        name = rule.name or f"rule {index}"
        step = _step(
            rule,
            index,
            rules,
            schema,
            params,
            forms,
            target,
            tags_of,
            subject,
            write=write,
            runner=runner,
        )
        if step is None:
            continue
        run, prepare = step
        steps.append(
            _Compiled(
                rule,
                name,
                _action(rule.on_failure, rule, write=write),
                _action(rule.on_success, rule, write=write),
                str(rule.kind) == "CONDITION",
                run,
                prepare,
            )
        )
    return Rules(tuple(steps), subject=subject, write=write) if steps else None


def _shadowed(rule: Rule, rules: list[Rule], index: int, *, write: bool) -> bool:
    """Whether another transform of the same type, mode and tags runs in this one's stead:
    an earlier one on write, a later one on read (confluent-kafka's order)."""
    if not rule.tags:
        return False
    others = rules[:index] if write else rules[index + 1 :]
    return any(
        str(o.kind) == "TRANSFORM"
        and o.mode == rule.mode
        and o.type == rule.type
        and o.tags == rule.tags
        for o in others
    )


def _step(
    rule: Rule,
    index: int,
    rules: list[Rule],
    schema: Schema,
    params: dict[str, str],
    forms: SchemaForms,
    target: SchemaForms,
    tags_of: Callable[[str], frozenset[str]],
    subject: str,
    *,
    write: bool,
    runner: RuleRunner,
) -> tuple[Step, Prepare] | None:
    rule_type = (rule.type or "").upper()
    if rule_type == "ENCRYPT":
        walk = tagged_walk(target.node, tags_of, rule.tags or ())
        if walk is None:
            return None  # no field of the schema carries its tags
        return _encrypt_step(walk, params, subject, write=write, runner=runner)
    return confluent_step(
        rule,
        index,
        rules,
        schema,
        forms.fastavro,
        target.fastavro,
        subject,
        write=write,
        runner=runner,
        rule_type=rule_type,
    )


def _encrypt_step(
    walk: Walk, params: Mapping[str, str], subject: str, *, write: bool, runner: RuleRunner
) -> tuple[Step, Prepare]:
    # Made by prepare() or at the first message; a missing KEK is then that message's failure.
    cipher: list[Any] = []

    def step(datum: Any, _ctx: SerializationContext | None) -> Any:
        if not cipher:
            cipher.append(runner.key_ring().cipher(params, subject))
        transform: Callable[[Leaf, Any], Any] = cipher[0].encrypt if write else cipher[0].decrypt
        return walk(datum, transform)

    def prepare() -> None:
        # A writer needs its data key for every message: fetched (or made) now, so a missing
        # KEK, secret or KMS stops the producer at start-up. A reader needs a key only for
        # the versions its messages name, and may be meant to read without one.
        if not cipher:
            cipher.append(runner.key_ring().cipher(params, subject))
        if write:
            runner.key_ring().newest(cipher[0])

    return step, prepare
