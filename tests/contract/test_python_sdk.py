"""An SDK generated from the committed spec by openapi-python-client works on the first try:
a whole story, driven through the generated client only, against gunicorn and PostgreSQL."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from service.core.vocabularies import Role

pytestmark = pytest.mark.postgres_only


@pytest.fixture(scope="module")
def sdk(python_client_dir: Path) -> Iterator[ModuleType]:
    sys.path.insert(0, str(python_client_dir))
    try:
        yield importlib.import_module("policy_tracker_client")
    finally:
        sys.path.remove(str(python_client_dir))


def op(sdk: ModuleType, tag: str, operation: str) -> Any:
    return importlib.import_module(f"{sdk.__name__}.api.{tag}.{operation}")


def test_a_whole_story_through_the_generated_client(
    sdk: ModuleType, live_server: str, live_keys: dict[Role, str]
) -> None:
    models = importlib.import_module(f"{sdk.__name__}.models")
    client = sdk.AuthenticatedClient(
        base_url=live_server, token=live_keys[Role.EDITOR], raise_on_unexpected_status=True
    )

    def created(response: Any) -> Any:
        assert response.status_code == 201, response.content
        assert response.headers["Location"].startswith("/api/v1/")
        return response.parsed

    india = created(
        op(sdk, "organizations", "create_organization").sync_detailed(
            client=client,
            body=models.OrganizationCreate(
                slug="sdk-india",
                name="India",
                classification=models.OrganizationClassification.STATE,
                country_code="IN",
            ),
        )
    )
    france = created(
        op(sdk, "organizations", "create_organization").sync_detailed(
            client=client,
            body=models.OrganizationCreate(
                slug="sdk-france",
                name="France",
                classification=models.OrganizationClassification.STATE,
            ),
        )
    )
    assert isinstance(india, models.Organization)

    agreement = created(
        op(sdk, "agreements", "create_agreement").sync_detailed(
            client=client,
            body=models.AgreementCreate(
                slug="sdk-loi",
                title="Letter of Intent on Defence Space Cooperation",
                doc_type=models.DocType.LETTER_OF_INTENT,
                aliases=["Letter of intent on defence space partnership"],
            ),
        )
    )
    ref = str(agreement.id)
    for party in (india, france):
        created(
            op(sdk, "agreement_participants", "create_agreement_participant").sync_detailed(
                ref,
                client=client,
                body=models.AgreementParticipantCreate(
                    organization_id=party.id, role=models.ParticipantRole.PARTY
                ),
            )
        )
    created(
        op(sdk, "agreement_events", "create_agreement_event").sync_detailed(
            ref,
            client=client,
            body=models.AgreementEventCreate(
                type_=models.AgreementEventType.SIGNED, date="2024-01-26"
            ),
        )
    )
    fetched = op(sdk, "agreements", "get_agreement").sync(ref, client=client)
    assert fetched.lifecycle_status == models.LifecycleStatus.SIGNED

    create_commitment = op(sdk, "commitments", "create_agreement_commitment")
    section = created(
        create_commitment.sync_detailed(
            ref,
            client=client,
            body=models.CommitmentCreate(
                title="Defence space cooperation", kind=models.CommitmentKind.SECTION
            ),
        )
    )
    children = [
        created(
            create_commitment.sync_detailed(
                ref, client=client, body=models.CommitmentCreate(title=title, parent_id=section.id)
            )
        )
        for title in ("Training", "Capacity building", "Space exchanges")
    ]

    # Evidence before status: the judgement cites where it is said.
    source = created(
        op(sdk, "sources", "create_source").sync_detailed(
            client=client,
            body=models.SourceCreate(
                url="https://pib.example/india-france-strategic-space-dialogue",
                title="Second India-France Strategic Space Dialogue",
                kind=models.SourceKind.OFFICIAL_STATEMENT,
            ),
        )
    )
    assess = op(sdk, "assessments", "create_commitment_assessment")
    for as_of, status in (
        ("2024-01", models.ImplementationStatus.INITIATED),
        ("2024-03-04", models.ImplementationStatus.ADVANCED),
    ):
        assessment = created(
            assess.sync_detailed(
                children[0].id,
                client=client,
                body=models.AssessmentCreate(
                    status=status,
                    as_of=as_of,
                    assessor_kind=models.AssessorKind.OFFICIAL,
                    source_ids=[source.id],
                ),
            )
        )
        assert isinstance(assessment, models.Assessment)

    # Page through a list to its end.
    list_commitments = op(sdk, "commitments", "list_agreement_commitments")
    seen: list[int] = []
    token: str | None = None
    while True:
        page = list_commitments.sync(
            ref, client=client, page_size=2, page_token=token if token else sdk.types.UNSET
        )
        seen.extend(item.id for item in page.items)
        token = page.next_page_token
        if not token:
            break
    assert seen == [section.id, *(child.id for child in children)]

    # Status and progress now, and as of an earlier date.
    get_commitment = op(sdk, "commitments", "get_commitment")
    now = get_commitment.sync_detailed(children[0].id, client=client)
    assert now.parsed.current_status == models.ImplementationStatus.ADVANCED
    then = get_commitment.sync(children[0].id, client=client, as_of=date(2024, 2, 1))
    assert (then.current_status, then.current_progress) == (
        models.ImplementationStatus.INITIATED,
        25,
    )
    assert get_commitment.sync(section.id, client=client).current_progress == 60

    # Conditional requests.
    etag = now.headers["ETag"]
    assert (
        get_commitment.sync_detailed(children[0].id, client=client, if_none_match=etag).status_code
        == 304
    )
    update = op(sdk, "commitments", "update_commitment")
    stale = update.sync_detailed(
        children[0].id,
        client=client,
        if_match='"stale"',
        body=models.CommitmentUpdate(title="Training of officers"),
    )
    assert stale.status_code == 412
    assert isinstance(stale.parsed, models.Problem) and stale.parsed.status == 412
    fresh = update.sync_detailed(
        children[0].id,
        client=client,
        if_match=etag,
        body=models.CommitmentUpdate(title="Training of officers"),
    )
    assert fresh.status_code == 200 and fresh.parsed.title == "Training of officers"
    # An update sends only the fields it is given: a section renamed stays a section.
    renamed = update.sync(
        section.id, client=client, body=models.CommitmentUpdate(title="Defence space")
    )
    assert (renamed.title, renamed.kind) == ("Defence space", models.CommitmentKind.SECTION)
    # The change feed's events come typed by kind of record: the rename's [old, new].
    feed = op(sdk, "changes", "list_changes").sync(
        client=client, entity=models.EntityType.COMMITMENT, entity_id=section.id
    )
    assert {type(event).__name__ for event in feed.items} == {"CommitmentChangeEvent"}
    created_event, *_, renaming = feed.items
    assert created_event.changes.kind == "section"
    assert renaming.changes.title == ["Defence space cooperation", "Defence space"]
    assert isinstance(renaming.changes.to_dict(), dict)
    # A public read needs no key.
    anonymous = sdk.Client(base_url=live_server, raise_on_unexpected_status=True)
    assert get_commitment.sync(section.id, client=anonymous).title == "Defence space"

    # Idempotent creation through the generated client.
    again = create_commitment.sync_detailed(
        ref,
        client=client,
        idempotency_key="sdk-1",
        body=models.CommitmentCreate(title="Earth monitoring"),
    )
    replay = create_commitment.sync_detailed(
        ref,
        client=client,
        idempotency_key="sdk-1",
        body=models.CommitmentCreate(title="Earth monitoring"),
    )
    assert again.status_code == replay.status_code == 201 and replay.content == again.content


def test_every_documented_error_comes_back_typed(
    sdk: ModuleType, live_server: str, live_keys: dict[Role, str]
) -> None:
    models = importlib.import_module(f"{sdk.__name__}.models")
    client = sdk.AuthenticatedClient(
        base_url=live_server, token=live_keys[Role.READER], raise_on_unexpected_status=True
    )
    editor = sdk.AuthenticatedClient(base_url=live_server, token=live_keys[Role.EDITOR])
    anonymous = sdk.Client(base_url=live_server, raise_on_unexpected_status=True)
    get_agreement = op(sdk, "agreements", "get_agreement")
    create_theme = op(sdk, "themes", "create_theme")
    list_agreements = op(sdk, "agreements", "list_agreements")

    cases = {
        404: get_agreement.sync_detailed("no-such-agreement", client=client),
        400: list_agreements.sync_detailed(client=client, page_token="forged"),
        422: create_theme.sync_detailed(
            client=editor, body=models.ThemeCreate(slug="Not A Slug", name="x")
        ),
        401: create_theme.sync_detailed(
            client=anonymous, body=models.ThemeCreate(slug="anon", name="x")
        ),
        403: create_theme.sync_detailed(
            client=client, body=models.ThemeCreate(slug="reader", name="x")
        ),
    }
    create_theme.sync_detailed(client=editor, body=models.ThemeCreate(slug="sdk-theme", name="x"))
    cases[409] = create_theme.sync_detailed(
        client=editor, body=models.ThemeCreate(slug="sdk-theme", name="x")
    )
    for status, response in cases.items():
        assert response.status_code == status
        assert isinstance(response.parsed, models.Problem), status
        assert response.parsed.status == status
        assert response.parsed.request_id
