"""`flask seed` as `make run` calls it on every start: a database is seeded once, and after
that nothing is written, whatever users changed; `--check` and `--apply` for maintainers."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select

from service import create_app
from service.auth.services import create_api_key
from service.changes.models import ChangeEvent
from service.core.config import Settings
from service.core.vocabularies import Role
from service.migrations import upgrade
from service.seeding.models import SeedRecord
from tests.conftest import TEST_SECRET_KEY, client_with_key
from tests.helpers import SEEDS, scratch_database

LOI = "india-france-loi-defence-space-cooperation"
DRAFT = "india-france-draft-mou-space-surveillance-information"


@pytest.fixture
def started(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """A database of its own, migrated and seeded by the `seed` command, as `make run` does."""

    def app_on(url: str) -> Iterator[Flask]:
        upgrade(url)
        app = create_app(
            Settings(
                database_url=url,
                secret_key=TEST_SECRET_KEY,
                rate_limit_per_minute=0,
                anonymous_rate_limit_per_minute=0,
                read_cache_mb=0,
            )
        )
        result = seed(app)
        assert result.exit_code == 0, result.output
        yield app
        app.extensions["database"].engine.dispose()

    if database_url.startswith("sqlite"):
        yield from app_on(f"sqlite:///{tmp_path / 'pt.db'}")
        return
    with scratch_database(database_url, "pt_seed") as url:
        yield from app_on(url)


def seed(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["seed", *args])


def editor(app: Flask, name: str = "analyst") -> FlaskClient:
    with app.extensions["database"].session_factory() as session:
        key = create_api_key(session, data={"name": name, "role": Role.EDITOR}).key
    return client_with_key(app, key)


def events(app: Flask) -> int:
    with app.extensions["database"].session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(ChangeEvent)) or 0)


def commitment_by_external_id(client: FlaskClient, external_id: str) -> dict[str, Any]:
    items = client.get(
        f"/api/v1/agreements/{LOI}/commitments", query_string={"page_size": 200}
    ).json["items"]
    [commitment] = [item for item in items if item["external_id"] == external_id]
    return commitment  # type: ignore[no-any-return]


def the_relation(client: FlaskClient) -> dict[str, Any]:
    [relation] = client.get(f"/api/v1/agreements/{DRAFT}/relations").json["items"]
    return relation  # type: ignore[no-any-return]


def edit_as_a_user(client: FlaskClient) -> dict[str, Any]:
    """The edits of issue 14: a commitment's title, the letter's binding and aliases, and a
    relation deleted."""
    training = commitment_by_external_id(client, "in-fr-loi-dsc-training")
    answer = client.patch(
        f"/api/v1/commitments/{training['id']}", json={"title": "Joint training (our wording)"}
    )
    assert answer.status_code == 200, answer.json
    answer = client.patch(
        f"/api/v1/agreements/{LOI}",
        json={"binding": "non_binding", "aliases": ["Indo-French defence space LoI"]},
    )
    assert answer.status_code == 200, answer.json
    relation = the_relation(client)
    answer = client.delete(f"/api/v1/agreements/{DRAFT}/relations/{relation['id']}")
    assert answer.status_code == 204
    return {"training": training, "relation": relation}


def test_a_start_after_users_edits_writes_nothing_and_keeps_them(started: Flask) -> None:
    client = editor(started)
    edited = edit_as_a_user(client)
    before = events(started)

    result = seed(started)

    assert result.exit_code == 0, result.output
    assert "nothing written" in result.output
    assert events(started) == before
    loi = client.get(f"/api/v1/agreements/{LOI}").json
    assert (loi["binding"], loi["aliases"]) == ("non_binding", ["Indo-French defence space LoI"])
    training = client.get(f"/api/v1/commitments/{edited['training']['id']}").json
    assert training["title"] == "Joint training (our wording)"
    assert client.get(f"/api/v1/agreements/{DRAFT}/relations").json["items"] == []


def test_check_lists_the_users_edits_field_by_field_and_exits_1(started: Flask) -> None:
    edit_as_a_user(editor(started))
    before = events(started)

    result = seed(started, "--check")

    assert result.exit_code == 1
    output = result.output
    assert f"agreement/{LOI} " in output and "changed by a user after seeding" in output
    assert "binding: database 'non_binding', seed files 'unknown'" in output
    assert "aliases: database ['Indo-French defence space LoI']" in output
    assert "commitment/in-fr-loi-dsc-training" in output
    assert "title: database 'Joint training (our wording)', seed files 'Training'" in output
    assert f"agreement/{DRAFT}/relation/related/{LOI}" in output
    assert "deleted by a user after seeding" in output
    assert events(started) == before


def test_apply_leaves_users_changes_alone_and_names_them(started: Flask) -> None:
    client = editor(started)
    edit_as_a_user(client)
    before = events(started)

    result = seed(started, "--apply")

    assert result.exit_code == 0, result.output
    assert "3 left alone" in result.output
    assert events(started) == before
    assert client.get(f"/api/v1/agreements/{LOI}").json["binding"] == "non_binding"


def test_apply_overwriting_users_changes_restores_the_seed(started: Flask) -> None:
    client = editor(started)
    edited = edit_as_a_user(client)

    result = seed(started, "--apply", "--overwrite-user-changes")

    assert result.exit_code == 0, result.output
    loi = client.get(f"/api/v1/agreements/{LOI}").json
    assert (loi["binding"], loi["aliases"]) == (
        "unknown",
        ["Letter of intent on defence space partnership"],
    )
    training = client.get(f"/api/v1/commitments/{edited['training']['id']}").json
    assert training["title"] == "Training"
    assert the_relation(client)["kind"] == "related"
    latest = client.get("/api/v1/changes", query_string={"page_size": 200}).json["items"]
    assert latest[-1]["actor"] == "seed"
    assert seed(started, "--check").exit_code == 0


def test_an_api_key_named_seed_is_still_a_user(started: Flask) -> None:
    client = editor(started, name="seed")
    client.patch(f"/api/v1/agreements/{LOI}", json={"binding": "binding"})

    result = seed(started, "--check")

    assert result.exit_code == 1
    assert "changed by a user after seeding" in result.output


def test_a_database_seeded_before_the_ledger_is_still_seeded(started: Flask) -> None:
    with started.extensions["database"].session_factory() as session:
        session.execute(delete(SeedRecord))
        session.commit()
    edit_as_a_user(editor(started))
    before = events(started)

    assert "nothing written" in seed(started).output
    assert events(started) == before
    # The natural keys find the records again, and the user's changes are still theirs.
    result = seed(started, "--check")
    assert "title: database 'Joint training (our wording)'" in result.output
    assert "deleted by a user after seeding" in result.output


def corrected_seeds(tmp_path: Path) -> Path:
    """The seed files with a maintainer's corrections: a summary changed, a source added,
    a commitment dropped."""
    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS, folder)
    agreements_file = folder / "05-agreements.yaml"
    document = yaml.safe_load(agreements_file.read_text(encoding="utf-8"))
    loi = document["agreements"][0]
    loi["summary"] = "A corrected summary."
    section = loi["commitments"][0]
    section["children"] = [
        child for child in section["children"] if child["external_id"] != "in-fr-loi-dsc-training"
    ]
    agreements_file.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    meetings_file = folder / "06-meetings.yaml"
    meetings = yaml.safe_load(meetings_file.read_text(encoding="utf-8"))
    for meeting in meetings["meetings"]:
        meeting["agenda"] = [
            item for item in meeting.get("agenda", []) if item != "in-fr-loi-dsc-training"
        ]
    meetings_file.write_text(yaml.safe_dump(meetings, allow_unicode=True), encoding="utf-8")
    sources_file = folder / "02-sources.yaml"
    sources = yaml.safe_load(sources_file.read_text(encoding="utf-8"))
    sources["sources"].append(
        {"key": "new", "url": "https://example.org/new", "title": "A new source"}
    )
    sources_file.write_text(yaml.safe_dump(sources, allow_unicode=True), encoding="utf-8")
    return folder


def test_check_then_apply_brings_corrections_to_an_existing_database(
    started: Flask, tmp_path: Path
) -> None:
    folder = corrected_seeds(tmp_path)
    client = editor(started)
    before = events(started)

    check = seed(started, "--check", "--dir", str(folder))

    assert check.exit_code == 1
    assert "summary: database" in check.output and "'A corrected summary.'" in check.output
    assert "source/new (id" in check.output and "): create" in check.output
    assert "commitment/in-fr-loi-dsc-training" in check.output and ": remove" in check.output
    assert events(started) == before

    applied = seed(started, "--apply", "--dir", str(folder))

    assert applied.exit_code == 0, applied.output
    assert client.get(f"/api/v1/agreements/{LOI}").json["summary"] == "A corrected summary."
    titles = {
        item["title"]
        for item in client.get(
            f"/api/v1/agreements/{LOI}/commitments", query_string={"page_size": 200}
        ).json["items"]
    }
    assert "Training" not in titles
    new_events = client.get(
        "/api/v1/changes", query_string={"after": before, "page_size": 200}
    ).json["items"]
    assert new_events and {event["actor"] for event in new_events} == {"seed"}
    again = seed(started, "--check", "--dir", str(folder))
    assert again.exit_code == 0, again.output


def test_check_and_apply_together_is_a_usage_error(started: Flask) -> None:
    result = seed(started, "--check", "--apply")
    assert result.exit_code == 2
    assert "choose one" in result.output
