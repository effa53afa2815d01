"""What the jobs' list takes: the filters its query schema loads, typed
(tests/unit/test_inputs.py holds the type to its schema)."""

from __future__ import annotations

from typing import TypedDict

from service.core.vocabularies import JobKind, JobState


class JobFilters(TypedDict, total=False):
    state: JobState
    kind: JobKind
