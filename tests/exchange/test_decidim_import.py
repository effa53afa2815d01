"""The import of Decidim's accountability results (service/exchange/decidim.py), from files
written here in the format Decidim exports (tests/exchange/decidim/: its 0.28 layout with
`;` and locales ca and en; a newer layout, with taxonomies and `updated_at`, from an instance
set to `,`)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.assessments.models import StatusAssessment
from service.changes.models import ChangeEvent
from service.commitments.models import Commitment
from service.core.vocabularies import ImplementationStatus as Status
from service.exchange.csv_files import ImportRefused
from service.exchange.decidim import html_to_text, import_decidim_results, status_for
from service.sources.models import Source
from tests.builders import make_agreement
from tests.jobs.running import imported, submit

FILES = Path(__file__).parent / "decidim"
OLD = (FILES / "results-0.28.csv").read_bytes()
NEWER = (FILES / "results-newer.csv").read_bytes()
HOST = "participa.example.org"


def _edited(ids: list[int], **changes: dict[str, str]) -> bytes:
    """The 0.28 file with only the results of these Decidim ids, in that order, and
    `changes` (by id, as "r103") made to their cells."""
    rows = list(csv.DictReader(io.StringIO(OLD.decode()), delimiter=";"))
    header = list(rows[0])
    by_id = {int(row["id"]): row for row in rows}
    out = io.StringIO()
    writer = csv.DictWriter(out, header, delimiter=";", lineterminator="\n")
    writer.writeheader()
    for decidim_id in ids:
        writer.writerow({**by_id[decidim_id], **changes.get(f"r{decidim_id}", {})})
    return out.getvalue().encode()


def _import(session: Session, body: bytes, agreement: Any, **options: Any) -> Any:
    return import_decidim_results(
        session, body, agreement_id=agreement.id, dry_run=options.pop("dry_run", False), **options
    )


def _tree(session: Session, agreement: Any) -> dict[str, Commitment]:
    session.expire_all()
    statement = select(Commitment).where(
        Commitment.agreement_id == agreement.id, Commitment.deleted_at.is_(None)
    )
    return {str(c.external_id): c for c in session.scalars(statement)}


def _assessments(session: Session, commitment: Commitment) -> list[StatusAssessment]:
    statement = select(StatusAssessment).where(StatusAssessment.commitment_id == commitment.id)
    return list(session.scalars(statement.order_by(StatusAssessment.id)))


def _count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_each_result_becomes_a_commitment_of_the_tree_with_its_progress_assessed(
    session: Session,
) -> None:
    agreement = make_agreement(session, language="en")
    report = _import(session, OLD, agreement, as_of="2024-12-01")
    assert (report.rows, report.created, report.updated, report.unchanged) == (5, 5, 0, 0)

    tree = _tree(session, agreement)
    key = {n: f"decidim:{HOST}:result:{n}" for n in (101, 102, 103, 104, 105)}
    assert set(tree) == set(key.values())
    axis, lane, zone, gardens, irrigation = (tree[key[n]] for n in (101, 102, 103, 104, 105))
    # Parents kept; English titles, the formula mark taken off; HTML reduced to text.
    assert (lane.parent_id, zone.parent_id, irrigation.parent_id) == (axis.id, axis.id, gardens.id)
    assert axis.parent_id is None and gardens.parent_id is None
    assert [axis.title, lane.title, gardens.title] == [
        "Sustainable mobility",
        "Bike lane on Main Street",
        "+20 urban gardens",
    ]
    assert lane.summary == 'Segregated bike lane; 1.2 km, "protected".\n- Phase 1\n- Phase 2 & 3'
    assert gardens.summary == "Twenty new gardens."  # the script left out
    # No English title: the machine translation, else the first locale that has one.
    assert zone.title == "Zones de baixes emissions"
    assert (lane.due_date.isoformat(), irrigation.due_date.isoformat()) == ("2024-11-30", "2025-03")

    # One assessment per result with a progress: the status it has reached, the progress as
    # stated, Decidim's own status in the rationale, the result's page as the source.
    [done] = _assessments(session, lane)
    assert (done.status, done.progress_pct, done.as_of.isoformat()) == (
        Status.COMPLETED,
        100.0,
        "2024-12-01",
    )
    assert "Done (done)" in (done.rationale or "") and "result 102" in (done.rationale or "")
    [source] = done.sources
    assert source.url == f"https://{HOST}/processes/pla-2024/f/18/results/102"
    assert source.publisher == HOST and source.reliability.value == "unknown"
    [third] = _assessments(session, zone)
    assert (third.status, third.progress_pct) == (Status.INITIATED, 33.33)
    [planned] = _assessments(session, irrigation)
    assert planned.status is Status.NOT_STARTED
    assert _assessments(session, gardens) == []  # no progress: nothing to assess
    # The roll-up: a result with children progresses as they do (its own 40 % aside).
    assert lane.current_status is Status.COMPLETED and lane.current_progress == 100.0
    assert axis.current_progress == pytest.approx((100 + 33.33) / 2)


def test_running_the_same_file_again_creates_nothing_twice(session: Session) -> None:
    agreement = make_agreement(session, language="en")
    _import(session, OLD, agreement, as_of="2024-12-01")
    counts = [_count(session, model) for model in (Commitment, StatusAssessment, Source)]
    events = _count(session, ChangeEvent)
    again = _import(session, OLD, agreement, as_of="2025-01-01")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    assert [_count(session, model) for model in (Commitment, StatusAssessment, Source)] == counts
    assert _count(session, ChangeEvent) == events

    # A later export: one result moved on, one was renamed.
    moved = OLD.replace(b";33.33;", b";75.0;").replace(b"Smart irrigation", b"Drip irrigation")
    later = _import(session, moved, agreement, as_of="2025-02-01")
    assert (later.created, later.updated, later.unchanged) == (0, 1, 4)
    zone = _tree(session, agreement)[f"decidim:{HOST}:result:103"]
    assert [(a.status, a.progress_pct) for a in _assessments(session, zone)] == [
        (Status.INITIATED, 33.33),
        (Status.ADVANCED, 75.0),
    ]
    assert _count(session, StatusAssessment) == counts[1] + 1


def test_a_locale_is_chosen_and_the_newer_layout_with_commas_is_read(session: Session) -> None:
    catalan = make_agreement(session, language="en")
    _import(session, OLD, catalan, locale="ca", as_of="2024-12-01")
    titles = {c.title for c in _tree(session, catalan).values()}
    assert {"Carril bici al carrer Major", "Mobilitat sostenible", "Horts urbans"} <= titles

    newer = make_agreement(session, language="en")
    report = _import(session, NEWER, newer)
    assert report.created == 2
    tree = _tree(session, newer)
    panels = tree["decidim:decidim.example.net:result:8"]
    plan = tree["decidim:decidim.example.net:result:7"]
    # The child came before its parent in the file; its English title is a machine one.
    assert panels.parent_id == plan.id and panels.title == "Solar panels on schools"
    [assessment] = _assessments(session, panels)
    # The progress is of the day the result was last updated.
    assert (assessment.status, assessment.as_of.isoformat()) == (Status.ADVANCED, "2024-03-18")


def test_a_dry_run_reports_and_writes_nothing(session: Session) -> None:
    agreement = make_agreement(session)
    before = [_count(session, model) for model in (Commitment, StatusAssessment, Source)]
    report = _import(session, OLD, agreement, dry_run=True)
    assert report.dry_run and report.created == 5
    assert [_count(session, model) for model in (Commitment, StatusAssessment, Source)] == before


def test_every_wrong_row_is_reported_and_nothing_is_written(session: Session) -> None:
    agreement = make_agreement(session)
    wrong = _edited(
        [101, 102, 103, 104, 105],
        r101={"progress": "140"},  # row 2: over 100
        r102={"id": ""},  # row 3: no id
        r103={"parent/id": "999"},  # row 4: a parent neither here nor imported
        r104={"end_date": "2024-13-01"},  # row 5: not a date
        r105={"url": "", "progress": "10"},  # row 6: a progress with no source
    )
    before = _count(session, Commitment)
    with pytest.raises(ImportRefused) as refused:
        _import(session, wrong, agreement)
    found = {(error.row, error.column) for error in refused.value.report.errors}
    assert found == {(2, "progress"), (3, "id"), (5, "end_date"), (6, "url")}, found
    fixed = _edited([101, 103], r101={"progress": "40"}, r103={"parent/id": "999"})
    with pytest.raises(ImportRefused) as refused:
        _import(session, fixed, agreement)
    assert [(e.row, e.column) for e in refused.value.report.errors] == [(3, "parent/id")]
    assert _count(session, Commitment) == before


def test_a_parent_missing_from_the_file_is_found_among_those_imported(session: Session) -> None:
    agreement = make_agreement(session)
    orphan = _edited([105])  # its parent, 104, is not in the file
    with pytest.raises(ImportRefused) as refused:
        _import(session, orphan, agreement)
    [error] = refused.value.report.errors
    assert (error.row, error.column) == (2, "parent/id")
    _import(session, _edited([104]), agreement)
    assert _import(session, orphan, agreement).created == 1
    tree = _tree(session, agreement)
    child, parent = (tree[f"decidim:{HOST}:result:{n}"] for n in (105, 104))
    assert child.parent_id == parent.id


def test_columns_the_import_needs_are_checked_first(session: Session) -> None:
    agreement = make_agreement(session)
    without_url = OLD.replace(b";url;", b";link;")
    with pytest.raises(ImportRefused) as refused:
        _import(session, without_url, agreement)
    assert [(e.row, e.column) for e in refused.value.report.errors] == [(1, "url")]
    with pytest.raises(ImportRefused) as refused:
        _import(session, OLD, agreement, locale="fr")
    [error] = refused.value.report.errors
    assert error.column == "title/fr" and "ca, en" in error.message


def test_a_result_already_in_another_agreement_stays_there(session: Session) -> None:
    first, second = make_agreement(session), make_agreement(session)
    _import(session, OLD, first)
    with pytest.raises(ImportRefused) as refused:
        _import(session, OLD, second)
    assert {e.column for e in refused.value.report.errors} == {"id"}


@pytest.mark.parametrize(
    ("progress", "status"),
    [
        (0, Status.NOT_STARTED),
        (0.5, Status.INITIATED),
        (25, Status.INITIATED),
        (59.99, Status.INITIATED),
        (60, Status.ADVANCED),
        (99.9, Status.ADVANCED),
        (100, Status.COMPLETED),
    ],
)
def test_a_progress_gives_the_furthest_step_of_the_scale_it_reached(
    progress: float, status: Status
) -> None:
    assert status_for(progress) is status


def test_html_is_reduced_to_its_text() -> None:
    assert html_to_text("<p>One&nbsp;&amp; two</p><p>Three<br>four</p>") == (
        "One & two\nThree\nfour"
    )
    assert html_to_text("<ol><li>a</li><li><em>b</em></li></ol><style>p{}</style>") == "- a\n- b"
    assert html_to_text("plain") == "plain"


def test_the_api_queues_the_import_as_a_job(client: FlaskClient, session: Session) -> None:
    agreement = make_agreement(session, slug="decidim-plan", language="en")
    session.commit()
    job = imported(client, "decidim-results", OLD, agreement="decidim-plan", as_of="2024-12-01")
    assert job["state"] == "succeeded", job
    assert job["kind"] == "import_decidim_results"
    assert (job["result"]["created"], job["result"]["rows"]) == (5, 5)
    listed = client.get(f"/api/v1/agreements/{agreement.id}/commitments").json["items"]
    assert {item["title"] for item in listed} >= {"Sustainable mobility", "Smart irrigation"}
    again = imported(client, "decidim-results", OLD, agreement="decidim-plan")
    assert (again["result"]["created"], again["result"]["unchanged"]) == (0, 5)

    dry = imported(client, "decidim-results", OLD, agreement="decidim-plan", dry_run="true")
    assert dry["state"] == "succeeded" and dry["dry_run"] is True

    refused = imported(
        client, "decidim-results", OLD.replace(b";40.0;", b";abc;"), agreement="decidim-plan"
    )
    assert refused["state"] == "failed"
    assert {(e["row"], e["column"]) for e in refused["result"]["row_errors"]} == {(2, "progress")}


def test_the_api_checks_the_query_and_the_columns_at_once(
    client: FlaskClient, session: Session
) -> None:
    make_agreement(session, slug="decidim-plan")
    session.commit()
    unknown = submit(client, "decidim-results", OLD, agreement="no-such-plan")
    assert unknown.status_code == 422 and "agreement" in unknown.json["errors"]
    assert submit(client, "decidim-results", OLD).status_code == 400  # no agreement
    bad_locale = submit(client, "decidim-results", OLD, agreement="decidim-plan", locale="e n")
    assert bad_locale.status_code == 400 and "locale" in bad_locale.json["errors"]
    no_url = submit(
        client, "decidim-results", OLD.replace(b";url;", b";link;"), agreement="decidim-plan"
    )
    assert no_url.status_code == 422


def test_the_command_line_imports_with_a_dry_run_first(
    client: FlaskClient, session: Session, tmp_path: Path
) -> None:
    agreement = make_agreement(session, slug="decidim-cli", language="en")
    session.commit()
    path = tmp_path / "results.csv"
    path.write_bytes(OLD)
    runner = client.application.test_cli_runner()
    command = ["import-decidim-results", str(path), "--agreement", "decidim-cli"]
    dry = runner.invoke(args=[*command, "--dry-run", "--as-of", "2024-12-01"])
    assert dry.exit_code == 0, dry.output
    assert "5 would be created" in dry.output
    assert _tree(session, agreement) == {}
    done = runner.invoke(args=[*command, "--locale", "ca"])
    assert done.exit_code == 0, done.output
    assert "5 were created" in done.output
    assert "Mobilitat sostenible" in {c.title for c in _tree(session, agreement).values()}
    missing = runner.invoke(args=["import-decidim-results", str(path), "--agreement", "nope"])
    assert missing.exit_code != 0 and "--agreement" in missing.output


def test_an_instance_with_hundreds_of_columns_is_read(session: Session) -> None:
    """A column per taxonomy and locale, and per machine translation: hundreds of them."""
    rows = list(csv.reader(io.StringIO(NEWER.decode())))
    extra = [f"taxonomies/{n}/{locale}" for n in range(100, 250) for locale in ("en", "es")]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(rows[0] + extra)
    for row in rows[1:]:
        writer.writerow(row + ["Theme"] * len(extra))
    agreement = make_agreement(session)
    assert len(rows[0] + extra) > 300
    assert _import(session, out.getvalue().encode(), agreement).created == 2
