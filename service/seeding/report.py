"""What a seed load did or would do, record by record and field by field."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

LEFT_ALONE_HINT = "--overwrite-user-changes applies them too"


@dataclass
class SeedDifference:
    """Where one record of the database differs from the seed files."""

    key: str
    action: str  # create, update, remove, re-create
    record_id: int | None = None
    # field -> (in the database, in the seed files)
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    # Why it was not applied: a user's change, kept unless they are overwritten.
    left_alone: str | None = None

    def lines(self) -> list[str]:
        where = f" (id {self.record_id})" if self.record_id is not None else ""
        outcome = f"left alone: {self.left_alone}" if self.left_alone else self.action
        lines = [f"{self.key}{where}: {outcome}"]
        lines += [
            f"    {name}: database {database!r}, seed files {files!r}"
            for name, (database, files) in self.fields.items()
        ]
        return lines


@dataclass
class SeedReport:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    removed: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    differences: list[SeedDifference] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether anything was written."""
        return bool(self.created or self.updated or self.removed)

    @property
    def left_alone(self) -> list[SeedDifference]:
        return [difference for difference in self.differences if difference.left_alone]

    def summary(self) -> list[str]:
        kinds = sorted(
            set(self.created) | set(self.updated) | set(self.removed) | set(self.unchanged)
        )
        return [
            f"{kind:<24} created {self.created[kind]:>3}  updated {self.updated[kind]:>3}  "
            f"removed {self.removed[kind]:>3}  unchanged {self.unchanged[kind]:>3}"
            for kind in kinds
        ]

    def difference_lines(self) -> list[str]:
        return [line for difference in self.differences for line in difference.lines()]
