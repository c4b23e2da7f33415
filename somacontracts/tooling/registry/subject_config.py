"""The config and mode endpoints of the REST API: compatibility levels and modes by subject.

:class:`SubjectConfigs` holds them over the store;
:class:`~somacontracts.tooling.registry.service.Registry`
extends it and reads a subject's level and mode through it. Rules followed, as Confluent
does: a subject without its own level or mode has the global one (``BACKWARD`` and
``READWRITE`` unless set); ``IMPORT`` mode may be set only where no subject has versions,
unless forced.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from somacontracts.compat.levels import CompatibilityLevel
from somacontracts.errors import InvalidSchemaError
from somacontracts.schema.datacontract import contract_parts, merge_metadata, merge_rule_sets
from somacontracts.tooling.registry import errors
from somacontracts.tooling.registry.arguments import check_subject, request_object
from somacontracts.tooling.registry.store import GLOBAL, RegistryStore

__all__ = ["DEFAULT_COMPATIBILITY", "DEFAULT_MODE", "MODES", "SubjectConfigs"]

DEFAULT_COMPATIBILITY = CompatibilityLevel.BACKWARD
DEFAULT_MODE = "READWRITE"
MODES = ("READWRITE", "READONLY", "IMPORT")
V = TypeVar("V")


class SubjectConfigs:
    """Confluent Schema Registry's config and mode operations over a :class:`RegistryStore`."""

    def __init__(self, store: RegistryStore) -> None:
        self.store = store

    def get_config(self, subject: str | None, *, default_to_global: bool = False) -> dict[str, Any]:
        """``GET /config`` and ``GET /config/{subject}``: the level and the Data Contract
        settings (``compatibilityGroup``, ``defaultMetadata``, ``overrideMetadata``,
        ``defaultRuleSet``, ``overrideRuleSet``) set there, or with ``defaultToGlobal``
        the global ones where the subject sets none."""
        with self.store.reading():
            if subject is None:
                return {
                    "compatibilityLevel": self._global_level(),
                    **self.store.contract_config(GLOBAL),
                }
            level = self.store.compatibility(subject)
            contract = self.store.contract_config(subject)
            if default_to_global:
                return {
                    "compatibilityLevel": level or self._global_level(),
                    **self.store.contract_config(GLOBAL),
                    **contract,
                }
            if level is None and not contract:
                raise errors.subject_compatibility_not_configured(subject)
            return {**({"compatibilityLevel": level} if level else {}), **contract}

    def set_config(self, subject: str | None, body: Any) -> dict[str, Any]:
        """``PUT /config`` and ``PUT /config/{subject}``: the level, the Data Contract
        settings, or both; a setting given as null is removed."""
        if subject is not None:
            check_subject(subject)
        request = request_object(body)
        value = request.get("compatibility", request.get("compatibilityLevel"))
        level: CompatibilityLevel | None = None
        if value is not None:
            try:
                level = CompatibilityLevel(str(value).upper()) if isinstance(value, str) else None
            except ValueError:
                level = None
            if level is None:
                raise errors.invalid_compatibility_level()
        changes = _contract_settings(request)
        if value is None and "compatibilityGroup" not in request and not changes:
            raise errors.invalid_config(
                "the request sets nothing: give compatibility, compatibilityGroup, "
                "defaultMetadata, overrideMetadata, defaultRuleSet or overrideRuleSet"
            )
        scope = GLOBAL if subject is None else subject
        with self.store.transaction():
            if subject is not None:
                self._check_writable(subject)
            if level is not None:
                self.store.set_compatibility(scope, level.value)
            if changes:
                merged = {**self.store.contract_config(scope), **changes}
                self.store.set_contract_config(
                    scope, {k: v for k, v in merged.items() if v is not None}
                )
        answer: dict[str, Any] = {"compatibility": level.value} if level else {}
        return {**answer, **{k: v for k, v in changes.items() if v is not None}}

    def delete_config(self, subject: str | None) -> dict[str, Any]:
        """``DELETE /config`` and ``DELETE /config/{subject}``: the level and settings
        removed."""
        with self.store.transaction():
            if subject is None:
                old = self._global_level()
                contract = self.store.contract_config(GLOBAL)
                self.store.set_compatibility(GLOBAL, None)
                self.store.set_contract_config(GLOBAL, {})
                return {"compatibilityLevel": old, **contract}
            level = self.store.compatibility(subject)
            contract = self.store.contract_config(subject)
            if level is None and not contract:
                if not self.store.versions(subject):
                    raise errors.subject_not_found(subject)
                raise errors.subject_compatibility_not_configured(subject)
            self.store.set_compatibility(subject, None)
            self.store.set_contract_config(subject, {})
            return {**({"compatibilityLevel": level} if level else {}), **contract}

    def get_mode(self, subject: str | None, *, default_to_global: bool = False) -> dict[str, str]:
        """``GET /mode`` and ``GET /mode/{subject}``."""
        with self.store.reading():
            if subject is None:
                return {"mode": self.store.mode(GLOBAL) or DEFAULT_MODE}
            mode = self.store.mode(subject)
            if mode is None:
                if not default_to_global:
                    raise errors.subject_mode_not_configured(subject)
                mode = self.store.mode(GLOBAL) or DEFAULT_MODE
            return {"mode": mode}

    def set_mode(self, subject: str | None, body: Any, *, force: bool = False) -> dict[str, str]:
        """``PUT /mode`` and ``PUT /mode/{subject}``."""
        if subject is not None:
            check_subject(subject)
        value = request_object(body).get("mode")
        mode = value.upper() if isinstance(value, str) else None
        if mode not in MODES:
            raise errors.invalid_mode(value)
        with self.store.transaction():
            if mode == "IMPORT" and not force:
                if subject is None:
                    taken = bool(self.store.subjects())
                else:
                    taken = bool(self.store.versions(subject))
                if taken:
                    raise errors.operation_not_permitted(
                        "Cannot import since found existing subjects"
                    )
            self.store.set_mode(GLOBAL if subject is None else subject, mode)
        return {"mode": mode}

    def delete_mode(self, subject: str) -> dict[str, str]:
        """``DELETE /mode/{subject}``: the mode removed."""
        with self.store.transaction():
            mode = self.store.mode(subject)
            if mode is None:
                raise errors.subject_mode_not_configured(subject)
            self.store.set_mode(subject, None)
            return {"mode": mode}

    # --- helpers ---------------------------------------------------------------------

    def contract_setting(self, subject: str, name: str) -> Any:
        """A Data Contract setting of ``subject``, else the global one, else None."""
        own = self.store.contract_config(subject).get(name)
        return own if own is not None else self.store.contract_config(GLOBAL).get(name)

    def with_contract_settings(self, subject: str, metadata: Any, rule_set: Any) -> tuple[Any, Any]:
        """A registration's Data Contract parts with the subject's (else the global)
        defaults under them and its overrides over them, as Confluent merges them."""
        setting = functools.partial(self.contract_setting, subject)
        return (
            merge_metadata(setting("defaultMetadata"), metadata, setting("overrideMetadata")),
            merge_rule_sets(setting("defaultRuleSet"), rule_set, setting("overrideRuleSet")),
        )

    def same_group(
        self,
        subject: str,
        metadata: Any,
        versions: list[V],
        metadata_of: Callable[[V], Any],
    ) -> list[V]:
        """The ``versions`` a schema with ``metadata`` is checked against: with a
        ``compatibilityGroup`` set, those whose metadata property of that name has the same
        value (Confluent's compatibility groups: one per major version); else all."""
        group = self.contract_setting(subject, "compatibilityGroup")
        if not group:
            return versions

        def value(found: Any) -> Any:
            return ((found or {}).get("properties") or {}).get(group)

        wanted = value(metadata)
        return [v for v in versions if value(metadata_of(v)) == wanted]

    def _global_level(self) -> str:
        return self.store.compatibility(GLOBAL) or DEFAULT_COMPATIBILITY.value

    def _level(self, subject: str) -> CompatibilityLevel:
        return CompatibilityLevel(self.store.compatibility(subject) or self._global_level())

    def _mode(self, subject: str) -> str:
        return self.store.mode(subject) or self.store.mode(GLOBAL) or DEFAULT_MODE

    def _check_writable(self, subject: str) -> None:
        if self._mode(subject) == "READONLY":
            raise errors.operation_not_permitted(f"Subject {subject} is in read-only mode")


_METADATA_SETTINGS = ("defaultMetadata", "overrideMetadata")
_RULE_SET_SETTINGS = ("defaultRuleSet", "overrideRuleSet")


def _contract_settings(request: Mapping[str, Any]) -> dict[str, Any]:
    """The Data Contract settings a config request gives (None: remove), checked."""
    found: dict[str, Any] = {}
    try:
        for name in _METADATA_SETTINGS:
            if name in request:
                value = request[name]
                found[name] = None if value is None else contract_parts({"metadata": value})[0]
        for name in _RULE_SET_SETTINGS:
            if name in request:
                value = request[name]
                found[name] = None if value is None else contract_parts({"ruleSet": value})[1]
    except InvalidSchemaError as err:
        raise errors.invalid_config(f"{err.reason}") from None
    if "compatibilityGroup" in request:
        group = request["compatibilityGroup"]
        if group is not None and not (
            isinstance(group, str) and 0 < len(group) <= 255 and group.isprintable()
        ):
            raise errors.invalid_config(
                '"compatibilityGroup" must be a metadata property name (1 to 255 printable '
                "characters)"
            )
        found["compatibilityGroup"] = group
    return found
