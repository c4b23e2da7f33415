"""Typed serializers and deserializers on Confluent's wire format: the hot path of every message.

A message is Confluent's framing: magic byte ``0``, the writer schema's registry id as
4 bytes big-endian, then the Avro binary encoding of the payload. Both classes are
callables with confluent-kafka's serializer signature ``(value, ctx=None)``, so they
plug into ``SerializingProducer`` / ``DeserializingConsumer`` or work alone.

:class:`ContractSerializer` turns a typed model (a generated class from
:mod:`somacontracts.models`, or any class with the same protocol) into bytes. It finds
the schema id once per subject through the registry (``normalize=true`` lookup;
registration only with ``auto_register=True``) and then never calls it again, stamps
``metadata.schema_version``, and writes only values every reader reads back equal to
the object: anything else is a :class:`~somacontracts.errors.SerializationError` that
names the field path and the offending type (see :mod:`somacontracts.serde.values`).

:class:`ContractDeserializer` turns bytes into the model. It fetches each writer
schema once by id (a bounded cache), refuses an id registered under a subject that is
not this contract's, and resolves writer to reader by Avro's rules, so data written
with an older or newer version reads into today's class as far as the compatibility
level promises. Bytes cut short, bytes left after the record and every other damage
are a :class:`~somacontracts.errors.DeserializationError`: it raises only
:class:`~somacontracts.errors.ContractError` subclasses, whatever the input.

Both run the Data Contract rules registered with the writer's schema version
(:mod:`somacontracts.serde.rules`): fields tagged ``PII`` are encrypted by ENCRYPT rules
with the bytes of confluent-kafka's field encryption, CEL conditions refuse what they
refuse there. :class:`RuleOptions` configures them (the KMS). Schemas without rules pay
nothing: the rule engine is imported at the first schema that has some.

Both verify at construction (or :meth:`~ContractSerializer.warm_up`) that the registry
holds the model's exact schema under its subject, so a service learns at start-up,
not at its first message.
"""

from somacontracts.serde.contract_model import ContractModel
from somacontracts.serde.deserializer import ContractDeserializer
from somacontracts.serde.options import RuleOptions
from somacontracts.serde.serializer import ContractSerializer

__all__ = ["ContractDeserializer", "ContractModel", "ContractSerializer", "RuleOptions"]
