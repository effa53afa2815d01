"""The status and progress rules of DESIGN §1, as pure functions."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest

from service.core.vocabularies import ImplementationStatus as Status
from service.progress.rules import (
    AssessmentFact,
    TreeNode,
    agreement_progress,
    roll_up,
    state_from_assessments,
    weighted_mean,
)

MORNING = datetime(2024, 3, 5, 9, tzinfo=UTC)
EVENING = datetime(2024, 3, 5, 18, tzinfo=UTC)


def fact(
    id: int,
    status: Status,
    as_of: str,
    *,
    pct: float | None = None,
    at: datetime = MORNING,
    supersedes: int | None = None,
) -> AssessmentFact:
    return AssessmentFact(id, status, pct, date.fromisoformat(as_of), at, supersedes)


def test_no_assessment_is_not_assessed_never_not_started() -> None:
    state = state_from_assessments([])
    assert state.status is Status.NOT_ASSESSED
    assert state.progress is None
    assert state.assessment_id is None


def test_the_latest_by_as_of_wins_not_the_latest_entered() -> None:
    facts = [fact(1, Status.ADVANCED, "2024-06-01"), fact(2, Status.INITIATED, "2024-03-01")]
    assert state_from_assessments(facts).status is Status.ADVANCED


def test_on_the_same_as_of_the_latest_assessed_at_wins() -> None:
    facts = [
        fact(1, Status.ADVANCED, "2024-03-01", at=EVENING),
        fact(2, Status.INITIATED, "2024-03-01"),
    ]
    assert state_from_assessments(facts).assessment_id == 1


def test_a_superseded_assessment_is_ignored_at_every_date() -> None:
    facts = [
        fact(1, Status.COMPLETED, "2024-03-01"),
        fact(2, Status.INITIATED, "2024-01-01"),
        fact(3, Status.ADVANCED, "2024-03-01", supersedes=1),
    ]
    assert state_from_assessments(facts).assessment_id == 3
    # Before the correction's date, the wrong assessment still does not count.
    assert state_from_assessments(facts, date(2024, 3, 2)).status is Status.ADVANCED
    assert state_from_assessments(facts, date(2024, 2, 1)).status is Status.INITIATED


@pytest.mark.parametrize(
    ("when", "status"),
    [
        ("2023-12-31", Status.NOT_ASSESSED),
        ("2024-01-01", Status.INITIATED),
        ("2024-05-31", Status.INITIATED),
        ("2024-06-01", Status.COMPLETED),
    ],
)
def test_status_as_of_a_date(when: str, status: Status) -> None:
    facts = [fact(1, Status.INITIATED, "2024-01-01"), fact(2, Status.COMPLETED, "2024-06-01")]
    assert state_from_assessments(facts, date.fromisoformat(when)).status is status


@pytest.mark.parametrize(
    ("status", "progress"),
    [
        (Status.NOT_STARTED, 0),
        (Status.INITIATED, 25),
        (Status.ADVANCED, 60),
        (Status.COMPLETED, 100),
    ],
)
def test_default_progress_of_each_status(status: Status, progress: float) -> None:
    assert state_from_assessments([fact(1, status, "2024-01-01")]).progress == progress


def test_a_stated_percentage_overrides_the_default() -> None:
    assert state_from_assessments([fact(1, Status.ADVANCED, "2024-01-01", pct=70)]).progress == 70


@pytest.mark.parametrize("stalled", [Status.STALLED, Status.SUSPENDED, Status.NOT_FULFILLED])
def test_stalled_suspended_and_not_fulfilled_keep_the_last_known_progress(stalled: Status) -> None:
    facts = [fact(1, Status.ADVANCED, "2024-01-01", pct=40), fact(2, stalled, "2024-06-01")]
    state = state_from_assessments(facts)
    assert state.status is stalled
    assert state.progress == 40


@pytest.mark.parametrize("ended", [Status.SUPERSEDED, Status.CANCELLED, Status.NOT_ASSESSED])
def test_superseded_cancelled_and_not_assessed_have_no_progress(ended: Status) -> None:
    facts = [fact(1, Status.ADVANCED, "2024-01-01"), fact(2, ended, "2024-06-01")]
    assert state_from_assessments(facts).progress is None


def test_partially_completed_takes_the_stated_progress() -> None:
    assert (
        state_from_assessments([fact(1, Status.PARTIALLY_COMPLETED, "2024-01-01", pct=45)]).progress
        == 45
    )


def test_weighted_mean_leaves_out_unknown_values_and_zero_weights() -> None:
    assert weighted_mean([(100, 3), (20, 1)]) == 80
    assert weighted_mean([(100, 1), (None, 5)]) == 100
    assert weighted_mean([(None, 1)]) is None
    assert weighted_mean([(50, 0)]) is None


def test_roll_up_uses_the_children_then_the_node_itself() -> None:
    nodes = [
        TreeNode(1, None, 1, 10),  # has children: their mean counts, not its own 10
        TreeNode(2, 1, 1, 100),
        TreeNode(3, 1, 3, 20),
        TreeNode(4, None, 1, 50),  # a leaf: its own
        TreeNode(5, None, 2, None),  # unassessed leaf: unknown, left out of the agreement
        TreeNode(6, 5, 1, None),
    ]
    progress = roll_up(nodes)
    assert progress[1] == 40  # (100*1 + 20*3) / 4
    assert progress[4] == 50
    assert progress[5] is None
    assert agreement_progress(nodes, progress) == 45  # (40*1 + 50*1) / 2


def test_roll_up_goes_through_every_level() -> None:
    nodes = [
        TreeNode(1, None, 1, None),
        TreeNode(2, 1, 1, None),
        TreeNode(3, 2, 1, 60),
        TreeNode(4, 2, 1, 100),
    ]
    assert roll_up(nodes) == {1: 80, 2: 80, 3: 60, 4: 100}


def _roll_up_by_definition(nodes: list[TreeNode]) -> dict[int, float | None]:
    """The rule as first written, one weighted_mean per node: what roll_up must equal."""
    children: dict[int | None, list[TreeNode]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    by_id = {node.id: node for node in nodes}
    result: dict[int, float | None] = {}

    def progress_of(node_id: int, path: frozenset[int]) -> float | None:
        if node_id not in result:
            kids = [kid for kid in children.get(node_id, []) if kid.id not in path]
            rolled = weighted_mean(
                (progress_of(kid.id, path | {kid.id}), kid.weight) for kid in kids
            )
            result[node_id] = rolled if rolled is not None else by_id[node_id].own_progress
        return result[node_id]

    for node in nodes:
        progress_of(node.id, frozenset({node.id}))
    return result


@pytest.mark.parametrize("seed", range(40))
def test_roll_up_equals_the_rule_to_the_last_place(seed: int) -> None:
    """Random trees (and, for some seeds, a cycle the writes would refuse), with unknown
    progress and zero weights: the same values, bit for bit."""
    rng = random.Random(seed)
    nodes = []
    for node_id in range(1, 80):
        parent = rng.choice([None, *range(1, node_id)]) if node_id > 1 else None
        if seed % 4 == 0 and node_id == 3:
            parent = 40  # a cycle through 3 and 40's ancestors, when 40 is 3's descendant
        progress = rng.choice([None, 0.0, 12.5, rng.uniform(0, 100), 100.0])
        nodes.append(TreeNode(node_id, parent, rng.choice([0.0, 1.0, 0.3, 2.5]), progress))
    assert roll_up(nodes) == _roll_up_by_definition(nodes)
