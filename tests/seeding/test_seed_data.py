"""The India–France seed data: what it holds, that every fact has a source, and that loading
it twice changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.changes.models import ChangeEvent
from service.models import MODEL_BY_ENTITY
from service.seeding.files import SeedError, read_seed_files
from service.seeding.loader import SeedLoader, load_seeds
from service.sources.models import Citation
from service.vocabularies import EntityType

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
LOI = "india-france-loi-defence-space-cooperation"


@pytest.fixture
def seeded(session: Session) -> Session:
    session.info["actor"] = "seed"
    report = load_seeds(session, SEEDS)
    assert report.changed
    return session


def test_a_second_load_changes_nothing_and_writes_no_change_event(seeded: Session) -> None:
    events = seeded.scalar(select(func.count()).select_from(ChangeEvent))
    report = load_seeds(seeded, SEEDS)
    assert not report.changed
    assert sum(report.unchanged.values()) > 100
    assert seeded.scalar(select(func.count()).select_from(ChangeEvent)) == events


def test_the_seed_changes_are_in_the_feed_as_the_seed_actor(seeded: Session) -> None:
    actors = set(seeded.scalars(select(ChangeEvent.actor).distinct()))
    assert actors == {"seed"}


def test_the_letter_of_intent(seeded: Session, client: FlaskClient) -> None:
    loi = client.get(f"/api/v1/agreements/{LOI}").json
    assert loi["title"] == "Letter of Intent on Defence Space Cooperation"
    assert loi["aliases"] == ["Letter of intent on defence space partnership"]
    assert (loi["doc_type"], loi["text_availability"], loi["lifecycle_status"]) == (
        "letter_of_intent",
        "undisclosed",
        "signed",
    )
    [signing] = client.get(f"/api/v1/agreements/{LOI}/events").json["items"]
    assert (signing["type"], signing["date"], signing["date_precision"]) == (
        "signed",
        "2024-01-26",
        "day",
    )
    signers = {
        client.get(f"/api/v1/people/{person_id}").json["slug"]
        for person_id in signing["signer_ids"]
    }
    assert signers == {"sebastien-lecornu", "ajit-doval"}
    parties = client.get(f"/api/v1/agreements/{LOI}/participants").json["items"]
    assert {
        client.get(f"/api/v1/organizations/{p['organization_id']}").json["slug"] for p in parties
    } == {"india-ministry-of-defence", "france-ministry-for-the-armed-forces"}
    assert [
        a["slug"]
        for a in client.get("/api/v1/agreements", query_string={"q": "partnership"}).json["items"]
    ] == [LOI]


def test_the_commitments_the_sources_name(seeded: Session, client: FlaskClient) -> None:
    items = client.get(
        f"/api/v1/agreements/{LOI}/commitments", query_string={"page_size": 200}
    ).json["items"]
    by_title = {item["title"]: item for item in items}
    for title in (
        "Defence space cooperation",
        "Training",
        "Capacity building",
        "Space exchanges",
        "Defence space industrial cooperation",
        "Government-to-government and commercial collaboration in the space sector",
    ):
        assert title in by_title
    assert by_title["Training"]["current_status"] == "initiated"
    # Named as an aim, with no progress reported: not assessed, never "not started".
    assert by_title["Earth monitoring and remote sensing"]["current_status"] == "not_assessed"
    assert "military satellites" not in " ".join(by_title).lower()


def test_the_two_dialogues_and_the_disagreeing_dates(seeded: Session, client: FlaskClient) -> None:
    series = client.get("/api/v1/meeting-series/india-france-strategic-space-dialogue").json
    meetings = client.get("/api/v1/meetings", query_string={"series": series["id"]}).json["items"]
    assert [(m["sequence"], m["start_date"], m["location"]) for m in meetings] == [
        (1, "2023-06-26", "Paris"),
        (2, "2024-03-04", "New Delhi"),
    ]
    second = meetings[1]
    chairs = client.get(f"/api/v1/meetings/{second['id']}/participants").json["items"]
    assert {c["role"] for c in chairs} == {"co_chair"} and len(chairs) == 2
    claims = client.get(
        "/api/v1/citations",
        query_string={"entity_type": "meeting", "entity_id": second["id"], "page_size": 200},
    ).json["items"]
    claimed_dates = {c["claimed_value"] for c in claims if c["field"] == "start_date"}
    assert claimed_dates == {"2024-03-04", "2024-03-05"}
    assert (
        client.get("/api/v1/meeting-series/india-france-foreign-office-consultations").status_code
        == 200
    )


def test_every_seeded_record_has_a_citation(seeded: Session) -> None:
    cited_kinds = [
        EntityType.AGREEMENT,
        EntityType.AGREEMENT_EVENT,
        EntityType.AGREEMENT_PARTICIPANT,
        EntityType.COMMITMENT,
        EntityType.MEETING,
        EntityType.MEETING_SERIES,
        EntityType.MEMBERSHIP,
    ]
    for kind in cited_kinds:
        model = MODEL_BY_ENTITY[kind]
        record_ids = set(seeded.scalars(select(model.id)))  # type: ignore[attr-defined]
        cited = set(seeded.scalars(select(Citation.entity_id).where(Citation.entity_type == kind)))
        assert record_ids and record_ids <= cited, kind


def test_weakly_sourced_facts_say_so(seeded: Session, client: FlaskClient) -> None:
    draft = client.get(
        "/api/v1/agreements/india-france-draft-mou-space-surveillance-information"
    ).json
    citations = client.get(
        "/api/v1/citations", query_string={"entity_type": "agreement", "entity_id": draft["id"]}
    ).json["items"]
    assert citations and all(c["confidence"] == "low" for c in citations)
    ssa = client.get("/api/v1/commitments", query_string={"q": "situational awareness"}).json[
        "items"
    ][0]
    [assessment] = client.get(f"/api/v1/commitments/{ssa['id']}/assessments").json["items"]
    assert (assessment["confidence"], assessment["as_of"], assessment["as_of_precision"]) == (
        "low",
        "2024-09",
        "month",
    )


def test_a_bad_seed_file_is_refused_with_its_place(session: Session, tmp_path: Path) -> None:
    (tmp_path / "01.yaml").write_text("themes:\n  - slug: Not A Slug\n    name: x\n")
    with pytest.raises(SeedError, match="theme/Not A Slug"):
        load_seeds(session, tmp_path)
    (tmp_path / "01.yaml").write_text("planets:\n  - name: Mars\n")
    with pytest.raises(SeedError, match="unknown sections"):
        SeedLoader(session).load(read_seed_files(tmp_path))


def test_the_seed_command_loads_in_one_go(app, connection) -> None:  # type: ignore[no-untyped-def]
    # The CLI is exercised on an empty database by `make run`; here its parsing and report.
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed", "--help"])
    assert result.exit_code == 0
    assert "--check" in result.output and "--overwrite-user-changes" in result.output
