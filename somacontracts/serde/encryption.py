"""Field-level encryption as Confluent's Data Contracts define it (ENCRYPT rules).

A field is encrypted with a data encryption key (DEK) that the registry's DEK registry
keeps, wrapped by a key encryption key (KEK) that lives in a KMS. The bytes are those of
confluent-kafka's ``FieldEncryptionExecutor``, so either side reads what the other wrote:

- the ciphertext is Tink's: AES-GCM (``AES128_GCM``, ``AES256_GCM``, the default) with
  Tink's raw output, or AES-SIV (``AES256_SIV``), deterministic, with empty associated data;
- with ``encrypt.dek.expiry.days`` set, keys rotate: the ciphertext starts with a zero
  byte and the DEK's version (4 bytes, big-endian), and a writer makes a new DEK version
  once the newest is older than that many days; readers find each version they need;
- a ``string`` field carries the base64 text of its ciphertext; a ``bytes`` field the
  ciphertext itself.

The KEK and DEKs are read (and, on write, created) through confluent-kafka's
``DekRegistryClient``; the KMS is reached through confluent-kafka's KMS drivers
(``local-kms`` is registered here; register a cloud one with its driver's ``register()``).
Unlike confluent-kafka, which registers a KMS client once per process, each serde keeps
the KMS clients made from its own configuration, so two serdes with different
credentials in one process do not share them. Tink primitives are made once per key,
not once per value: that is where the time of an encrypted field goes otherwise.

Imported only by a serde meeting an ENCRYPT rule: it needs the ``rules`` extra (Tink).
"""

from __future__ import annotations

import base64
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

try:
    from confluent_kafka.schema_registry.error import SchemaRegistryError
    from confluent_kafka.schema_registry.rules.encryption.dek_registry.dek_registry_client import (
        Dek,
        DekAlgorithm,
        DekRegistryClient,
        Kek,
    )
    from confluent_kafka.schema_registry.rules.encryption.encrypt_executor import Cryptor
    from confluent_kafka.schema_registry.rules.encryption.kms_driver_registry import (
        get_kms_driver,
    )
    from confluent_kafka.schema_registry.rules.encryption.localkms.local_driver import (
        LocalKmsDriver,
    )
    from tink import aead, daead
    from tink.core import Registry
    from tink.proto import tink_pb2
except ImportError as err:  # pragma: no cover - depends on the installed extras
    raise ImportError("field encryption needs Tink: pip install 'somacontracts[rules]'") from err

from somacontracts.serde.fields import Leaf
from somacontracts.serde.outcomes import RuleFailure

__all__ = ["Cipher", "KeyRing"]

KEK_NAME = "encrypt.kek.name"
KMS_TYPE = "encrypt.kms.type"
KMS_KEY_ID = "encrypt.kms.key.id"
DEK_ALGORITHM = "encrypt.dek.algorithm"
DEK_EXPIRY_DAYS = "encrypt.dek.expiry.days"
ALTERNATE_KMS_KEY_IDS = "encrypt.alternate.kms.key.ids"
_DAY = 24 * 60 * 60
_EMPTY = b""

_drivers_lock = threading.Lock()
_local_driver_registered = False


def _register_local_kms() -> None:
    """Register confluent-kafka's local KMS driver once, unless some code already did."""
    global _local_driver_registered
    with _drivers_lock:
        if _local_driver_registered:
            return
        try:
            get_kms_driver("local-kms://")
        except Exception:  # confluent-kafka raises its RuleError when none is registered
            LocalKmsDriver.register()
        _local_driver_registered = True


@dataclass(frozen=True, slots=True)
class _Key:
    version: int
    created: float
    """When the registry made it, in seconds."""
    primitive: Any
    """Tink's AEAD or deterministic AEAD for this DEK."""


def _plain(err: BaseException | None) -> str:
    """An error of Tink or a KMS SDK in a few words: Tink's carry BoringSSL's internals
    (addresses, C file names) over several lines."""
    text = str(err).strip()
    if "Authentication failed" in text:
        return "authentication failed"
    return " ".join(text.split())[:200]


def _close_client(client: Any) -> None:
    client.__exit__()


