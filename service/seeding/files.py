"""Reading the seed files: YAML sections merged in file-name order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class SeedError(ValueError):
    """A seed file is malformed or refers to something that is not there."""


def read_seed_files(directory: Path) -> dict[str, Any]:
    """Merge the YAML files of `directory`, in name order, into one document."""
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise SeedError(f"no seed files (*.yaml) in {directory}")
    merged: dict[str, list[Any]] = {}
    for path in files:
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as error:
            raise SeedError(f"{path.name}: not valid YAML: {error}") from error
        if not isinstance(document, dict):
            raise SeedError(f"{path.name}: expected sections of records at the top level")
        for section, records in document.items():
            merged.setdefault(section, []).extend(records or [])
    return merged
