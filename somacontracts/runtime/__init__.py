"""What generated models call at run time: Avro's binary codec and the free-form JSON codec.

Generated modules import only this package and the standard library (``from
somacontracts import runtime as _rt``), so models generated for another service's
schemas need nothing else from somacontracts. Everything here is on the hot path of
every message, and depends on nothing but the standard library, ``msgspec`` and
``orjson``:

* :mod:`somacontracts.runtime.codec`: Avro's binary encoding, one value at a time, and
  :class:`Reader`, which decodes it;
* :mod:`somacontracts.runtime.jsontext`: :data:`JsonValue` and its JSON text.
"""

from somacontracts.runtime.codec import (
    Reader,
    bytes_decimal,
    date_days,
    days_date,
    decimal_bytes,
    decimal_fixed,
    enum_index,
    local_timestamp_micros,
    local_timestamp_millis,
    micros_local_timestamp,
    micros_time,
    micros_timestamp,
    millis_local_timestamp,
    millis_time,
    millis_timestamp,
    no_branch,
    string_uuid,
    time_micros,
    time_millis,
    timestamp_micros,
    timestamp_millis,
    type_name,
    unknown_branch,
    write_boolean,
    write_bytes,
    write_double,
    write_fixed,
    write_fixed_uuid,
    write_float,
    write_int,
    write_long,
    write_null,
    write_string,
    write_uuid,
    wrong_type,
)
from somacontracts.runtime.jsontext import (
    JsonValue,
    dump_json,
    dump_json_bytes,
    json_problem,
    load_json,
    load_json_bytes,
    write_json,
)

__all__ = [
    "JsonValue",
    "Reader",
    "bytes_decimal",
    "date_days",
    "days_date",
    "decimal_bytes",
    "decimal_fixed",
    "dump_json",
    "dump_json_bytes",
    "enum_index",
    "json_problem",
    "load_json",
    "load_json_bytes",
    "local_timestamp_micros",
    "local_timestamp_millis",
    "micros_local_timestamp",
    "micros_time",
    "micros_timestamp",
    "millis_local_timestamp",
    "millis_time",
    "millis_timestamp",
    "no_branch",
    "string_uuid",
    "time_micros",
    "time_millis",
    "timestamp_micros",
    "timestamp_millis",
    "type_name",
    "unknown_branch",
    "write_boolean",
    "write_bytes",
    "write_double",
    "write_fixed",
    "write_fixed_uuid",
    "write_float",
    "write_int",
    "write_json",
    "write_long",
    "write_null",
    "write_string",
    "write_uuid",
    "wrong_type",
]
