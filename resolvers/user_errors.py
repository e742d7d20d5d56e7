"""The userErrors of mutation payloads, as plain data (no GraphQL import: the import's reader process uses them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class UserErrorData:
    """A mutation's complaint about its input: `field` is the path to the bad value."""

    message: str
    code: str
    field: list[str] | None = None


@dataclass
class UserErrors:
    """Collects a mutation's userErrors; a mutation writes nothing while it holds any."""

    errors: list[UserErrorData] = field(default_factory=list)

    def add(self, code: str, message: str, *path: str | int) -> None:
        self.errors.append(UserErrorData(message=message, code=code, field=[str(p) for p in path] or None))

    def __bool__(self) -> bool:
        return bool(self.errors)

    def extend(self, others: Sequence[UserErrorData]) -> None:
        self.errors.extend(others)
