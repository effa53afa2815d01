"""The rules that turn a commitment's assessments into its status and progress, and roll
progress up the commitment tree, in Python. Pure functions: the callers feed them rows.
progress.sql states the same rules for the database; tests/progress holds the two equal.

DESIGN §1: the current status is the latest assessment by `as_of` (ties: latest
`assessed_at`) that no other assessment supersedes; a status without a stated percentage
takes its default progress, keeps the last known one, or has none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import NamedTuple, cast

from service.core.vocabularies import ImplementationStatus as Status

DEFAULT_PROGRESS: dict[Status, float] = {
    Status.NOT_STARTED: 0.0,
    Status.INITIATED: 25.0,
    Status.ADVANCED: 60.0,
    Status.COMPLETED: 100.0,
}
# No progress can be stated: nothing is known, or the commitment no longer stands.
HAS_NO_PROGRESS = frozenset({Status.NOT_ASSESSED, Status.SUPERSEDED, Status.CANCELLED})
# A commitment in one of these will not move on: it cannot be overdue.
TERMINAL_STATUSES = frozenset(
    {Status.COMPLETED, Status.NOT_FULFILLED, Status.SUPERSEDED, Status.CANCELLED}
)
# Only the assessor can say how far a partial completion went.
NEEDS_STATED_PROGRESS = frozenset({Status.PARTIALLY_COMPLETED})


def is_overdue(due_by: date | None, status: Status, on: date) -> bool:
    """Overdue on the day `on`: its due period ended before that day (`due_by` is the
    period's last day) and it stands in no terminal status. progress.sql.overdue_on states
    it for the database."""
    return due_by is not None and due_by < on and is_live_status(status)


def is_live_status(status: Status) -> bool:
    """A status a commitment can still move on from: not terminal. progress.sql states it
    for the database."""
    return status not in TERMINAL_STATUSES


class AssessmentFact(NamedTuple):
    id: int
    status: Status
    progress_pct: float | None
    as_of: date
    assessed_at: datetime
    supersedes_id: int | None


class CommitmentState(NamedTuple):
    status: Status
    progress: float | None
    assessment_id: int | None


NOT_ASSESSED = CommitmentState(Status.NOT_ASSESSED, None, None)


def in_rule_order(
    facts: Iterable[AssessmentFact], as_of: date | None = None
) -> tuple[set[int], list[AssessmentFact]]:
    """The ids of the corrected (superseded) assessments, and the standing ones dated on or
    before `as_of` (any date when None) in the order they apply, the last one holding: by
    `as_of`, ties by the latest `assessed_at`, then by id (progress.sql.rule_order).
    A corrected assessment is ignored at every date: it was wrong."""
    facts = list(facts)
    corrected = {fact.supersedes_id for fact in facts if fact.supersedes_id is not None}
    standing = sorted(
        (
            fact
            for fact in facts
            if fact.id not in corrected and (as_of is None or fact.as_of <= as_of)
        ),
        key=lambda fact: (fact.as_of, fact.assessed_at, fact.id),
    )
    return corrected, standing


def state_from_assessments(
    facts: Iterable[AssessmentFact], as_of: date | None = None
) -> CommitmentState:
    """The status and progress the assessments give, now or on the date `as_of`."""
    return states_on(facts, [date.max if as_of is None else as_of])[0]


def states_on(facts: Iterable[AssessmentFact], dates: Sequence[date]) -> list[CommitmentState]:
    """The state on each of these dates, ascending: state_from_assessments on each, in one
    walk through the standing assessments (those dated on or before a date come first in
    rule order, so each date's are the previous date's and the next few). A date whose
    state is the previous one's gets the same object."""
    _corrected, standing = in_rule_order(facts)
    found: list[CommitmentState] = []
    state = NOT_ASSESSED
    progress: float | None = None
    applied = 0
    for when in dates:
        if applied < len(standing) and standing[applied].as_of <= when:
            while applied < len(standing) and standing[applied].as_of <= when:
                fact = standing[applied]
                progress = progress_after(fact.status, fact.progress_pct, progress)
                applied += 1
            latest = standing[applied - 1]
            state = CommitmentState(latest.status, progress, latest.id)
        found.append(state)
    return found


def effective_progress(facts: Iterable[AssessmentFact]) -> dict[int, float | None]:
    """Each standing assessment's progress once the rules are applied, in date order; a
    corrected one has none. The current progress is the latest one's."""
    corrected, standing = in_rule_order(facts)
    result: dict[int, float | None] = {fact_id: None for fact_id in corrected}
    progress: float | None = None
    for fact in standing:
        progress = progress_after(fact.status, fact.progress_pct, progress)
        result[fact.id] = progress
    return result


# A commitment no longer stands: its indicators cannot give it a progress either.
NO_LONGER_STANDS = frozenset({Status.SUPERSEDED, Status.CANCELLED})


def driven_state(state: CommitmentState, from_indicators: float | None) -> CommitmentState:
    """The state of a commitment whose indicators drive its progress: its assessments'
    status, and its indicators' progress (`from_indicators`, progress.indicators.
    commitment_indicators_progress) in place of theirs, unless it no longer stands; where
    none of its indicators' progress is known, its assessments' progress stands."""
    if from_indicators is None or state.status in NO_LONGER_STANDS:
        return state
    return state._replace(progress=from_indicators)


def progress_after(status: Status, stated: float | None, last_known: float | None) -> float | None:
    if status in HAS_NO_PROGRESS:
        return None
    if stated is not None:
        return stated
    if status in DEFAULT_PROGRESS:
        return DEFAULT_PROGRESS[status]
    # Stalled, suspended, not fulfilled, or partly completed with no figure: progress stays
    # where the last assessment left it.
    return last_known


class TreeNode(NamedTuple):
    id: int
    parent_id: int | None
    weight: float
    own_progress: float | None


def weighs_in(value: float | None, weight: float) -> bool:
    """Whether a value counts in a weighted mean: it is known and its weight is positive."""
    return value is not None and weight > 0


def weighted_mean(values: Iterable[tuple[float | None, float]]) -> float | None:
    """Mean of the known values by weight; None when no value is known (or all weigh 0)."""
    known = [(cast(float, value), weight) for value, weight in values if weighs_in(value, weight)]
    total = sum(weight for _value, weight in known)
    if not known or total <= 0:
        return None
    # Not rounded: a parent's progress feeds its own parent, and progress.sql redoes this sum
    # for the statistics; both must agree to the last place.
    return sum(value * weight for value, weight in known) / total


def roll_up(nodes: Sequence[TreeNode]) -> dict[int, float | None]:
    """Each node's progress: the weighted mean of its children's, where any child's is known
    (a child with no assessment is left out, never counted as 0); otherwise its own."""
    children: dict[int | None, list[TreeNode]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    result: dict[int, float | None] = {}
    # The nodes on the way down to the one being computed: a child among them (a cycle,
    # which the writes refuse) is left out rather than followed for ever.
    on_path: set[int] = set()

    def progress_of(node: TreeNode) -> float | None:
        if node.id in result:
            return result[node.id]
        on_path.add(node.id)
        # weighted_mean written out: it runs for every node of a tree on every write.
        total = weights = 0.0
        known = False
        for kid in children.get(node.id, ()):
            if kid.id in on_path:
                continue
            value = progress_of(kid)
            if value is not None and kid.weight > 0:
                total += value * kid.weight
                weights += kid.weight
                known = True
        on_path.discard(node.id)
        rolled = total / weights if known and weights > 0 else None
        result[node.id] = rolled if rolled is not None else node.own_progress
        return result[node.id]

    for node in nodes:
        progress_of(node)
    return result


def tree_depths(nodes: Sequence[TreeNode]) -> dict[int, int]:
    """Each node's level: 0 at the top, 1 under it..."""
    parent = {node.id: node.parent_id for node in nodes}
    depths: dict[int, int] = {}

    def depth_of(node_id: int) -> int:
        if node_id not in depths:
            above = parent.get(node_id)
            depths[node_id] = 0 if above is None or above not in parent else depth_of(above) + 1
        return depths[node_id]

    for node in nodes:
        depth_of(node.id)
    return depths


def agreement_progress(
    nodes: Sequence[TreeNode], progress: dict[int, float | None]
) -> float | None:
    """An agreement's progress: the weighted mean over its top-level commitments."""
    ids = {node.id for node in nodes}
    top_level = [node for node in nodes if node.parent_id is None or node.parent_id not in ids]
    return weighted_mean((progress[node.id], node.weight) for node in top_level)
