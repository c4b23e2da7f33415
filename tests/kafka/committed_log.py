"""A partition's messages as Kafka's ``read_committed`` defines them, from the log's own
transaction markers.

librdkafka hides an aborted transaction's messages only when the broker lists that
transaction in its fetch response. The local broker (Tansu 0.6) lists none, although it
writes the abort and commit markers, so on it a ``read_committed`` consumer also gets the
messages of aborted transactions (an explicit abort after the messages were sent, or the
abort a restarted instance causes by fencing the one it replaces). This reader fetches the
raw record batches (Fetch v4, ``read_uncommitted``) and sorts each transactional batch by
its producer's next marker on the partition: committed, aborted, or still open. Its
``committed`` list is what a ``read_committed`` consumer of an Apache Kafka cluster
returns. The request is the protocol's simplest form that carries transactional batches,
and the batches are read as the protocol describes them (uncompressed: librdkafka's default).
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

FETCH_V4 = struct.Struct(">hhi")
"""Request header: api key 1 (Fetch), version 4, correlation id."""
BATCH = struct.Struct(">qiibIhiqqqhii")
"""A record batch's header: base offset, length, leader epoch, magic, crc, attributes,
last offset delta, first and max timestamp, producer id and epoch, base sequence, count."""
TRANSACTIONAL = 0x10
CONTROL = 0x20


@dataclass(frozen=True, slots=True)
class Record:
    """One message of the log."""

    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


@dataclass
class PartitionLog:
    """A partition's messages sorted by the fate of their transaction."""

    committed: list[Record] = field(default_factory=list)
    """Outside transactions, or in committed ones: what read_committed returns."""
    aborted: list[Record] = field(default_factory=list)
    open: list[Record] = field(default_factory=list)
    """In transactions with no marker yet."""


def _string(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">h", len(data)) + data


def _fetch_request(topic: str, partition: int, offset: int) -> bytes:
    body = (
        FETCH_V4.pack(1, 4, 1)
        + _string("committed-log")
        + struct.pack(">iiiib", -1, 100, 1, 16 << 20, 0)
        + struct.pack(">i", 1)
        + _string(topic)
        + struct.pack(">iiqi", 1, partition, offset, 16 << 20)
    )
    return struct.pack(">i", len(body)) + body


def _receive(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the broker closed the connection")
        data += chunk
    return bytes(data)


class _Reader:
    """Reads a Fetch v4 response field by field."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def take(self, fmt: str) -> tuple[int, ...]:
        layout = struct.Struct(fmt)
        values = layout.unpack_from(self.data, self.at)
        self.at += layout.size
        return values

    def skip_string(self) -> None:
        (length,) = self.take(">h")
        self.at += max(length, 0)

    def bytes(self) -> bytes:
        (length,) = self.take(">i")
        start, self.at = self.at, self.at + max(length, 0)
        return self.data[start : self.at]


def _fetch(sock: socket.socket, topic: str, partition: int, offset: int) -> tuple[int, bytes]:
    """The high watermark and the record batches from ``offset`` on."""
    sock.sendall(_fetch_request(topic, partition, offset))
    (size,) = struct.unpack(">i", _receive(sock, 4))
    reader = _Reader(_receive(sock, size))
    reader.take(">ii")  # correlation id, throttle time
    (topics,) = reader.take(">i")
    assert topics == 1
    reader.skip_string()
    (partitions,) = reader.take(">i")
    assert partitions == 1
    _index, error, high_watermark, _stable = reader.take(">ihqq")
    if error:
        raise ConnectionError(f"fetch of {topic}[{partition}] failed with error code {error}")
    (aborted,) = reader.take(">i")
    reader.at += max(aborted, 0) * 16
    return high_watermark, reader.bytes()


@dataclass(frozen=True, slots=True)
class _Batch:
    base_offset: int
    next_offset: int
    producer_id: int
    transactional: bool
    control: bool
    records: list[Record]


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """The zig-zag varint at ``at`` and the position after it."""
    shift = value = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return (value >> 1) ^ -(value & 1), at


def _field(data: bytes, at: int) -> tuple[bytes | None, int]:
    length, at = _varint(data, at)
    if length < 0:
        return None, at
    return data[at : at + length], at + length


def _batches(data: bytes) -> Iterator[_Batch]:
    """The whole record batches of ``data`` (a fetch may end with a partial one)."""
    at = 0
    while at + BATCH.size <= len(data):
        (
            base,
            length,
            _epoch,
            magic,
            _crc,
            attributes,
            last_delta,
            *_,
            producer,
            _pe,
            _seq,
            count,
        ) = BATCH.unpack_from(data, at)
        end = at + 12 + length
        if end > len(data):
            return
        if magic != 2 or attributes & 0x07:
            raise ValueError(f"record batch at {base}: magic {magic}, attributes {attributes}")
        records = []
        position = at + BATCH.size
        for _ in range(count):
            size, position = _varint(data, position)
            record_end = position + size
            position += 1  # attributes
            _timestamp, position = _varint(data, position)
            delta, position = _varint(data, position)
            key, position = _field(data, position)
            value, position = _field(data, position)
            headers_count, position = _varint(data, position)
            headers = []
            for _ in range(headers_count):
                name, position = _field(data, position)
                header, position = _field(data, position)
                headers.append(((name or b"").decode(), header or b""))
            records.append(Record(base + delta, key, value, tuple(headers)))
            position = record_end
        yield _Batch(
            base,
            base + last_delta + 1,
            producer,
            bool(attributes & TRANSACTIONAL),
            bool(attributes & CONTROL),
            records,
        )
        at = end


def read_partition(bootstrap: str, topic: str, partition: int) -> PartitionLog:
    """Every message of ``topic[partition]`` on the single broker at ``bootstrap``."""
    host, port = bootstrap.split(",")[0].rsplit(":", 1)
    log = PartitionLog()
    pending: dict[int, list[Record]] = {}
    offset = 0
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        while True:
            high_watermark, data = _fetch(sock, topic, partition, offset)
            if offset >= high_watermark:
                break
            progressed = False
            for batch in _batches(data):
                progressed = True
                offset = batch.next_offset
                if batch.control:
                    for marker in batch.records:
                        # The key: version, then type (0 abort, 1 commit).
                        committed = marker.key is not None and marker.key[2:4] == b"\x00\x01"
                        ended = pending.pop(batch.producer_id, [])
                        (log.committed if committed else log.aborted).extend(ended)
                elif batch.transactional:
                    pending.setdefault(batch.producer_id, []).extend(batch.records)
                else:
                    log.committed.extend(batch.records)
            if not progressed:
                raise ConnectionError(f"no record batch of {topic}[{partition}] at {offset}")
    log.open = [r for records in pending.values() for r in records]
    log.committed.sort(key=lambda r: r.offset)
    return log


def read_topic(bootstrap: str, topic: str, partitions: int) -> PartitionLog:
    """:func:`read_partition` of every partition of ``topic``, merged."""
    merged = PartitionLog()
    for partition in range(partitions):
        log = read_partition(bootstrap, topic, partition)
        merged.committed += log.committed
        merged.aborted += log.aborted
        merged.open += log.open
    return merged
