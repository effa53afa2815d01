"""The India–France seed data: what it holds, that every fact has a source, and that loading
it twice changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.assessments.models import StatusAssessment
from service.changes.models import ChangeEvent
from service.core.vocabularies import AssessorKind, EntityType
from service.seeding.files import SeedError, read_seed_files
from service.seeding.loader import SeedLoader, load_seeds
from service.seeding.models import SeedRecord
from service.sources.models import Citation
from tests.helpers import SEEDS

LOI = "india-france-loi-defence-space-cooperation"
DRAFT = "india-france-draft-mou-space-surveillance-information"


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


def loi_commitments(client: FlaskClient) -> dict[str, dict[str, Any]]:
    items = client.get(
        f"/api/v1/agreements/{LOI}/commitments", query_string={"page_size": 200}
    ).json["items"]
    return {item["external_id"]: item for item in items}


def citations_of(client: FlaskClient, entity_type: str, entity_id: int) -> list[dict[str, Any]]:
    return client.get(  # type: ignore[no-any-return]
        "/api/v1/citations",
        query_string={"entity_type": entity_type, "entity_id": entity_id, "page_size": 200},
    ).json["items"]


def test_the_commitments_the_sources_name(seeded: Session, client: FlaskClient) -> None:
    by_id = loi_commitments(client)
    titles = {item["title"] for item in by_id.values()}
    for title in (
        "Defence space cooperation",
        "Training",
        "Capacity building",
        "Space exchanges",
        "Defence space industrial cooperation",
    ):
        assert title in titles
    # No source puts government-to-government and commercial collaboration in the letter.
    assert not any("commercial" in title.lower() for title in titles)
    assert "military satellites" not in " ".join(titles).lower()
    # Inferred from the dialogue's agenda, and saying so.
    for external_id in (
        "in-fr-loi-dsc-training",
        "in-fr-loi-dsc-capacity-building",
        "in-fr-loi-dsc-space-exchanges",
        "in-fr-loi-dsc-industrial-cooperation",
    ):
        assert "Inferred from the second dialogue's agenda" in by_id[external_id]["summary"]


def test_no_deliverable_no_status_the_letter_reads_not_assessed(
    seeded: Session, client: FlaskClient
) -> None:
    """Discussing a letter's implementation is not implementing it: nothing the sources
    report is a deliverable, so no commitment of it has a status or a percentage."""
    loi = client.get(f"/api/v1/agreements/{LOI}").json
    assert loi["progress"] is None
    assert loi["language"] is None
    for commitment in loi_commitments(client).values():
        assert (commitment["current_status"], commitment["current_progress"]) == (
            "not_assessed",
            None,
        )
        for assessment in client.get(f"/api/v1/commitments/{commitment['id']}/assessments").json[
            "items"
        ]:
            assert assessment["status"] == "not_assessed"
            assert assessment["rationale"] and assessment["source_ids"]
    summary = client.get("/api/v1/stats/summary", query_string={"agreement": LOI}).json
    assert summary["progress"] is None


def test_the_press_assessed_nothing(seeded: Session) -> None:
    kinds = set(seeded.scalars(select(StatusAssessment.assessor_kind)))
    assert kinds == {AssessorKind.INDEPENDENT}


def test_the_doval_lecornu_meeting_is_not_tied_to_the_letter(
    seeded: Session, client: FlaskClient
) -> None:
    umbrella = loi_commitments(client)["in-fr-loi-dsc"]
    [october] = [
        assessment
        for assessment in client.get(f"/api/v1/commitments/{umbrella['id']}/assessments").json[
            "items"
        ]
        if assessment["as_of"] == "2024-10-01"
    ]
    assert october["status"] == "not_assessed"
    assert "No source ties the meeting to the Letter of Intent" in october["rationale"]


def test_the_two_dialogues_and_the_dates(seeded: Session, client: FlaskClient) -> None:
    series = client.get("/api/v1/meeting-series/india-france-strategic-space-dialogue").json
    meetings = client.get("/api/v1/meetings", query_string={"series": series["id"]}).json["items"]
    assert [(m["sequence"], m["start_date"], m["location"]) for m in meetings] == [
        (1, "2023-06-26", "Paris"),
        (2, "2024-03-04", "New Delhi"),
    ]
    second = meetings[1]
    chairs = client.get(f"/api/v1/meetings/{second['id']}/participants").json["items"]
    assert {c["role"] for c in chairs} == {"co_chair"} and len(chairs) == 2
    claims = citations_of(client, "meeting", second["id"])
    # A report's dateline is not a claim about the meeting's date: PTI's 5 March is its own.
    dated = [c for c in claims if c["field"] == "start_date"]
    assert {c["claimed_value"] for c in dated} == {"2024-03-04", None}
    [pti] = [c for c in dated if c["claimed_value"] is None]
    assert "date of the report, not a claim about the meeting's date" in pti["note"]
    assert "also held on Monday" in pti["quote"]
    assert (
        client.get("/api/v1/meeting-series/india-france-foreign-office-consultations").status_code
        == 200
    )


def test_the_disagreeing_accounts_of_the_second_dialogues_agenda(
    seeded: Session, client: FlaskClient
) -> None:
    series = client.get("/api/v1/meeting-series/india-france-strategic-space-dialogue").json
    second = client.get("/api/v1/meetings", query_string={"series": series["id"]}).json["items"][1]
    assert "separate bilateral dialogue" in second["summary"]
    on_the_agenda = [
        c for c in citations_of(client, "meeting", second["id"]) if c["field"] == "summary"
    ]
    publishers = {
        client.get(f"/api/v1/sources/{c['source_id']}").json["publisher"]: c for c in on_the_agenda
    }
    bnn, ani = publishers["BNN Breaking"], publishers["Lokmat Times (ANI)"]
    assert "disarmament" in bnn["quote"] and bnn["confidence"] == "low"
    assert "separate" in ani["claimed_value"] and bnn["claimed_value"] != ani["claimed_value"]
    assert (
        client.get(
            "/api/v1/meeting-series/india-france-disarmament-non-proliferation-dialogue"
        ).status_code
        == 200
    )


def test_the_draft_memorandum_says_what_its_source_says(
    seeded: Session, client: FlaskClient
) -> None:
    events = client.get(f"/api/v1/agreements/{DRAFT}/events").json["items"]
    assert sorted((e["type"], e["date"] or "", e["date_precision"]) for e in events) == [
        ("proposed", "", "unknown"),
        ("proposed", "2024-09", "month"),
    ]
    parties = client.get(f"/api/v1/agreements/{DRAFT}/participants").json["items"]
    assert {
        client.get(f"/api/v1/organizations/{p['organization_id']}").json["slug"] for p in parties
    } == {"india-defence-space-agency", "france-space-command"}
    [relation] = client.get(f"/api/v1/agreements/{DRAFT}/relations").json["items"]
    cited = citations_of(client, "agreement_relation", relation["id"])
    assert len(cited) == 2 and "no source ties" in relation["note"]


def test_kwatras_term_as_foreign_secretary(seeded: Session, client: FlaskClient) -> None:
    kwatra = client.get("/api/v1/people/vinay-mohan-kwatra").json
    [term] = client.get("/api/v1/memberships", query_string={"person": kwatra["id"]}).json["items"]
    assert (term["start_date"], term["end_date"]) == ("2022-05-01", "2024-07-14")


def test_every_seeded_record_has_a_citation_and_every_citation_a_quote(seeded: Session) -> None:
    """Walks every record the seed made (its ledger): each fact cites a source. The sources
    themselves and the themes (a taxonomy, not a claim) are the exceptions."""
    uncited_kinds = {EntityType.SOURCE, EntityType.THEME, EntityType.CITATION}
    cited = {tuple(row) for row in seeded.execute(select(Citation.entity_type, Citation.entity_id))}
    seeded_records = [
        tuple(row) for row in seeded.execute(select(SeedRecord.entity, SeedRecord.entity_id))
    ]
    assert len(seeded_records) > 150
    missing = [
        (entity, record_id)
        for entity, record_id in seeded_records
        if entity not in uncited_kinds | {EntityType.ASSESSMENT}
        and (entity, record_id) not in cited
    ]
    assert missing == []
    assessments = seeded.scalars(select(StatusAssessment)).all()
    assert assessments and all(assessment.sources for assessment in assessments)
    assert all(seeded.scalars(select(Citation.quote)))


def test_sources_carry_their_reliability(seeded: Session, client: FlaskClient) -> None:
    low = client.get("/api/v1/sources", query_string={"reliability": "low"}).json["items"]
    assert {source["publisher"] for source in low} == {"BNN Breaking", "News Pravda"}
    every = client.get("/api/v1/sources", query_string={"page_size": 200}).json["items"]
    assert all(source["reliability"] != "unknown" for source in every)


def test_weakly_sourced_facts_say_so(seeded: Session, client: FlaskClient) -> None:
    draft = client.get(f"/api/v1/agreements/{DRAFT}").json
    citations = citations_of(client, "agreement", draft["id"])
    assert citations and all(c["confidence"] == "low" for c in citations)
    ssa = loi_commitments(client)["in-fr-loi-dsc-space-situational-awareness"]
    [assessment] = client.get(f"/api/v1/commitments/{ssa['id']}/assessments").json["items"]
    assert (assessment["confidence"], assessment["as_of"], assessment["as_of_precision"]) == (
        "low",
        "2024-09",
        "month",
    )
    # It rests on News Pravda alone, and says so.
    assert assessment["evidence_reliability"] == "low"


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