class KeyRing:
    """The keys of one serde: KEKs and DEKs from the DEK registry, KMS clients made from
    ``kms_config`` (``{"secret": ...}`` for ``local-kms``; else ``LOCAL_SECRET``), Tink
    primitives made once per DEK."""

    def __init__(
        self,
        registry_config: Mapping[str, Any],
        kms_config: Mapping[str, str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        _register_local_kms()
        self._deks = DekRegistryClient(dict(registry_config))
        # Closed with the serde, or when the key ring is collected: a serde that is never
        # closed must not leave its HTTP connections open.
        self._finalizer = weakref.finalize(self, _close_client, self._deks)
        self._kms_config = dict(kms_config)
        self._clock = clock
        self._lock = threading.Lock()
        self._keks: dict[str, Kek] = {}
        self._kms: dict[tuple[str, str], Any] = {}
        self._keys: dict[tuple[str, str, str, int], _Key] = {}
        self._newest: dict[tuple[str, str, str], _Key] = {}

    def close(self) -> None:
        """Close the DEK registry client."""
        self._finalizer()

    def cipher(self, params: Mapping[str, str], subject: str) -> Cipher:
        """The cipher of an ENCRYPT rule with ``params`` for messages of ``subject``."""
        name = params.get(KEK_NAME)
        if not name:
            raise RuleFailure(f"the rule has no {KEK_NAME}")
        algorithm = params.get(DEK_ALGORITHM, "AES256_GCM")
        if algorithm not in DekAlgorithm.__members__:
            raise RuleFailure(
                f'{DEK_ALGORITHM} "{algorithm}" is not one of AES128_GCM, AES256_GCM, AES256_SIV'
            )
        expiry = params.get(DEK_EXPIRY_DAYS, "0")
        if not expiry.isascii() or not expiry.isdigit():
            raise RuleFailure(f'{DEK_EXPIRY_DAYS} "{expiry}" is not a whole number of days')
        return Cipher(self, params, name, subject, DekAlgorithm[algorithm], int(expiry))

    # -- KEKs, DEKs and the KMS ------------------------------------------------------

    def kek(self, name: str, params: Mapping[str, str], *, write: bool) -> Kek:
        """The KEK ``name``; on write, registered first if the registry lacks it."""
        kek = self._keks.get(name)
        if kek is None:
            kek = self._fetch_kek(name, params, write=write)
            kms_type, key_id = params.get(KMS_TYPE), params.get(KMS_KEY_ID)
            if kms_type and kek.kms_type != kms_type:
                raise RuleFailure(
                    f'KEK "{name}" is of KMS type "{kek.kms_type}", the rule says "{kms_type}"'
                )
            if key_id and kek.kms_key_id != key_id:
                raise RuleFailure(f'KEK "{name}" has another KMS key id than the rule names')
            self._keks[name] = kek
        return kek

    def _fetch_kek(self, name: str, params: Mapping[str, str], *, write: bool) -> Kek:
        try:
            return self._deks.get_kek(name)
        except SchemaRegistryError as err:
            if err.http_status_code != 404:
                raise RuleFailure(f'cannot read KEK "{name}": {err}') from err
        kms_type, key_id = params.get(KMS_TYPE), params.get(KMS_KEY_ID)
        if not write:
            raise RuleFailure(f'no KEK "{name}" in the DEK registry')
        if not kms_type or not key_id:
            raise RuleFailure(
                f'no KEK "{name}" in the DEK registry, and the rule lacks {KMS_TYPE} or '
                f"{KMS_KEY_ID} to register it"
            )
        try:
            return self._deks.register_kek(name, kms_type, key_id, False)
        except SchemaRegistryError as err:
            if err.http_status_code != 409:  # 409: another writer registered it first
                raise RuleFailure(f'cannot register KEK "{name}": {err}') from err
        return self._deks.get_kek(name)

    def _kms_aead(self, kek: Kek, params: Mapping[str, str]) -> list[Any]:
        """The KMS AEADs that may unwrap DEKs of ``kek``: its key, then its alternates."""
        props = dict(kek.kms_props.properties) if kek.kms_props is not None else {}
        alternates = props.get(ALTERNATE_KMS_KEY_IDS) or self._kms_config.get(
            ALTERNATE_KMS_KEY_IDS, ""
        )
        ids = [kek.kms_key_id or "", *(i.strip() for i in alternates.split(",") if i.strip())]
        found = []
        for key_id in ids:
            url = f"{kek.kms_type}://{key_id}"
            cached = self._kms.get((url, kek.name or ""))
            if cached is None:
                config = {**self._kms_config, **props}
                if kek.kms_type == "local-kms":
                    secret = config.get("secret", os.environ.get("LOCAL_SECRET"))
                    if not secret:
                        raise RuleFailure(
                            f'KEK "{kek.name}" is in the local KMS, and no secret is set: '
                            'give RuleOptions(kms={"secret": ...}) or set LOCAL_SECRET'
                        )
                try:
                    client = get_kms_driver(url).new_kms_client(config, url)
                    cached = client.get_aead(url)
                except Exception as err:  # drivers raise Tink's and their SDK's errors
                    raise RuleFailure(
                        f'cannot reach the KMS of KEK "{kek.name}": {_plain(err)}'
                    ) from err
                self._kms[(url, kek.name or "")] = cached
            found.append(cached)
        return found

    def _unwrap(self, kek: Kek, dek: Dek, params: Mapping[str, str]) -> bytes:
        plain = dek.get_key_material_bytes()  # a shared KEK: the registry unwrapped it
        if plain is not None:
            return plain
        wrapped = dek.get_encrypted_key_material_bytes()
        if wrapped is None:
            raise RuleFailure(f'DEK of KEK "{kek.name}" has no key material')
        last: Exception | None = None
        for kms in self._kms_aead(kek, params):
            try:
                return bytes(kms.decrypt(wrapped, _EMPTY))
            except Exception as err:  # Tink raises TinkError; SDKs their own
                last = err
        raise RuleFailure(
            f'the KMS key of KEK "{kek.name}" does not open its DEK (another secret or key '
            f"than the one that wrapped it): {_plain(last)}"
        )

    def _wrap(self, kek: Kek, raw: bytes, params: Mapping[str, str]) -> bytes:
        last: Exception | None = None
        for kms in self._kms_aead(kek, params):
            try:
                return bytes(kms.encrypt(raw, _EMPTY))
            except Exception as err:  # Tink raises TinkError; SDKs their own
                last = err
        raise RuleFailure(f'the KMS of KEK "{kek.name}" cannot wrap a new DEK: {_plain(last)}')

    def key(self, cipher: Cipher, version: int) -> _Key:
        """The DEK ``version`` of the cipher's KEK and subject, to read with."""
        ident = (cipher.kek_name, cipher.subject, cipher.algorithm.value, version)
        key = self._keys.get(ident)
        if key is None:
            kek = self.kek(cipher.kek_name, cipher.params, write=False)
            try:
                dek = self._deks.get_dek(
                    cipher.kek_name, cipher.subject, cipher.algorithm, version, deleted=True
                )
            except SchemaRegistryError as err:
                raise RuleFailure(
                    f'no DEK version {version} of KEK "{cipher.kek_name}" for subject '
                    f'"{cipher.subject}": {err}'
                ) from err
            key = self._keys[ident] = self._make(cipher, kek, dek)
        return key

    def newest(self, cipher: Cipher) -> _Key:
        """The DEK to write with: the newest, or a new one when there is none or, with
        rotation, when the newest expired."""
        ident = (cipher.kek_name, cipher.subject, cipher.algorithm.value)
        key = self._newest.get(ident)
        if key is not None and not self._expired(cipher, key):
            return key
        with self._lock:
            key = self._newest.get(ident)
            if key is None or self._expired(cipher, key):
                key = self._newest[ident] = self._newest_from_registry(cipher, key)
        return key

    def _expired(self, cipher: Cipher, key: _Key) -> bool:
        days = cipher.expiry_days
        return days > 0 and (self._clock() - key.created) / _DAY > days

    def _newest_from_registry(self, cipher: Cipher, known: _Key | None) -> _Key:
        kek = self.kek(cipher.kek_name, cipher.params, write=True)
        version = -1 if cipher.expiry_days > 0 else 1
        dek: Dek | None
        try:
            dek = self._deks.get_dek(cipher.kek_name, cipher.subject, cipher.algorithm, version)
            if not dek.encrypted_key_material and not dek.key_material:
                dek = None
        except SchemaRegistryError as err:
            if err.http_status_code != 404:
                raise RuleFailure(f'cannot read the DEK of KEK "{kek.name}": {err}') from err
            dek = None
        if dek is not None:
            key = self._make(cipher, kek, dek)
            if not self._expired(cipher, key):
                return key
            known = key
        new_version = known.version + 1 if known is not None else 1
        wrapped: str | None = None
        if not kek.shared:
            raw = cipher.cryptor.generate_key()
            wrapped = base64.b64encode(self._wrap(kek, raw, cipher.params)).decode()
        try:
            dek = self._deks.register_dek(
                cipher.kek_name,
                cipher.subject,
                wrapped,  # type: ignore[arg-type]  # None for a shared KEK, as confluent's does
                cipher.algorithm,
                new_version,
            )
        except SchemaRegistryError as err:
            if err.http_status_code != 409:  # 409: another writer made this version first
                raise RuleFailure(f'cannot register a DEK of KEK "{kek.name}": {err}') from err
            dek = self._deks.get_dek(cipher.kek_name, cipher.subject, cipher.algorithm, new_version)
        return self._make(cipher, kek, dek)

    def _make(self, cipher: Cipher, kek: Kek, dek: Dek) -> _Key:
        raw = self._unwrap(kek, dek, cipher.params)
        key_data = tink_pb2.KeyData(
            type_url=cipher.cryptor.key_template.type_url,
            value=raw,
            key_material_type=tink_pb2.KeyData.SYMMETRIC,
        )
        kind = daead.DeterministicAead if cipher.cryptor.is_deterministic else aead.Aead
        try:
            primitive = Registry().primitive(key_data, kind)
        except Exception as err:  # Tink refuses key material that is not a key of its type
            raise RuleFailure(
                f'the DEK of KEK "{kek.name}" is not a {cipher.algorithm.value} key'
            ) from err
        version = dek.version or 1
        key = _Key(version, (dek.ts or 0) / 1000, primitive)
        self._keys[(cipher.kek_name, cipher.subject, cipher.algorithm.value, version)] = key
        return key


class Cipher:
    """Encrypts and decrypts the values of one ENCRYPT rule for one subject."""

    __slots__ = (
        "_ring",
        "algorithm",
        "cryptor",
        "expiry_days",
        "kek_name",
        "params",
        "subject",
    )

    def __init__(
        self,
        ring: KeyRing,
        params: Mapping[str, str],
        kek_name: str,
        subject: str,
        algorithm: Any,
        expiry_days: int,
    ) -> None:
        self._ring = ring
        self.params = params
        self.kek_name = kek_name
        self.subject = subject
        self.algorithm = algorithm
        self.expiry_days = expiry_days
        self.cryptor = Cryptor(algorithm)

    def encrypt(self, leaf: Leaf, value: Any) -> Any:
        """``value`` of ``leaf`` encrypted: base64 text for a string, bytes for bytes."""
        if leaf.type == "string":
            plain = value.encode()
        elif leaf.type == "bytes":
            plain = bytes(value)
        else:
            raise RuleFailure(
                f"{leaf.full_name}: a {leaf.type} cannot be encrypted, only a string or bytes"
            )
        key = self._ring.newest(self)
        if self.cryptor.is_deterministic:
            sealed = key.primitive.encrypt_deterministically(plain, _EMPTY)
        else:
            sealed = key.primitive.encrypt(plain, _EMPTY)
        if self.expiry_days > 0:
            sealed = b"\x00" + key.version.to_bytes(4, "big") + sealed
        return base64.b64encode(sealed).decode() if leaf.type == "string" else sealed

    def decrypt(self, leaf: Leaf, value: Any) -> Any:
        """``value`` of ``leaf`` decrypted."""
        if leaf.type == "string":
            try:
                sealed = base64.b64decode(value, validate=True)
            except ValueError as err:
                raise RuleFailure(f"{leaf.full_name}: not the base64 of a ciphertext") from err
        elif leaf.type == "bytes":
            sealed = bytes(value)
        else:
            raise RuleFailure(f"{leaf.full_name}: a {leaf.type} cannot be decrypted")
        version = 1
        if self.expiry_days > 0:
            if len(sealed) < 5:
                raise RuleFailure(f"{leaf.full_name}: the ciphertext has no key version")
            version = int.from_bytes(sealed[1:5], "big")
            sealed = sealed[5:]
        key = self._ring.key(self, version)
        try:
            if self.cryptor.is_deterministic:
                plain = key.primitive.decrypt_deterministically(sealed, _EMPTY)
            else:
                plain = key.primitive.decrypt(sealed, _EMPTY)
        except Exception as err:  # Tink's TinkError: a wrong key or damaged ciphertext
            raise RuleFailure(
                f"{leaf.full_name}: cannot decrypt: the ciphertext was altered, or was not "
                f"sealed with DEK version {version} ({_plain(err)})"
            ) from err
        if leaf.type == "string":
            try:
                return plain.decode()
            except UnicodeDecodeError as err:
                raise RuleFailure(f"{leaf.full_name}: the plaintext is not UTF-8") from err
        return plain
