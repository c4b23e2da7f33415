"""A model's schema as a registry holds it: found (or registered) under a subject with the
version's metadata and rules, and what both serdes share to reach the registry and run
those rules (:class:`RegistryUser`).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Self

from confluent_kafka.schema_registry import RegisteredSchema, Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.common.schema_registry_client import Metadata, RuleSet

from somacontracts.errors import RegistryError, SchemaNotFoundError
from somacontracts.serde.contract_model import ContractModel, ModelSchema, SchemaForms, model_schema
from somacontracts.serde.references import register_references
from somacontracts.serde.registry_client import call, connect, url_of

if TYPE_CHECKING:
    from somacontracts.serde.options import RuleOptions
    from somacontracts.serde.rules import RuleRunner, Rules

__all__ = [
    "NOT_FOUND",
    "RegistryUser",
    "contract_gaps",
    "encrypting_rules",
    "has_rules",
    "registered",
]

NOT_FOUND = (40401, 40403)
"""Registry error codes for a subject, version or schema that is not there."""


def has_rules(schema: Schema | None) -> bool:
    """Whether a registered schema carries Data Contract domain rules to run."""
    return schema is not None and schema.rule_set is not None and bool(schema.rule_set.domain_rules)


class RegistryUser:
    """Holds the registry client (closed on :meth:`close` only if made here from a URL)
    and what runs the Data Contract rules of the schemas met."""

    def __init__(
        self, registry: SchemaRegistryClient | str, rules: RuleOptions | None = None
    ) -> None:
        self._owns_client = isinstance(registry, str)
        self._client = connect(url=registry) if isinstance(registry, str) else registry
        self._rule_options = rules
        self._runner: RuleRunner | None = None

    @property
    def client(self) -> SchemaRegistryClient:
        """The registry client this serde asks."""
        return self._client

    def _rules_of(
        self,
        schema: Schema,
        forms: SchemaForms,
        subject: str,
        *,
        write: bool,
        shape: SchemaForms | None = None,
    ) -> Rules | None:
        """The rules of a registered ``schema`` for ``subject``; None when it has none.

        Schemas without rules cost nothing: the rule engine is imported at the first
        schema that has some.
        """
        if not has_rules(schema):
            return None
        from somacontracts.serde.rules import compile_rules

        return compile_rules(
            schema, forms, subject=subject, write=write, runner=self._rule_runner(), shape=shape
        )

    def _rule_runner(self) -> RuleRunner:
        """What runs this serde's rules, made at the first schema that has some."""
        if self._runner is None:
            from somacontracts.serde.options import RuleOptions
            from somacontracts.serde.rules import RuleRunner

            config = self._client.config()  # type: ignore[no-untyped-call]
            self._runner = RuleRunner(config, self._rule_options or RuleOptions())
        return self._runner

    def warm_up(self) -> None:
        """Check the registry now instead of at the first message."""
        raise NotImplementedError

    def _warm_up_or_close(self) -> None:
        try:
            self.warm_up()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Close what the rules opened, and the registry client if this object created it
        (from a URL)."""
        if self._runner is not None:
            self._runner.close()
            self._runner = None
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def registered(
    client: SchemaRegistryClient, model: type[ContractModel], subject: str, *, register: bool
) -> RegisteredSchema:
    """``model``'s exact schema as registered under ``subject`` (its id, and the metadata
    and rules of that version); register it first if asked to, with the Data Contract parts
    the model carries, also where the version found lacks them."""
    own = model_schema(model)
    references = (
        register_references(client, own.shared, own.used, register=register) if own.used else []
    )
    schema = Schema(own.text, "AVRO", references)
    try:
        found = _registered(client, subject, schema)
    except RegistryError as err:
        if err.error_code not in NOT_FOUND:
            raise
        if not register:
            raise _not_registered(client, model, subject, err) from err
        found = None
    if register and own.contract is not None and (found is None or contract_gaps(own, found)):
        metadata, rule_set = own.contract
        sent = Schema(
            own.text,
            "AVRO",
            references,
            None if metadata is None else Metadata.from_dict(metadata),
            None if rule_set is None else RuleSet.from_dict(rule_set),
        )
        created = found is None
        call(
            client, functools.partial(client.register_schema, subject, sent, normalize_schemas=True)
        )
        found = _registered(client, subject, sent)
        if created and contract_gaps(own, found):
            _withdraw(client, subject, found)
    elif found is None:
        call(
            client,
            functools.partial(client.register_schema, subject, schema, normalize_schemas=True),
        )
        found = _registered(client, subject, schema)  # the version's metadata and rules
    return found


def _withdraw(client: SchemaRegistryClient, subject: str, found: RegisteredSchema) -> None:
    """Delete the version just registered under ``subject``, which the registry stored
    without the Data Contract parts sent (Karapace keeps none): registered with its rules
    or not at all. Best effort: the caller refuses to write either way."""
    version = found.version
    if version is None:
        return
    for permanent in (False, True):
        try:
            call(
                client,
                functools.partial(client.delete_version, subject, version, permanent=permanent),
            )
        except RegistryError:
            return


def _registered(client: SchemaRegistryClient, subject: str, schema: Schema) -> RegisteredSchema:
    """The version of ``subject`` that ``schema`` looks up as, with its own metadata and rules."""
    found = call(
        client, functools.partial(client.lookup_schema, subject, schema, normalize_schemas=True)
    )
    if found.schema_id is None:
        raise SchemaNotFoundError(url_of(client), f'lookup under "{subject}" returned no id')
    # confluent-kafka's lookup answers with the schema it was given, and caches it as the
    # version's: the version's own metadata and rules come from the schema by id (cached
    # apart from lookups, and from what was registered).
    full = call(client, functools.partial(client.get_schema, found.schema_id))
    return RegisteredSchema(
        schema_id=found.schema_id,
        guid=found.guid,
        schema=full,
        subject=subject,
        version=found.version,
    )


def encrypting_rules(own: ModelSchema) -> dict[str, tuple[str, ...]]:
    """The ENCRYPT rules of a model's repository version that encrypt fields of its schema
    on write, by name, with those fields (``ConversationEvent.content``): the fields
    tagged as a rule names, and for a rule without tags, every field of the kinds
    Confluent's executor encrypts (string, bytes)."""
    if own.contract is None:
        return {}
    # Only models with a Data Contract get here: the schema model is loaded already.
    from somacontracts.schema import RecordNode, UnionNode, parse
    from somacontracts.schema.datacontract import encrypt_rules_on_write, field_tags, rule_meets

    metadata, rule_set = own.contract
    rules = encrypt_rules_on_write(rule_set)
    if not rules:
        return {}
    fields = [
        (
            f"{record.name}.{field.name}",
            field_tags(metadata, record.full_name, field.name, field.props.get("confluent:tags")),
            {b.kind for b in field.node.branches}
            if isinstance(field.node, UnionNode)
            else {field.node.kind},
        )
        for record in (own.schema_model or parse(own.text)).named.values()
        if isinstance(record, RecordNode)
        for field in record.fields
    ]
    found: dict[str, tuple[str, ...]] = {}
    for rule in rules:
        covered = tuple(
            path
            for path, tags, kinds in fields
            if rule_meets(rule, tags) and (rule.get("tags") or kinds & {"string", "bytes"})
        )
        if covered:
            found[str(rule["name"])] = covered
    return found


def contract_gaps(own: ModelSchema, found: RegisteredSchema) -> list[str]:
    """The Data Contract parts of a model's repository version that the registered version
    ``found`` lacks or holds otherwise (phrases such as ``rule "encryptPII"``); empty when
    it holds them all, or the model carries none."""
    if own.contract is None:
        return []
    from somacontracts.schema.datacontract import dropped_parts  # only models with rules

    stored = found.schema
    return dropped_parts(
        own.contract,
        (
            None if stored.metadata is None else stored.metadata.to_dict(),
            None if stored.rule_set is None else stored.rule_set.to_dict(),
        ),
    )


def _not_registered(
    client: SchemaRegistryClient, model: type[ContractModel], subject: str, err: RegistryError
) -> SchemaNotFoundError:
    return SchemaNotFoundError(
        url_of(client),
        f'subject "{subject}" holds no version with the schema of {model.__name__} '
        f"(v{model.SCHEMA_VERSION}, fingerprint {model.FINGERPRINT[:16]}...); "
        "run `somacontracts register` first",
        status=err.status,
        error_code=err.error_code,
    )
