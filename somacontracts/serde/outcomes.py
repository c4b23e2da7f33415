"""How a Data Contract rule's run on a message ends, shared by the rule engine
(:mod:`somacontracts.serde.rules`) and the code of the rules it runs (encryption,
migrations, executors): a rule's own failure, and the refusal the engine raises for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from somacontracts.errors import RuleError

__all__ = ["Failure", "RuleFailure", "RuleRefusal", "one_line"]

E = TypeVar("E", bound=RuleError)


@dataclass(frozen=True, slots=True)
class Failure:
    """A rule that failed on a message, and what its ``onFailure`` asks for."""

    rule: str
    action: str
    """``ERROR`` or ``DLQ``: refuse the message, or refuse it for the dead-letter topic."""
    reason: str

    def message(self) -> str:
        """One line for the serde's error (an executor's error may span several)."""
        return f'rule "{self.rule}" failed: {one_line(self.reason)}'

    def error(self, kind: type[E], label: str, topic: str | None) -> E:
        """The serde's error for this failure: ``kind`` (``WriteRuleError`` or
        ``ReadRuleError``) naming the model ``label``."""
        return kind(f"{label}: {self.message()}", topic=topic, dead_letter=self.action == "DLQ")


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line (its lines joined), cut at ``limit`` characters."""
    joined = " ".join(part.strip() for part in text.splitlines() if part.strip())
    return joined if len(joined) <= limit else joined[: limit - 3] + "..."


class RuleFailure(Exception):  # noqa: N818 - reported through the rule's onFailure
    """Raised by a rule's own code when it cannot do its work on a message; the rule's
    ``onFailure`` decides what follows."""


class RuleRefusal(Exception):  # noqa: N818 - carries a Failure out of the engine
    """Raised by :meth:`Rules.apply` when a rule refuses the message."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message())
        self.failure = failure
