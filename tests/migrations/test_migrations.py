"""Schema changes only through Alembic: the migrations build the schema the models describe,
and they run down and up again."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text

from service import create_app
from service.commitments.models import Commitment
from service.commitments.services import update_commitment
from service.core.config import Settings
from service.core.dates import PartialDate
from service.core.db import make_engine
from service.core.vocabularies import ImplementationStatus
from service.migrations import downgrade, upgrade
from service.migrations.env_filters import include_object
from service.models import Base
from tests import helpers
from tests.builders import make_assessment, make_theme


def test_the_models_match_the_head_migration(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_object}
        )
        assert compare_metadata(context, Base.metadata) == []


@pytest.mark.postgres_only
def test_the_full_text_indexes_exist_on_postgresql(engine: Engine) -> None:
    indexes = {
        index["name"]
        for table in ("agreements", "commitments")
        for index in inspect(engine).get_indexes(table)
    }
    assert {"ix_agreements_search", "ix_commitments_search"} <= indexes


@pytest.fixture
def scratch_database(database_url: str) -> Iterator[str]:
    """An empty PostgreSQL database of its own, dropped afterwards."""
    with helpers.scratch_database(database_url, "pt_migrations") as url:
        yield url


@pytest.mark.postgres_only
def test_upgrade_downgrade_upgrade_on_postgresql(scratch_database: str) -> None:
    upgrade(scratch_database)
    engine = make_engine(scratch_database)
    try:
        assert "commitments" in inspect(engine).get_table_names()
        downgrade(scratch_database, "base")
        assert inspect(engine).get_table_names() == ["alembic_version"]
        upgrade(scratch_database)
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": include_object}
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


@pytest.mark.postgres_only
def test_every_vocabulary_check_in_the_database_allows_exactly_the_enum(engine: Engine) -> None:
    # Autogenerate does not compare CHECK constraints: a value added to an enum without a
    # migration would be refused by the database. This catches it.
    from sqlalchemy import Enum

    with engine.connect() as connection:
        checks: dict[str, str] = dict(
            connection.execute(
                text(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'c'"
                )
            ).all()
        )
    for table in Base.metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, Enum) and column.type.enum_class is not None:
                definition = checks[f"ck_{table.name}_{column.type.name}"]
                allowed = set(re.findall(r"'([a-z_]+)'", definition))
                assert allowed == set(column.type.enums), f"{table.name}.{column.name}"


def seeded_with_a_status(
    tmp_path: Path, name: str, then: Callable[[Any, Any], Any] | None = None
) -> tuple[str, Any]:
    """A SQLite database at head with the seed data and one assessment with a progress (the
    seed's are all not_assessed); `then(session, leaf)` writes more before it is closed.
    Returns its URL and whatever `then` returned."""
    url = f"sqlite:///{tmp_path / name}"
    upgrade(url)
    app = create_app(Settings(database_url=url, secret_key="backfill-test-secret-key"))
    assert app.test_cli_runner().invoke(args=["seed"]).exit_code == 0
    with app.extensions["database"].session_factory() as session:
        leaf = session.scalars(select(Commitment).where(Commitment.depth > 0)).first()
        make_assessment(session, leaf, status=ImplementationStatus.ADVANCED)
        extra = then(session, leaf) if then is not None else None
    app.extensions["database"].engine.dispose()
    return url, extra


def kept_then_backfilled(
    url: str, queries: dict[str, str], before: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the queries read as the services kept it, then after going down to `before` and
    up again, so that the migrations after it backfill."""
    engine = make_engine(url)
    with engine.connect() as connection:
        kept = {name: connection.execute(text(sql)).all() for name, sql in queries.items()}
    downgrade(url, before)
    upgrade(url)
    with engine.connect() as connection:
        backfilled = {name: connection.execute(text(sql)).all() for name, sql in queries.items()}
    engine.dispose()
    return kept, backfilled


def test_the_statistics_backfill_gives_what_the_services_give(tmp_path: Path) -> None:
    """Migration 0005 computes depth, due_by and effective progress for existing rows: on the
    seed data they must equal what the services maintain."""
    url, _ = seeded_with_a_status(tmp_path, "backfill.db")
    queries = {
        "commitments": "SELECT id, depth, due_by FROM commitments ORDER BY id",
        "assessments": "SELECT id, effective_progress FROM status_assessments ORDER BY id",
    }
    maintained, backfilled = kept_then_backfilled(url, queries, "0004")
    assert backfilled == maintained
    assert any(row.depth > 0 for row in maintained["commitments"])
    assert any(row.effective_progress is not None for row in maintained["assessments"])


def test_the_tallies_backfill_gives_what_the_writes_keep(tmp_path: Path) -> None:
    """Migration 0011 fills the statistics' tallies of an existing database: on the seed data,
    with a status and a theme tree to count, they must equal what the writes keep."""

    def file_under_a_new_theme_tree(session: Any, leaf: Any) -> set[int]:
        broad = make_theme(session)
        narrow = make_theme(session, parent_id=broad.id)
        update_commitment(
            session, commitment_id=leaf.id, data={"themes": [narrow.slug]}, check=lambda _: None
        )
        return {broad.id, narrow.id}

    url, new_themes = seeded_with_a_status(tmp_path, "tallies.db", then=file_under_a_new_theme_tree)
    query = "SELECT * FROM progress_tallies ORDER BY agreement_id, theme_id, status"
    kept, backfilled = kept_then_backfilled(url, {"tallies": query}, "0010")
    assert new_themes < {row.theme_id for row in kept["tallies"]}
    assert backfilled == kept


def test_the_months_backfill_gives_what_the_writes_keep(tmp_path: Path) -> None:
    """Migration 0012 fills the series' monthly rows of an existing database: on the seed
    data, with a history, a correction and a theme tree to count, they must equal what the
    writes keep (the weights to nine places: the writes keep them by adding changes)."""

    def a_history_under_a_theme_tree(session: Any, leaf: Any) -> set[int]:
        broad = make_theme(session)
        narrow = make_theme(session, parent_id=broad.id)
        update_commitment(
            session, commitment_id=leaf.id, data={"themes": [narrow.slug]}, check=lambda _: None
        )
        early = make_assessment(
            session, leaf, status=ImplementationStatus.INITIATED, as_of="2022-11-30"
        )
        make_assessment(session, leaf, status=ImplementationStatus.STALLED, as_of="2023-04")
        make_assessment(
            session,
            leaf,
            status=ImplementationStatus.NOT_STARTED,
            as_of="2022-10",
            supersedes_id=early.id,
        )
        return {broad.id, narrow.id}

    url, new_themes = seeded_with_a_status(tmp_path, "months.db", then=a_history_under_a_theme_tree)
    queries = {
        "months": "SELECT * FROM progress_months ORDER BY agreement_id, theme_id, month",
        "spans": "SELECT * FROM progress_month_spans ORDER BY agreement_id",
    }
    kept, backfilled = kept_then_backfilled(url, queries, "0011")
    assert new_themes < {row.theme_id for row in kept["months"]}
    assert backfilled["spans"] == kept["spans"]
    assert [row[:3] for row in backfilled["months"]] == [row[:3] for row in kept["months"]]
    for row, expected in zip(backfilled["months"], kept["months"], strict=True):
        assert all(
            math.isclose(value, other, rel_tol=1e-9, abs_tol=1e-9)
            for value, other in zip(row[3:], expected[3:], strict=True)
        ), (row, expected)


def test_the_dues_backfill_gives_what_the_writes_keep(tmp_path: Path) -> None:
    """Migration 0013 fills the open commitments by due date of an existing database: on the
    seed data (which has no due date), with three given one and one of those closed, they
    must equal what the writes keep (where a write left a row at 0, the backfill has none)."""

    def due_dates_and_one_closed(session: Any, leaf: Any) -> None:
        others = session.scalars(
            select(Commitment).where(Commitment.id != leaf.id).order_by(Commitment.id).limit(2)
        ).all()
        for commitment, due in zip((leaf, *others), ("2024-03", "2031-07", "2031-07"), strict=True):
            update_commitment(
                session,
                commitment_id=commitment.id,
                data={"due_date": PartialDate.parse(due)},
                check=lambda _: None,
            )
        make_assessment(session, others[0], status=ImplementationStatus.COMPLETED, as_of="2026-01")

    url, _ = seeded_with_a_status(tmp_path, "dues.db", then=due_dates_and_one_closed)
    queries = {
        "dues": "SELECT * FROM progress_dues WHERE commitments <> 0 ORDER BY agreement_id, due_by",
        "totals": "SELECT * FROM progress_due_totals WHERE commitments <> 0 ORDER BY due_by",
    }
    kept, backfilled = kept_then_backfilled(url, queries, "0012")
    assert [(str(row.due_by), row.commitments) for row in kept["totals"]] == [
        ("2024-03-31", 1),
        ("2031-07-31", 1),
    ]
    assert backfilled == kept
