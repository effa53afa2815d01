"""Derived values kept right by the services: status, progress, roll-ups, as-of reads."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.changes.models import ChangeEvent
from service.commitments import services
from service.commitments.models import Commitment
from service.core.errors import Conflict, InvalidInput
from service.core.vocabularies import ImplementationStatus as Status
from tests.builders import make_agreement, make_assessment, make_commitment


def _no_check(_record: object) -> None:
    return None


def test_a_new_commitment_is_not_assessed(session: Session) -> None:
    commitment = make_commitment(session)
    assert commitment.current_status is Status.NOT_ASSESSED
    assert commitment.current_progress is None


def test_an_assessment_sets_status_progress_and_the_agreement_progress(session: Session) -> None:
    agreement = make_agreement(session)
    commitment = make_commitment(session, agreement)
    assessment = make_assessment(session, commitment, status=Status.ADVANCED)
    session.refresh(commitment)
    session.refresh(agreement)
    assert commitment.current_status is Status.ADVANCED
    assert commitment.current_progress == 60
    assert commitment.current_assessment_id == assessment.id
    assert agreement.progress == 60


def test_a_backdated_assessment_does_not_replace_a_later_one(session: Session) -> None:
    commitment = make_commitment(session)
    make_assessment(session, commitment, status=Status.ADVANCED, as_of="2024-06-01")
    make_assessment(session, commitment, status=Status.INITIATED, as_of="2024-01-01")
    session.refresh(commitment)
    assert commitment.current_status is Status.ADVANCED


def test_a_correction_supersedes_the_wrong_assessment(session: Session) -> None:
    commitment = make_commitment(session)
    wrong = make_assessment(session, commitment, status=Status.COMPLETED, as_of="2024-03-04")
    make_assessment(
        session, commitment, status=Status.INITIATED, as_of="2024-03-04", supersedes_id=wrong.id
    )
    session.refresh(commitment)
    assert commitment.current_status is Status.INITIATED
    session.refresh(wrong)
    assert wrong.superseded_by_id is not None


def test_an_assessment_can_be_corrected_only_once(session: Session) -> None:
    commitment = make_commitment(session)
    wrong = make_assessment(session, commitment, status=Status.COMPLETED)
    make_assessment(session, commitment, supersedes_id=wrong.id)
    with pytest.raises(Conflict):
        make_assessment(session, commitment, supersedes_id=wrong.id)


def test_a_correction_must_be_of_the_same_commitment(session: Session) -> None:
    agreement = make_agreement(session)
    other = make_assessment(session, make_commitment(session, agreement))
    with pytest.raises(InvalidInput) as raised:
        make_assessment(session, make_commitment(session, agreement), supersedes_id=other.id)
    assert "supersedes_id" in raised.value.errors


@pytest.mark.parametrize(
    ("status", "progress_pct", "field"),
    [
        (Status.PARTIALLY_COMPLETED, None, "progress_pct"),
        (Status.CANCELLED, 10.0, "progress_pct"),
        (Status.NOT_ASSESSED, 0.0, "progress_pct"),
    ],
)
def test_progress_pct_must_fit_the_status(
    session: Session, status: Status, progress_pct: float | None, field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        make_assessment(session, make_commitment(session), status=status, progress_pct=progress_pct)
    assert field in raised.value.errors


def test_progress_rolls_up_by_weight_to_parents_and_the_agreement(session: Session) -> None:
    agreement = make_agreement(session)
    section = make_commitment(session, agreement, title="Section")
    light = make_commitment(session, agreement, parent_id=section.id, weight=1)
    heavy = make_commitment(session, agreement, parent_id=section.id, weight=3)
    leaf = make_commitment(session, agreement, title="Top-level leaf")
    make_assessment(session, light, status=Status.COMPLETED)
    make_assessment(session, heavy, status=Status.INITIATED)
    make_assessment(session, leaf, status=Status.ADVANCED)
    for record in (section, agreement):
        session.refresh(record)
    assert section.current_progress == 43.75  # (100*1 + 25*3) / 4
    assert section.current_status is Status.NOT_ASSESSED  # its own status: no assessment of it
    assert agreement.progress == 51.875  # (43.75 + 60) / 2


def test_moving_a_commitment_recomputes_both_parents(session: Session) -> None:
    agreement = make_agreement(session)
    first, second = make_commitment(session, agreement), make_commitment(session, agreement)
    child = make_commitment(session, agreement, parent_id=first.id)
    make_assessment(session, child, status=Status.COMPLETED)
    services.update_commitment(
        session, commitment_id=child.id, data={"parent_id": second.id}, check=_no_check
    )
    session.refresh(first)
    session.refresh(second)
    assert first.current_progress is None
    assert second.current_progress == 100


def test_a_parent_that_makes_a_loop_is_a_conflict(session: Session) -> None:
    agreement = make_agreement(session)
    top = make_commitment(session, agreement)
    middle = make_commitment(session, agreement, parent_id=top.id)
    bottom = make_commitment(session, agreement, parent_id=middle.id)
    for parent in (bottom.id, top.id):
        with pytest.raises(Conflict):
            services.update_commitment(
                session, commitment_id=top.id, data={"parent_id": parent}, check=_no_check
            )
    session.refresh(top)
    assert top.parent_id is None


def test_a_parent_must_be_in_the_same_agreement(session: Session) -> None:
    stranger = make_commitment(session)
    with pytest.raises(InvalidInput) as raised:
        make_commitment(session, make_agreement(session), parent_id=stranger.id)
    assert "parent_id" in raised.value.errors


def test_the_tree_depth_is_bounded(session: Session) -> None:
    agreement = make_agreement(session)
    parent = None
    with pytest.raises(InvalidInput):
        for _ in range(services.MAX_TREE_DEPTH + 1):
            parent = make_commitment(session, agreement, parent_id=parent.id if parent else None)


def test_deleting_a_commitment_deletes_its_subtree_and_fixes_the_roll_up(session: Session) -> None:
    agreement = make_agreement(session)
    kept = make_commitment(session, agreement)
    doomed = make_commitment(session, agreement)
    child = make_commitment(session, agreement, parent_id=doomed.id)
    make_assessment(session, kept, status=Status.INITIATED)
    make_assessment(session, child, status=Status.COMPLETED)
    session.refresh(agreement)
    assert agreement.progress == 62.5
    services.delete_commitment(session, commitment_id=doomed.id, check=_no_check)
    session.refresh(agreement)
    assert agreement.progress == 25
    live = session.scalars(
        select(Commitment.id).where(
            Commitment.deleted_at.is_(None), Commitment.agreement_id == agreement.id
        )
    ).all()
    assert live == [kept.id]


def test_as_of_gives_status_and_rolled_up_progress_on_that_date(session: Session) -> None:
    agreement = make_agreement(session)
    section = make_commitment(session, agreement)
    child = make_commitment(session, agreement, parent_id=section.id)
    make_assessment(session, child, status=Status.INITIATED, as_of="2024-01-10")
    make_assessment(session, child, status=Status.COMPLETED, as_of="2024-09-01")
    then = services.get_commitment(session, commitment_id=child.id, as_of=date(2024, 3, 1))
    assert (then.current_status, then.current_progress, then.as_of) == (
        Status.INITIATED,
        25,
        date(2024, 3, 1),
    )
    parent_then = services.get_commitment(session, commitment_id=section.id, as_of=date(2024, 3, 1))
    assert parent_then.current_progress == 25
    before = services.get_commitment(session, commitment_id=child.id, as_of=date(2023, 12, 31))
    assert before.current_status is Status.NOT_ASSESSED
    now = services.get_commitment(session, commitment_id=child.id)
    assert now.current_status is Status.COMPLETED


def test_an_assessment_records_its_own_event_and_the_derived_changes(session: Session) -> None:
    commitment = make_commitment(session)
    assessment = make_assessment(session, commitment, status=Status.ADVANCED)
    events = session.scalars(select(ChangeEvent).order_by(ChangeEvent.seq.desc()).limit(3)).all()
    by_entity = {(event.entity.value, event.entity_id): event for event in events}
    assert by_entity[("assessment", assessment.id)].op.value == "create"
    derived = by_entity[("commitment", commitment.id)]
    assert derived.changes["current_status"] == ["not_assessed", "advanced"]
    assert derived.changes["current_progress"] == [None, 60.0]
