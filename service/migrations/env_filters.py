"""What autogenerate compares: shared by env.py and the test that models match migrations."""

from __future__ import annotations


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Leave the expression-based full-text indexes out of autogenerate's comparison:
    PostgreSQL reflects their expressions rewritten, so they would always look changed.
    A test checks by name that they exist."""
    return not (type_ == "index" and name is not None and name.endswith("_search"))
