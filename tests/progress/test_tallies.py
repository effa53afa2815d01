"""The statistics' tallies (progress.tallies): kept by every write as a rebuild from nothing
would find them, and answering the summary as the commitments themselves do.

Random sequences of writes through the services, each kind that moves a tally: commitments
created under random parents, themes and due dates, assessed, re-weighted, re-filed, moved,
given another due date, deleted;
themes moved in the taxonomy and deleted; agreements deleted. After them, the kept rows must
be the rows a rebuild writes, and each scope's summary (an agreement, a theme, both, all) the
one counted from the live commitments in Python, scope membership walked down the taxonomy.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Table, select
from sqlalchemy.orm import Session

from service.agreements import services as agreements
from service.commitments import services as commitments
from service.commitments.inputs import CommitmentIn
from service.commitments.models import Commitment
from service.core.dates import PartialDate
from service.core.vocabularies import ImplementationStatus as Status
from service.progress.models import ProgressTally
from service.progress.rules import weighted_mean
from service.progress.tallies import rebuild_tallies
from service.stats.services import Scope, summary
from service.themes import services as themes
from service.themes.models import Theme
from tests.builders import (
    make_agreement,
    make_assessment,
    make_commitment,
    make_organization,
    make_participant,
    make_source,
    make_theme,
)

# SQLAlchemy types a mapped class's `__table__` as a FromClause; here it is a Table.
TALLIES: Table = ProgressTally.__table__  # type: ignore[assignment]


def no_check(_record: Any) -> None:
    """No If-Match: the services' optimistic check passes."""


OPERATIONS = st.sampled_from(
    [
        "create",
        "create",
        "assess",
        "assess",
        "assess",
        "reweigh",
        "refile",
        "move",
        "delete",
        "move_theme",
        "delete_theme",
        "delete_agreement",
        "redate",
    ]
)
# Due dates a commitment may be given (None: none), before and after the days the tests ask.
DUE_DATES = [None, "2023-05", "2023-12-31", "2025"]


