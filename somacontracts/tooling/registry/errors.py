"""The registry's errors: API errors in Confluent's shape, and a database that cannot be used.

:class:`ApiError` carries what the HTTP layer sends: the HTTP status, Confluent's
``error_code`` and the message. Each Confluent code has a constructor here, so that
the codes and their wording live in one place.
"""

from __future__ import annotations

from somacontracts.errors import ContractError

__all__ = [
    "ApiError",
    "RegistryStoreError",
    "incompatible_schema",
    "invalid_compatibility_level",
    "invalid_mode",
    "invalid_schema",
    "invalid_subject",
    "invalid_version",
    "no_version_left",
    "operation_not_permitted",
    "reference_exists",
    "schema_not_found",
    "shown",
    "subject_compatibility_not_configured",
    "subject_mode_not_configured",
    "subject_not_found",
    "subject_not_soft_deleted",
    "subject_soft_deleted",
    "version_not_found",
    "version_not_soft_deleted",
    "version_soft_deleted",
]


class RegistryStoreError(ContractError):
    """Raised when the registry's database file cannot be opened, is corrupt or is locked."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(path, reason)
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        return f"registry database {self.path}: {self.reason}"


class ApiError(ContractError):
    """Raised when a registry request fails; the HTTP layer sends it as Confluent's error body."""

    def __init__(self, status: int, error_code: int, message: str) -> None:
        super().__init__(status, error_code, message)
        self.status = status
        self.error_code = error_code
        self.message = message

    def __str__(self) -> str:
        return f"{self.status} (error code {self.error_code}): {self.message}"

    def body(self) -> dict[str, object]:
        """The JSON body Confluent sends for this error."""
        return {"error_code": self.error_code, "message": self.message}


def shown(value: object, limit: int = 200) -> str:
    """``value`` as a message quotes it: at most ``limit`` characters, cut in the middle."""
    text = str(value)
    if len(text) <= limit:
        return text
    half = (limit - 5) // 2
    return f"{text[:half]} ... {text[-half:]}"


def subject_not_found(subject: str) -> ApiError:
    """40401."""
    return ApiError(404, 40401, f"Subject '{shown(subject)}' not found.")


def version_not_found(version: int | str) -> ApiError:
    """40402."""
    return ApiError(404, 40402, f"Version {shown(version)} not found.")


def schema_not_found(schema_id: int | None = None) -> ApiError:
    """40403."""
    if schema_id is None:
        return ApiError(404, 40403, "Schema not found")
    return ApiError(404, 40403, f"Schema {shown(schema_id)} not found")


def subject_soft_deleted(subject: str) -> ApiError:
    """40404."""
    return ApiError(
        404,
        40404,
        f"Subject '{shown(subject)}' was soft deleted.Set permanent=true to delete permanently",
    )


def subject_not_soft_deleted(subject: str) -> ApiError:
    """40405."""
    return ApiError(
        404,
        40405,
        f"Subject '{shown(subject)}' was not deleted first before being permanently deleted",
    )


def version_soft_deleted(subject: str, version: int) -> ApiError:
    """40406."""
    return ApiError(
        404,
        40406,
        f"Subject '{shown(subject)}' Version {shown(version)} was soft deleted. "
        "Set permanent=true to delete permanently",
    )


def version_not_soft_deleted(subject: str, version: int) -> ApiError:
    """40407."""
    return ApiError(
        404,
        40407,
        f"Subject '{shown(subject)}' Version {shown(version)} was not deleted first before being "
        "permanently deleted",
    )


def subject_compatibility_not_configured(subject: str) -> ApiError:
    """40408."""
    return ApiError(
        404,
        40408,
        f"Subject '{shown(subject)}' does not have subject-level compatibility configured",
    )


def subject_mode_not_configured(subject: str) -> ApiError:
    """40409."""
    return ApiError(
        404, 40409, f"Subject '{shown(subject)}' does not have subject-level mode configured"
    )


def incompatible_schema(subject: str, messages: list[str]) -> ApiError:
    """409, with the verbose messages of the failed check."""
    return ApiError(
        409,
        409,
        "Schema being registered is incompatible with an earlier schema for subject "
        f'"{shown(subject)}", '
        f"details: [{', '.join(messages)}]",
    )


def invalid_schema(reason: str) -> ApiError:
    """42201."""
    return ApiError(422, 42201, f"Invalid schema: {reason}")


def invalid_version(version: str) -> ApiError:
    """42202."""
    return ApiError(
        422,
        42202,
        f"The specified version '{shown(version)}' is not a valid version id. Allowed values are "
        'between [1, 2^31-1] and the string "latest"',
    )


def no_version_left(subject: str, newest: int) -> ApiError:
    """42202: the subject's newest version is the largest a version may have."""
    return ApiError(
        422,
        42202,
        f"Subject '{shown(subject)}' has version {newest}, the largest a version may have "
        "(2^31-1), so a new version would not be a valid version id; delete version "
        f"{newest}, then delete it permanently, to register another",
    )


def invalid_compatibility_level() -> ApiError:
    """42203."""
    return ApiError(
        422,
        42203,
        "Invalid compatibility level. Valid values are none, backward, forward, full, "
        "backward_transitive, forward_transitive, and full_transitive",
    )


def invalid_config(reason: str) -> ApiError:
    """42203: a config that cannot be set (a Data Contract setting of the wrong shape)."""
    return ApiError(422, 42203, f"Invalid config: {reason}")


def invalid_mode(mode: object) -> ApiError:
    """42204."""
    return ApiError(
        422, 42204, f"Invalid mode {shown(mode)}. Valid values are READWRITE, READONLY and IMPORT"
    )


def operation_not_permitted(message: str) -> ApiError:
    """42205."""
    return ApiError(422, 42205, message)


def reference_exists(subject: str, version: int) -> ApiError:
    """42206."""
    return ApiError(
        422,
        42206,
        "One or more references exist to the schema "
        f"{{subject={shown(subject)}, version={version}}}",
    )


def invalid_subject(subject: str) -> ApiError:
    """42208."""
    return ApiError(422, 42208, f"The specified subject '{shown(subject)}' is not valid.")
