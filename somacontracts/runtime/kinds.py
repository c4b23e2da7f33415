"""What Python value represents each Avro type: the table generated code and the serdes share.

Standard library only.
"""

from __future__ import annotations

from typing import Final

__all__ = ["LOGICAL_KINDS", "PRIMITIVE_KINDS"]

LOGICAL_KINDS: Final = {
    ("string", "json"): "json",
    ("string", "uuid"): "uuid",
    ("fixed", "uuid"): "fixed_uuid",
    ("long", "timestamp-millis"): "datetime",
    ("long", "timestamp-micros"): "datetime",
    ("long", "local-timestamp-millis"): "datetime",
    ("long", "local-timestamp-micros"): "datetime",
    ("int", "date"): "date",
    ("int", "time-millis"): "time",
    ("long", "time-micros"): "time",
    ("bytes", "decimal"): "decimal",
    ("fixed", "decimal"): "decimal",
}
"""(Avro base type, logical type) -> the kind of Python value that represents it.

Logical types fastavro does not convert (timestamp-nanos, duration, big-decimal,
unknown ones) stay their base type, as the Avro specification prescribes for readers.
A ``uuid`` on a ``fixed`` is a UUID only with size 16.
"""
PRIMITIVE_KINDS: Final = {
    "null": "null",
    "boolean": "boolean",
    "int": "int",
    "long": "int",
    "float": "float",
    "double": "float",
    "bytes": "bytes",
    "string": "string",
}
"""Avro primitive type -> the kind of Python value that represents it."""
