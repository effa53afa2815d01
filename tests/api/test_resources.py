"""Every resource, through HTTP: the operations each one has and the errors each can return.

One table describes the resources; the tests run over all of it, and a last test checks that
the table (with the special-purpose tests named in EXERCISED_ELSEWHERE) covers every
operation in the spec, so a new route cannot arrive untested.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.changes.models import ChangeEvent
from service.http.api import spec_document
from tests import builders as build
from tests.helpers import PROBLEM_FIELDS, change_event_errors


@dataclass(frozen=True)
class Resource:
    name: str
    plural: str
    collection: str  # format string over the setup's context
    setup: Callable[[Session], dict[str, Any]]
    body: Callable[..., dict[str, Any]]  # (context, n=0): the n-th distinct valid body
    patch: dict[str, Any] | None
    required: tuple[str, ...]
    enum_field: str | None = None
    list_operation: str | None = None
    create_operation: str | None = None
    by_slug: bool = False
    deletable: bool = True
    write_only: tuple[str, ...] = ()  # sent, never returned (a webhook's secret)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def operations(self) -> set[str]:
        operations = {
            self.list_operation or f"list_{self.plural}",
            self.create_operation or f"create_{self.name}",
            f"get_{self.name}",
        }
        if self.patch is not None:
            operations.add(f"update_{self.name}")
        if self.deletable:
            operations.add(f"delete_{self.name}")
        return operations


def _nothing(_session: Session) -> dict[str, Any]:
    return {}


def _agreement(session: Session) -> dict[str, Any]:
    return {"agreement": build.make_agreement(session).id}


def _commitment(session: Session) -> dict[str, Any]:
    return {"commitment": build.make_commitment(session).id}


def _commitment_and_source(session: Session) -> dict[str, Any]:
    return {**_commitment(session), "source": build.make_source(session).id}


RESOURCES = [
    Resource(
        "theme",
        "themes",
        "/api/v1/themes",
        _nothing,
        lambda ctx, n=0: {"slug": build.unique("defence"), "name": "Defence"},
        {"name": "Defence and security"},
        ("slug", "name"),
        by_slug=True,
    ),
    Resource(
        "organization",
        "organizations",
        "/api/v1/organizations",
        _nothing,
        lambda ctx, n=0: {
            "slug": build.unique("india"),
            "name": "India",
            "classification": "state",
            "country_code": "IN",
        },
        {"short_name": "IND"},
        ("slug", "name", "classification"),
        enum_field="classification",
        by_slug=True,
    ),
    Resource(
        "post",
        "posts",
        "/api/v1/posts",
        lambda s: {"organization": build.make_organization(s).id},
        lambda ctx, n=0: {"organization_id": ctx["organization"], "label": "Foreign Secretary"},
        {"label": "Foreign Minister"},
        ("organization_id", "label"),
    ),
    Resource(
        "person",
        "people",
        "/api/v1/people",
        _nothing,
        lambda ctx, n=0: {"slug": build.unique("kwatra"), "name": "Vinay Mohan Kwatra"},
        {"sort_name": "Kwatra, Vinay Mohan"},
        ("slug", "name"),
        by_slug=True,
    ),
    Resource(
        "membership",
        "memberships",
        "/api/v1/memberships",
        lambda s: {
            "person": build.make_person(s).id,
            "organization": build.make_organization(s).id,
        },
        lambda ctx, n=0: {
            "person_id": ctx["person"],
            "organization_id": ctx["organization"],
            "start_date": "2022-05",
        },
        {"end_date": "2024"},
        ("person_id",),
    ),
    Resource(
        "source",
        "sources",
        "/api/v1/sources",
        _nothing,
        lambda ctx, n=0: {
            "url": f"https://news.example/{build.unique('a')}",
            "title": "PTI report",
            "kind": "press_report",
        },
        {"publisher": "PTI"},
        ("url", "title"),
        enum_field="kind",
    ),
    Resource(
        "citation",
        "citations",
        "/api/v1/citations",
        lambda s: {"source": build.make_source(s).id, "agreement": build.make_agreement(s).id},
        lambda ctx, n=0: {
            "source_id": ctx["source"],
            "entity_type": "agreement",
            "entity_id": ctx["agreement"],
            "field": "title",
            "claimed_value": "LoI",
        },
        {"confidence": "low"},
        ("source_id", "entity_type", "entity_id"),
        enum_field="entity_type",
    ),
    Resource(
        "agreement",
        "agreements",
        "/api/v1/agreements",
        _nothing,
        lambda ctx, n=0: {
            "slug": build.unique("loi"),
            "title": "Letter of Intent",
            "doc_type": "letter_of_intent",
        },
        {"binding": "non_binding"},
        ("slug", "title", "doc_type"),
        enum_field="doc_type",
        by_slug=True,
    ),
    Resource(
        "agreement_event",
        "agreement_events",
        "/api/v1/agreements/{agreement}/events",
        _agreement,
        lambda ctx, n=0: {"type": "signed", "date": "2024-01-26"},
        {"location": "New Delhi"},
        ("type",),
        enum_field="type",
    ),
    Resource(
        "agreement_participant",
        "agreement_participants",
        "/api/v1/agreements/{agreement}/participants",
        lambda s: {**_agreement(s), "organization": build.make_organization(s).id},
        lambda ctx, n=0: {
            "organization_id": ctx["organization"],
            "role": ["party", "witness", "observer"][n],
        },
        {"role": "signatory"},
        ("organization_id", "role"),
        enum_field="role",
    ),
    Resource(
        "agreement_relation",
        "agreement_relations",
        "/api/v1/agreements/{agreement}/relations",
        lambda s: {**_agreement(s), "other": build.make_agreement(s).id},
        lambda ctx, n=0: {"related_agreement_id": ctx["other"], "kind": "related"},
        {"kind": "implements"},
        ("related_agreement_id", "kind"),
        enum_field="kind",
    ),
    Resource(
        "commitment",
        "commitments",
        "/api/v1/agreements/{agreement}/commitments",
        _agreement,
        lambda ctx, n=0: {"title": "Training", "due_date": "2025"},
        {"title": "Training and capacity building"},
        ("title",),
        enum_field="kind",
        list_operation="list_agreement_commitments",
        create_operation="create_agreement_commitment",
    ),
    Resource(
        "commitment_actor",
        "commitment_actors",
        "/api/v1/commitments/{commitment}/actors",
        lambda s: {**_commitment(s), "organization": build.make_organization(s).id},
        lambda ctx, n=0: {
            "organization_id": ctx["organization"],
            "role": ["responsible", "beneficiary", "implementing"][n],
        },
        {"role": "implementing"},
        ("organization_id", "role"),
        enum_field="role",
    ),
    Resource(
        "assessment",
        "assessments",
        "/api/v1/commitments/{commitment}/assessments",
        _commitment_and_source,
        lambda ctx, n=0: {
            "status": "initiated",
            "as_of": "2024-03-04",
            "assessor_kind": "official",
            "source_ids": [ctx["source"]],
        },
        None,
        ("status", "as_of", "assessor_kind"),
        enum_field="status",
        list_operation="list_commitment_assessments",
        create_operation="create_commitment_assessment",
        deletable=False,
    ),
    Resource(
        "meeting_series",
        "meeting_series",
        "/api/v1/meeting-series",
        _nothing,
        lambda ctx, n=0: {"slug": build.unique("ssd"), "name": "Strategic Space Dialogue"},
        {"description": "Bilateral"},
        ("slug", "name"),
        by_slug=True,
    ),
    Resource(
        "meeting",
        "meetings",
        "/api/v1/meetings",
        _nothing,
        lambda ctx, n=0: {"title": "Second dialogue", "start_date": "2024-03-04", "status": "held"},
        {"location": "New Delhi"},
        ("title",),
        enum_field="status",
    ),
    Resource(
        "api_key",
        "api_keys",
        "/api/v1/api-keys",
        _nothing,
        lambda ctx, n=0: {"name": f"dashboard {n}", "role": "reader"},
        {"name": "wall dashboard"},
        ("name", "role"),
        enum_field="role",
        deletable=False,  # a DELETE revokes: tests/api/test_auth.py
    ),
    Resource(
        "webhook",
        "webhooks",
        "/api/v1/webhooks",
        _nothing,
        # A public address: the test app keeps WEBHOOK_ALLOW_PRIVATE_TARGETS off.
        lambda ctx, n=0: {
            "url": f"https://93.184.215.{14 + n}/hook",
            "secret": "s" * 20,
            "event_types": ["theme.created"],
        },
        {"description": "dashboard mirror"},
        ("url", "secret", "event_types"),
        write_only=("secret",),  # an unknown event type: tests/webhooks
    ),
    Resource(
        "indicator",
        "indicators",
        "/api/v1/commitments/{commitment}/indicators",
        lambda s: {**_commitment(s), "source": build.make_source(s).id},
        lambda ctx, n=0: {
            "title": f"Officers trained {n}",
            "measure": "unit",
            "unit_label": "officers",
            "baseline_value": 0,
            "baseline_date": "2024-01",
            "baseline_source_ids": [ctx["source"]],
            "periods": [
                {
                    "end_date": "2026",
                    "target_value": 40 + n,
                    "target_as_of": "2024-01-26",
                    "target_source_ids": [ctx["source"]],
                }
            ],
        },
        {"title": "Officers trained in space situational awareness"},
        ("title", "measure"),
        enum_field="measure",
    ),
    Resource(
        "meeting_participant",
        "meeting_participants",
        "/api/v1/meetings/{meeting}/participants",
        lambda s: {"meeting": build.make_meeting(s).id, "person": build.make_person(s).id},
        lambda ctx, n=0: {"person_id": ctx["person"], "role": "co_chair"},
        {"role": "delegate"},
        ("role",),
        enum_field="role",
    ),
]

# Operations whose behaviour has tests of their own, beyond what the table covers.
EXERCISED_ELSEWHERE = {
    "list_commitments",
    "list_commitment_children",
    # tests/assessments/test_lists.py: by meeting, agreement, commitment.
    "list_assessments",
    "list_changes",
    # tests/api/test_changes.py
    "get_change_head",
    "delete_api_key",
    "get_stats_summary",
    "get_stats_progress",
    # tests/api/test_stats.py
    "list_agreement_stats",
    "export_commitments_csv",
    "export_commitments_jsonl",
    "export_agreements_csv",
    "export_agreements_jsonl",
    # tests/exchange/test_datapackage.py
    "export_assessments_csv",
    "export_assessments_jsonl",
    "export_sources_csv",
    "export_sources_jsonl",
    "export_citations_csv",
    "export_citations_jsonl",
    "get_datapackage",
    "export_indicators_csv",
    "export_indicators_jsonl",
    "export_indicator_periods_csv",
    "export_indicator_periods_jsonl",
    # tests/indicators/test_indicators.py
    "list_all_indicators",
    "import_commitments",
    "import_assessments",
    # tests/exchange/test_decidim_import.py
    "import_decidim_results",
    # tests/indicators/test_indicator_imports.py
    "import_indicators",
    "list_webhook_deliveries",
    # tests/jobs: who may read a job, its states, the list's paging.
    "get_job",
    "list_jobs",
}

by_name = pytest.mark.parametrize("resource", RESOURCES, ids=lambda resource: resource.name)
with_patch = pytest.mark.parametrize(
    "resource", [r for r in RESOURCES if r.patch is not None], ids=lambda resource: resource.name
)


def _create(
    client: FlaskClient, session: Session, resource: Resource
) -> tuple[dict[str, Any], Any]:
    context = resource.setup(session)
    response = client.post(resource.collection.format(**context), json=resource.body(context))
    assert response.status_code == 201, response.json
    return context, response


def _shows(shown: Any, sent: Any) -> bool:
    """What was sent is what is shown; an item of a list shows what it was sent, and may
    show more (a period's derived progress, its dates' precisions)."""
    if isinstance(sent, list) and sent and isinstance(sent[0], dict):
        return len(shown) == len(sent) and all(
            {key: item[key] for key in part} == part for item, part in zip(shown, sent, strict=True)
        )
    return bool(shown == sent)


def _change_count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(ChangeEvent)) or 0


@by_name
def test_create_returns_201_with_location_and_etag_and_records_a_change(
    client: FlaskClient, session: Session, resource: Resource
) -> None:
    context = resource.setup(session)
    before = _change_count(session)
    response = client.post(resource.collection.format(**context), json=resource.body(context))
    assert response.status_code == 201, response.json
    assert response.headers["Location"].startswith("/api/v1/")
    assert response.headers["ETag"].startswith('"')
    for name, value in resource.body(context).items():
        if name in resource.write_only:
            assert name not in response.json, f"{name} is write-only"
        elif name not in {"slug", "url"}:
            assert _shows(response.json[name], value), name
    fetched = client.get(response.headers["Location"])
    assert fetched.status_code == 200
    # A create may say more than a read (a new API key's secret), never less or otherwise.
    assert {name: response.json[name] for name in fetched.json} == fetched.json
    if set(response.get_json()) == set(fetched.get_json()):
        assert fetched.headers["ETag"] == response.headers["ETag"]
    assert _change_count(session) > before


@by_name
def test_list_pages_through_everything_with_tokens_and_link_headers(
    client: FlaskClient, session: Session, resource: Resource
) -> None:
    context = resource.setup(session)
    url = resource.collection.format(**context)
    created = {client.post(url, json=resource.body(context, n)).json["id"] for n in range(3)}
    seen: list[int] = []
    response = client.get(url, query_string={"page_size": 2})
    while True:
        assert response.status_code == 200, response.json
        seen.extend(item["id"] for item in response.json["items"])
        token = response.json["next_page_token"]
        if token is None:
            assert "Link" not in response.headers
            break
        assert 'rel="next"' in response.headers["Link"]
        response = client.get(url, query_string={"page_size": 2, "page_token": token})
    assert created <= set(seen)
    assert seen == sorted(seen), "keyset order is by id"
    assert len(seen) == len(set(seen)), "no item appears twice"


@by_name
def test_get_with_a_matching_if_none_match_is_304(
    client: FlaskClient, session: Session, resource: Resource
) -> None:
    _, created = _create(client, session, resource)
    response = client.get(
        created.headers["Location"],
        headers={"If-None-Match": client.get(created.headers["Location"]).headers["ETag"]},
    )
    assert response.status_code == 304
    assert response.data == b""
    changed = client.get(created.headers["Location"], headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200


@with_patch
def test_patch_changes_only_the_given_fields(
    client: FlaskClient, session: Session, resource: Resource
) -> None:
    _, created = _create(client, session, resource)
    response = client.patch(created.headers["Location"], json=resource.patch)
    assert response.status_code == 200, response.json
    for name, value in (resource.patch or {}).items():
        assert response.json[name] == value
    # A date's precision follows the date.
    changed = {
        *(resource.patch or {}),
        *(f"{name}_precision" for name in resource.patch or {}),
        "updated_at",
    }
    untouched = {k: v for k, v in created.json.items() if k not in changed and k in response.json}
    assert {k: response.json[k] for k in untouched} == untouched
    assert response.headers["ETag"] != created.headers["ETag"]


@with_patch
def test_patch_with_a_stale_if_match_is_412_and_changes_nothing(
    client: FlaskClient, session: Session, resource: Resource
) -> None:
    _, created = _create(client, session, resource)
    location = created.headers["Location"]
    etag = client.get(location).headers["ETag"]
    assert (
        client.patch(location, json=resource.patch, headers={"If-Match": etag}).status_code == 200
    )
    stale = client.patch(location, json=resource.patch, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert stale.mimetype == "application/problem+json"
    current = client.get(location)
    assert client.delete(location, headers={"If-Match": etag}).status_code in (412, 405)
    assert client.get(location).json == current.json


@with_patch
def test_patch_with_an_empty_body_changes_nothing_and_records_nothing(
    client: FlaskClient, session: Session, resource: Resource
) -> None:
    _, created = _create(client, session, resource)
    before = _change_count(session)
    response = client.patch(created.headers["Location"], json={})
    assert response.status_code == 200
    assert response.json == {name: created.json[name] for name in response.json}
    assert _change_count(session) == before


@pytest.mark.parametrize("resource", [r for r in RESOURCES if r.deletable], ids=lambda r: r.name)
def test_delete_is_soft_recorded_and_hides_the_record(
    client: FlaskClient, session: Session, resource: Resource
) -> None:
    context, created = _create(client, session, resource)
    location = created.headers["Location"]
    before = _change_count(session)
    response = client.delete(location, headers={"If-Match": created.headers["ETag"]})
    assert response.status_code == 204
    assert response.data == b""
    gone = client.get(location)
    assert gone.status_code == 404
    assert gone.mimetype == "application/problem+json"
    listed = client.get(resource.collection.format(**context), query_string={"page_size": 200})
    assert created.json["id"] not in [item["id"] for item in listed.json["items"]]
    assert client.delete(location).status_code == 404
    assert _change_count(session) > before
    deletions = session.scalars(
        select(ChangeEvent).where(
            ChangeEvent.entity == resource.name,
            ChangeEvent.op == "delete",
            ChangeEvent.entity_id == created.json["id"],
        )
    ).all()
    assert len(deletions) == 1


@by_name
def test_each_change_is_the_typed_change_event_of_its_kind_of_record(
    client: FlaskClient, session: Session, resource: Resource
) -> None:
    """The spec types each kind of record's change events (`<Entity>ChangeEvent`, told apart
    by `entity`), and the feed answers exactly that: a create, an update, a delete."""
    _, created = _create(client, session, resource)
    location = created.headers["Location"]
    ops = ["create"]
    if resource.patch is not None:
        assert client.patch(location, json=resource.patch).status_code == 200
        ops.append("update")
    if resource.deletable:
        assert client.delete(location).status_code == 204
        ops.append("delete")
    feed = client.get(
        "/api/v1/changes", query_string={"entity": resource.name, "entity_id": created.json["id"]}
    )
    assert feed.status_code == 200, feed.json
    events = feed.json["items"]
    assert [event["op"] for event in events] == ops
    for event in events:
        assert change_event_errors(event) == [], event
    assert set(events[0]["changes"]) >= {"id"}


@pytest.mark.parametrize("resource", [r for r in RESOURCES if r.by_slug], ids=lambda r: r.name)
def test_slug_addresses_the_same_record_as_id(
    client: FlaskClient, session: Session, resource: Resource
) -> None:
    context, created = _create(client, session, resource)
    base = resource.collection.format(**context)
    by_slug = client.get(f"{base}/{created.json['slug']}")
    assert by_slug.status_code == 200
    assert by_slug.json == created.json
    duplicate = client.post(base, json={**resource.body(context), "slug": created.json["slug"]})
    assert duplicate.status_code == 409
    assert "slug" in duplicate.json["errors"]


@by_name
def test_unknown_id_is_a_404_problem(
    client: FlaskClient, session: Session, resource: Resource
) -> None:
    _context, created = _create(client, session, resource)
    location = created.headers["Location"].rsplit("/", 1)[0] + "/999999"
    response = client.get(location)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert set(response.get_json()) >= PROBLEM_FIELDS
    assert (
        client.get(created.headers["Location"].rsplit("/", 1)[0] + "/99999999999").status_code
        == 404
    )


@by_name
def test_unknown_field_is_refused_by_name(
    client: FlaskClient, session: Session, resource: Resource
) -> None:
    context = resource.setup(session)
    before = _change_count(session)
    response = client.post(
        resource.collection.format(**context), json={**resource.body(context), "colour": "red"}
    )
    assert response.status_code == 422
    assert response.json["errors"] == {"colour": ["Unknown field."]}
    assert _change_count(session) == before


@by_name
def test_each_missing_required_field_is_named(
    client: FlaskClient, session: Session, resource: Resource
) -> None:
    context = resource.setup(session)
    response = client.post(resource.collection.format(**context), json={})
    assert response.status_code == 422
    assert set(response.json["errors"]) == set(resource.required)


@pytest.mark.parametrize("resource", [r for r in RESOURCES if r.enum_field], ids=lambda r: r.name)
def test_unknown_enum_value_lists_the_allowed_ones(
    client: FlaskClient, session: Session, resource: Resource
) -> None:
    context = resource.setup(session)
    assert resource.enum_field is not None
    body = {**resource.body(context), resource.enum_field: "no-such-value"}
    response = client.post(resource.collection.format(**context), json=body)
    assert response.status_code == 422
    [message] = response.json["errors"][resource.enum_field]
    assert message.startswith("Must be one of: ")


@by_name
def test_wrong_type_is_refused_by_name(
    client: FlaskClient, session: Session, resource: Resource
) -> None:
    context = resource.setup(session)
    body = resource.body(context)
    first_required = resource.required[0]
    body[first_required] = {"nested": ["not", "a", "scalar"]}
    response = client.post(resource.collection.format(**context), json=body)
    assert response.status_code == 422
    assert first_required in response.json["errors"]


@by_name
def test_unknown_query_parameter_is_a_400_naming_it(
    client: FlaskClient, session: Session, resource: Resource
) -> None:
    context = resource.setup(session)
    response = client.get(resource.collection.format(**context), query_string={"sort": "title"})
    assert response.status_code == 400
    assert response.json["errors"] == {"sort": ["Unknown field."]}


@by_name
def test_a_tampered_page_token_is_a_400(
    client: FlaskClient, session: Session, resource: Resource
) -> None:
    context = resource.setup(session)
    response = client.get(
        resource.collection.format(**context), query_string={"page_token": "forged.token"}
    )
    assert response.status_code == 400
    assert "page_token" in response.json["errors"]


def test_the_table_and_the_named_tests_cover_every_operation_in_the_spec(app: Flask) -> None:
    import json

    spec = json.loads(spec_document(app))
    in_spec = {
        operation["operationId"]
        for path in spec["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    covered = set().union(*(resource.operations for resource in RESOURCES)) | EXERCISED_ELSEWHERE
    assert in_spec - covered == set(), "operations without tests"
    assert covered - in_spec == set(), "tests for operations that do not exist"
