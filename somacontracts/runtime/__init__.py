"""What generated models call at run time: Avro's binary codec and the free-form JSON codec.

Generated modules import only this package and the standard library (``from
somacontracts import runtime as _rt``), so models generated for another service's
schemas need nothing else from somacontracts. Everything here is on the hot path of
every message, and depends on nothing but the standard library, ``msgspec`` and
``orjson``:

* :mod:`somacontracts.runtime.encode`: Avro's binary encoding, one value at a time;
  it writes only values every reader reads back equal;
* :mod:`somacontracts.runtime.decode`: :class:`Reader`, which decodes it and checks what
  corrupt bytes could get wrong, and the conversions to logical types;
* :mod:`somacontracts.runtime.jsontext`: :data:`JsonValue` and its JSON text;
* :mod:`somacontracts.runtime.kinds`: which Python value represents each Avro type.
"""

from somacontracts.runtime.decode import (
    Reader,
    bytes_decimal,
    days_date,
    micros_local_timestamp,
    micros_time,
    micros_timestamp,
    millis_local_timestamp,
    millis_time,
    millis_timestamp,
    string_uuid,
)
from somacontracts.runtime.encode import (
    date_days,
    decimal_bytes,
    decimal_fits,
    decimal_fixed,
    enum_index,
    local_timestamp_micros,
    local_timestamp_millis,
    no_branch,
    time_micros,
    time_millis,
    timestamp_micros,
    timestamp_millis,
    type_name,
    unknown_branch,
    write_boolean,
    write_bytes,
    write_date,
    write_double,
    write_fixed,
    write_fixed_uuid,
    write_float,
    write_int,
    write_local_timestamp_micros,
    write_local_timestamp_millis,
    write_long,
    write_null,
    write_string,
    write_time_micros,
    write_time_millis,
    write_timestamp_micros,
    write_timestamp_millis,
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
    "decimal_fits",
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
    "write_date",
    "write_double",
    "write_fixed",
    "write_fixed_uuid",
    "write_float",
    "write_int",
    "write_json",
    "write_local_timestamp_micros",
    "write_local_timestamp_millis",
    "write_long",
    "write_null",
    "write_string",
    "write_time_micros",
    "write_time_millis",
    "write_timestamp_micros",
    "write_timestamp_millis",
    "write_uuid",
    "wrong_type",
]