class World:
    """Two agreements and a small taxonomy (root > middle > leaf, and a second root), written
    to at random through the services."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.source = make_source(session)
        self.agreements = [make_agreement(session), make_agreement(session)]
        # A party to the first agreement only: its scope is that agreement's.
        self.party = make_organization(session)
        make_participant(session, self.agreements[0], organization_id=self.party.id)
        root = make_theme(session)
        middle = make_theme(session, parent_id=root.id)
        leaf = make_theme(session, parent_id=middle.id)
        other = make_theme(session)
        self.themes = [root, middle, leaf, other]

    def live_themes(self) -> list[Any]:
        return [theme for theme in self.themes if theme.deleted_at is None]

    def live_commitments(self) -> list[Any]:
        """This world's: hypothesis runs its examples in one test's transaction."""
        return list(
            self.session.scalars(
                select(Commitment)
                .where(
                    Commitment.deleted_at.is_(None),
                    Commitment.agreement_id.in_([item.id for item in self.agreements]),
                )
                .order_by(Commitment.id)
            )
        )

    def apply(self, operation: str, data: st.DataObject) -> None:
        draw = data.draw
        live = self.live_commitments()
        agreements_left = [item for item in self.agreements if item.deleted_at is None]
        if operation == "create" or not live:
            if not agreements_left:
                return
            agreement = draw(st.sampled_from(agreements_left))
            parents = [None, *(c.id for c in live if c.agreement_id == agreement.id)]
            make_commitment(
                self.session,
                agreement,
                parent_id=draw(st.sampled_from(parents)),
                weight=draw(st.sampled_from([0.0, 1.0, 2.0, 3.5])),
                themes=self._theme_slugs(draw),
                due_date=self._due_date(draw),
            )
        elif operation == "assess":
            status = draw(st.sampled_from(list(Status)))
            values: dict[str, Any] = {"status": status, "as_of": draw(st.sampled_from(DATES))}
            if status is Status.PARTIALLY_COMPLETED:
                values["progress_pct"] = draw(st.sampled_from([10.0, 55.5]))
            if status is not Status.NOT_ASSESSED:
                values["source_ids"] = [self.source.id]
            make_assessment(self.session, draw(st.sampled_from(live)), **values)
        elif operation == "reweigh":
            self._update(draw(st.sampled_from(live)), {"weight": draw(st.sampled_from([0.0, 4.0]))})
        elif operation == "redate":
            self._update(draw(st.sampled_from(live)), {"due_date": self._due_date(draw)})
        elif operation == "refile":
            self._update(draw(st.sampled_from(live)), {"themes": self._theme_slugs(draw)})
        elif operation == "move":
            commitment = draw(st.sampled_from(live))
            below = self._subtree(commitment, live)
            parents = [
                c.id
                for c in live
                if c.agreement_id == commitment.agreement_id and c.id not in below
            ]
            self._update(commitment, {"parent_id": draw(st.sampled_from([None, *parents]))})
        elif operation == "delete":
            commitment = draw(st.sampled_from(live))
            commitments.delete_commitment(self.session, commitment_id=commitment.id, check=no_check)
        elif operation == "move_theme":
            root, middle, _leaf, other = self.themes
            if middle.deleted_at is None:
                parent = draw(st.sampled_from([root, other, None]))
                if parent is None or parent.deleted_at is None:
                    themes.update_theme(
                        self.session,
                        theme_ref=middle.slug,
                        data={"parent_id": None if parent is None else parent.id},
                        check=no_check,
                    )
        elif operation == "delete_theme":
            leaf = self.themes[2]
            if leaf.deleted_at is None:
                themes.delete_theme(self.session, theme_ref=leaf.slug, check=no_check)
        elif operation == "delete_agreement" and len(agreements_left) > 1:
            doomed = draw(st.sampled_from(agreements_left))
            agreements.delete_agreement(self.session, agreement_ref=doomed.slug, check=no_check)

    @staticmethod
    def _due_date(draw: Any) -> PartialDate | None:
        due = draw(st.sampled_from(DUE_DATES))
        return None if due is None else PartialDate.parse(due)

    def _theme_slugs(self, draw: Any) -> list[str]:
        return [
            theme.slug for theme in draw(st.lists(st.sampled_from(self.live_themes()), max_size=2))
        ]

    def _update(self, commitment: Any, data: CommitmentIn) -> None:
        commitments.update_commitment(
            self.session, commitment_id=commitment.id, data=data, check=no_check
        )

    @staticmethod
    def _subtree(commitment: Any, live: list[Any]) -> set[int]:
        found, frontier = {commitment.id}, [commitment.id]
        while frontier:
            frontier = [c.id for c in live if c.parent_id in frontier]
            found.update(frontier)
        return found


DATES = ["2023-02", "2023-02-10", "2024", "2024-06-30"]


def kept_rows(session: Session) -> list[tuple[Any, ...]]:
    session.expire_all()
    rows = session.execute(
        select(ProgressTally).order_by(
            ProgressTally.agreement_id, ProgressTally.theme_id, ProgressTally.status
        )
    ).scalars()
    return [
        (
            row.agreement_id,
            row.theme_id,
            row.status,
            row.commitments,
            round(row.top_known_weight, 9),
            round(row.top_weighted_progress, 9),
        )
        for row in rows
    ]


def expected_summary(session: Session, agreement: Any | None, theme: Any | None) -> dict[str, Any]:
    """The scope's counts and progress from the live commitments, in Python: a theme's scope
    is what is filed under it or under a live theme below it; its top commitments, those
    whose parent is not in the scope."""
    session.expire_all()
    live = [
        c
        for c in session.scalars(select(Commitment).where(Commitment.deleted_at.is_(None)))
        if agreement is None or c.agreement_id == agreement.id
    ]
    if theme is not None:
        taxonomy = list(session.scalars(select(Theme).where(Theme.deleted_at.is_(None))))
        under, frontier = {theme.id}, [theme.id]
        while frontier:
            frontier = [t.id for t in taxonomy if t.parent_id in frontier]
            under.update(frontier)
        live = [c for c in live if any(t.id in under for t in c.themes)]
    ids = {c.id for c in live}
    top = [c for c in live if c.parent_id not in ids]
    progress = weighted_mean((c.current_progress, c.weight) for c in top)
    return {
        "counts": Counter(c.current_status for c in live),
        "progress": None if progress is None else round(progress, 2),
    }


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(OPERATIONS, min_size=1, max_size=14), data=st.data())
def test_the_kept_tallies_are_what_a_rebuild_writes(
    session: Session, operations: list[str], data: st.DataObject
) -> None:
    world = World(session)
    for operation in operations:
        world.apply(operation, data)
        # After each write: a later write to the same agreement would mend a miss.
        kept = kept_rows(session)
        rebuild_tallies(session, [agreement.id for agreement in world.agreements])
        assert kept_rows(session) == kept, operation

    for agreement in [None, *world.agreements]:
        if agreement is not None and agreement.deleted_at is not None:
            continue
        for theme in [None, *world.live_themes()]:
            scope = Scope(
                agreement=None if agreement is None else agreement.slug,
                theme=None if theme is None else theme.slug,
            )
            found = summary(session, scope, today=date(2024, 1, 1))
            expected = expected_summary(session, agreement, theme)
            counts = Counter(
                {
                    Status(item["status"]): item["count"]
                    for item in found["by_status"]
                    if item["count"]
                }
            )
            assert counts == expected["counts"], scope
            if expected["progress"] is None or found["progress"] is None:
                assert found["progress"] == expected["progress"], scope
            else:
                assert abs(found["progress"] - expected["progress"]) <= 0.0051, scope
    first = world.agreements[0]
    if first.deleted_at is None:
        by_party = summary(session, Scope(organization=world.party.slug), today=date(2024, 1, 1))
        by_agreement = summary(session, Scope(agreement=first.slug), today=date(2024, 1, 1))
        assert {**by_party, "scope": None} == {**by_agreement, "scope": None}


def test_a_rebuild_repairs_tallies_that_went_wrong(session: Session) -> None:
    """The command's purpose: whatever the rows hold (a restore, a hand edit), a rebuild
    writes them as the commitments stand."""
    agreement = make_agreement(session)
    commitment = make_commitment(session, agreement, themes=[make_theme(session).slug])
    make_assessment(session, commitment, status=Status.ADVANCED)
    kept = kept_rows(session)
    assert kept  # the write kept them
    session.execute(TALLIES.update().values(commitments=99))
    session.execute(
        TALLIES.insert().values(
            agreement_id=agreement.id,
            theme_id=0,
            status=Status.CANCELLED,
            commitments=3,
            top_known_weight=1.0,
            top_weighted_progress=5.0,
        )
    )
    assert kept_rows(session) != kept
    assert rebuild_tallies(session, [agreement.id]) == 1
    assert kept_rows(session) == kept


def test_the_rebuild_command_writes_what_the_writes_keep(
    app: Flask, session: Session, connection: Connection
) -> None:
    agreement = make_agreement(session)
    commitment = make_commitment(session, agreement, themes=[make_theme(session).slug])
    make_assessment(session, commitment, status=Status.COMPLETED)
    kept = kept_rows(session)
    session.execute(TALLIES.delete())
    session.commit()

    result = app.test_cli_runner().invoke(args=["rebuild-statistics"])
    assert result.exit_code == 0, result.output
    assert "rebuilt the statistics of" in result.stdout
    assert kept_rows(session) == kept

    one = app.test_cli_runner().invoke(args=["rebuild-statistics", "--agreement", agreement.slug])
    assert (one.exit_code, one.stdout.strip()) == (0, "rebuilt the statistics of 1 agreement")
    unknown = app.test_cli_runner().invoke(args=["rebuild-statistics", "--agreement", "no-such"])
    assert unknown.exit_code == 2
    assert "No agreement with slug 'no-such'" in unknown.stderr
