"""The config and mode endpoints of the REST API: compatibility levels and modes by subject.

:class:`Settings` holds them over the store; :class:`~somacontracts.server.service.Registry`
extends it and reads a subject's level and mode through it. Rules followed, as Confluent
does: a subject without its own level or mode has the global one (``BACKWARD`` and
``READWRITE`` unless set); ``IMPORT`` mode may be set only where no subject has versions,
unless forced.
"""

from __future__ import annotations

from typing import Any

from somacontracts.compat.levels import CompatibilityLevel
from somacontracts.server import errors
from somacontracts.server.requests import check_subject, request_object
from somacontracts.server.store import GLOBAL, RegistryStore

__all__ = ["DEFAULT_COMPATIBILITY", "DEFAULT_MODE", "MODES", "Settings"]

DEFAULT_COMPATIBILITY = CompatibilityLevel.BACKWARD
DEFAULT_MODE = "READWRITE"
MODES = ("READWRITE", "READONLY", "IMPORT")


class Settings:
    """Confluent Schema Registry's config and mode operations over a :class:`RegistryStore`."""

    def __init__(self, store: RegistryStore) -> None:
        self.store = store

    def get_config(self, subject: str | None, *, default_to_global: bool = False) -> dict[str, str]:
        """``GET /config`` and ``GET /config/{subject}``."""
        with self.store.reading():
            if subject is None:
                return {"compatibilityLevel": self._global_level()}
            level = self.store.compatibility(subject)
            if level is None:
                if not default_to_global:
                    raise errors.subject_compatibility_not_configured(subject)
                level = self._global_level()
            return {"compatibilityLevel": level}

    def set_config(self, subject: str | None, body: Any) -> dict[str, str]:
        """``PUT /config`` and ``PUT /config/{subject}``."""
        if subject is not None:
            check_subject(subject)
        request = request_object(body)
        value = request.get("compatibility", request.get("compatibilityLevel"))
        try:
            level = CompatibilityLevel(str(value).upper()) if isinstance(value, str) else None
        except ValueError:
            level = None
        if level is None:
            raise errors.invalid_compatibility_level()
        with self.store.transaction():
            if subject is not None:
                self._check_writable(subject)
            self.store.set_compatibility(GLOBAL if subject is None else subject, level.value)
        return {"compatibility": level.value}

    def delete_config(self, subject: str | None) -> dict[str, str]:
        """``DELETE /config`` and ``DELETE /config/{subject}``: the level removed."""
        with self.store.transaction():
            if subject is None:
                old = self._global_level()
                self.store.set_compatibility(GLOBAL, None)
                return {"compatibilityLevel": old}
            level = self.store.compatibility(subject)
            if level is None:
                if not self.store.versions(subject):
                    raise errors.subject_not_found(subject)
                raise errors.subject_compatibility_not_configured(subject)
            self.store.set_compatibility(subject, None)
            return {"compatibilityLevel": level}

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

    def _global_level(self) -> str:
        return self.store.compatibility(GLOBAL) or DEFAULT_COMPATIBILITY.value

    def _level(self, subject: str) -> CompatibilityLevel:
        return CompatibilityLevel(self.store.compatibility(subject) or self._global_level())

    def _mode(self, subject: str) -> str:
        return self.store.mode(subject) or self.store.mode(GLOBAL) or DEFAULT_MODE

    def _check_writable(self, subject: str) -> None:
        if self._mode(subject) == "READONLY":
            raise errors.operation_not_permitted(f"Subject {subject} is in read-only mode")
