"""Guards for the hot endpoints of the benchmark (docs/benchmarks.md), checked by counting and
by plans, never by timing: each answers in a fixed number of statements, whatever the size of
the data, and on PostgreSQL its queries reach their rows through an index."""

from __future__ import annotations

from datetime import date
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, insert, select, text
from sqlalchemy.event import listen
from sqlalchemy.orm import Session

from service.agreements.models import Agreement
from service.assessments.models import StatusAssessment
from service.commitments.models import Commitment
from service.core.dates import PartialDate
from service.core.vocabularies import ImplementationStatus, Role
from service.themes.models import Theme
from tests.builders import (
    make_agreement,
    make_commitment,
    make_meeting,
    make_membership,
    make_organization,
    make_person,
    make_post,
    make_source,
    make_theme,
)
from tests.conftest import StatementLog, client_with_key, committed_key, make_app

STATUSES = [ImplementationStatus.ADVANCED, ImplementationStatus.INITIATED]


@pytest.fixture(scope="session")
def app(app_with_speedups: Flask) -> Flask:
    """The guards count the statements of the service as it runs, speed-ups on."""
    return app_with_speedups


def add_agreement(session: Session, commitments: int, assessments: int = 1) -> Agreement:
    """An agreement with `commitments` commitments under ten sections, each with a history of
    `assessments` assessments."""
    agreement: Agreement = make_agreement(session)
    sections = list(
        session.scalars(
            insert(Commitment).returning(Commitment.id),
            [_commitment(agreement.id, n, None, 0) for n in range(10)],
        )
    )
    children = list(
        session.scalars(
            insert(Commitment).returning(Commitment.id),
            [
                _commitment(agreement.id, n, sections[n % 10], 1)
                for n in range(max(0, commitments - 10))
            ],
        )
    )
    session.execute(
        insert(StatusAssessment),
        [
            {
                "commitment_id": commitment_id,
                "status": STATUSES[n % 2],
                "as_of_value": date(2024, n % 9 + 1, 1),
                "as_of_precision": "day",
                "assessor_kind": "independent",
                "confidence": "medium",
            }
            for n, commitment_id in enumerate(sections + children)
            for _ in range(assessments)
        ],
    )
    session.commit()
    return agreement


def _commitment(agreement_id: int, n: int, parent_id: int | None, depth: int) -> dict[str, Any]:
    return {
        "agreement_id": agreement_id,
        "parent_id": parent_id,
        "depth": depth,
        "title": f"Commitment {n}",
        "kind": "commitment",
        "weight": 1.0,
        "current_status": STATUSES[n % 2],
        "due_date_precision": "unknown",
    }


def hot_requests(session: Session, agreement: Agreement) -> dict[str, tuple[str, str]]:
    commitment_id = session.scalar(
        select(Commitment.id)
        .where(Commitment.agreement_id == agreement.id, Commitment.depth == 1)
        .limit(1)
    )
    return {
        "get one agreement": ("GET", f"/api/v1/agreements/{agreement.slug}"),
        "get one commitment": ("GET", f"/api/v1/commitments/{commitment_id}"),
        "a page of 50 with a status filter": (
            "GET",
            "/api/v1/commitments?status=advanced&page_size=50",
        ),
        "an agreement's commitments": (
            "GET",
            f"/api/v1/agreements/{agreement.id}/commitments?page_size=50",
        ),
        "statistics for one agreement": (
            "GET",
            f"/api/v1/stats/summary?agreement={agreement.slug}",
        ),
        "statistics for everything": ("GET", "/api/v1/stats/summary"),
        "statistics of each agreement": ("GET", "/api/v1/stats/agreements?page_size=50"),
        "progress over time": (
            "GET",
            f"/api/v1/stats/progress?agreement={agreement.slug}&from=2024-01&to=2024-12",
        ),
        "create an assessment": ("POST", f"/api/v1/commitments/{commitment_id}/assessments"),
    }


ASSESSMENT: dict[str, Any] = {
    "status": "advanced",
    "as_of": "2025-01",
    "assessor_kind": "independent",
}


@pytest.fixture
def assessment_with_a_source(session: Session) -> None:
    """The create's body cites a source of this test's own (evidence before status)."""
    ASSESSMENT["source_ids"] = [make_source(session).id]


# The most statements each may send when it is computed (not answered from the read cache);
# the count must not grow with the data either. Every read starts with the key and the change
# feed's head (service/speedups/readcache.py).
STATEMENT_LIMITS = {
    "get one agreement": 3,  # the agreement with its themes
    "get one commitment": 3,  # the commitment with its themes, in one statement
    "a page of 50 with a status filter": 3,  # the page with its themes, in one statement
    "an agreement's commitments": 4,  # the agreement, the page with its themes
    # the agreement's id, its tallies, its overdue count, its indicators (and their periods
    # when it has any)
    "statistics for one agreement": 6,
    "statistics for everything": 5,  # the tallies, the overdue count, the indicators
    # the page of agreements and their themes, the page's tallies, its overdue counts
    "statistics of each agreement": 6,
    "progress over time": 7,
    # The key, the agreement locked, the sources cited, the insert, its sources, the tree
    # (with the monthly rows' span), the assessments of the commitment's root subtree, the
    # new one's effective progress, the commitments that moved, the statistics' tallies
    # (two), the monthly rows (their change; when the span grows, the months it gains and
    # the span: one to three), the change events; on PostgreSQL also the change feed's lock
    # (and the agreement, when its progress moves). The writes after the tree is read go in
    # one round trip on PostgreSQL, the monthly rows' with them.
    "create an assessment": 16,
}
# Answered from the read cache: the key and the head.
CACHED_READ_STATEMENTS = 2


def statements_sent(
    client: FlaskClient, sql: StatementLog, method: str, path: str, *, computed: bool = True
) -> list[tuple[str, Any]]:
    """The statements one request sends; `computed` reads bypass the read cache."""
    headers = {"Cache-Control": "no-cache"} if computed and method == "GET" else {}
    with sql:
        response = client.open(
            path, method=method, json=ASSESSMENT if method == "POST" else None, headers=headers
        )
    assert response.status_code in (200, 201), (path, response.json)
    return list(zip(sql.statements, sql.parameters, strict=True))


@pytest.mark.usefixtures("assessment_with_a_source")
def test_each_hot_endpoint_sends_a_fixed_number_of_statements(
    client: FlaskClient, session: Session, sql: StatementLog
) -> None:
    small = add_agreement(session, 20)
    large = add_agreement(session, 300)
    # The key's first use of the test is recorded once (last_used_at): not a per-request cost.
    statements_sent(client, sql, *hot_requests(session, small)["get one agreement"])
    for name in STATEMENT_LIMITS:
        counts = [
            len(statements_sent(client, sql, *hot_requests(session, agreement)[name]))
            for agreement in (small, large)
        ]
        # The key lookup of the authenticated client is one of them.
        assert counts[0] == counts[1], (name, counts)
        assert counts[1] <= STATEMENT_LIMITS[name], (name, counts, sql.statements)


@pytest.mark.usefixtures("assessment_with_a_source")
def test_the_hot_endpoints_build_no_schema_per_request(
    client: FlaskClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each parses with schema instances made once (service.http.api.Blueprint.arguments):
    building one deep-copies its fields, as much as 0.08 ms for a create's body."""
    agreement = add_agreement(session, 20)
    built: list[str] = []
    original = ma.Schema.__init__

    def counting_init(schema: ma.Schema, *args: Any, **kwargs: Any) -> None:
        built.append(type(schema).__name__)
        original(schema, *args, **kwargs)

    def send(method: str, path: str) -> int:
        json = ASSESSMENT if method == "POST" else None
        headers = {"Cache-Control": "no-cache"}
        return client.open(path, method=method, json=json, headers=headers).status_code

    requests = hot_requests(session, agreement)
    for method, path in requests.values():
        send(method, path)  # the first dump of each shape compiles its dumper (fastdump.py)
    monkeypatch.setattr(ma.Schema, "__init__", counting_init)
    for name, (method, path) in requests.items():
        assert send(method, path) in (200, 201), name
        assert built == [], (name, built)


@pytest.mark.usefixtures("assessment_with_a_source")
def test_a_repeated_read_is_answered_from_the_read_cache_with_two_statements(
    client: FlaskClient, session: Session, sql: StatementLog
) -> None:
    agreement = add_agreement(session, 20)
    statements_sent(client, sql, *hot_requests(session, agreement)["get one agreement"])
    for name, (method, path) in hot_requests(session, agreement).items():
        if method != "GET":
            continue
        statements_sent(client, sql, method, path)
        again = statements_sent(client, sql, method, path, computed=False)
        assert len(again) == CACHED_READ_STATEMENTS, (name, again)


def _fill(
    connection: Connection, session: Session, *, commitments: int, assessments_each: int
) -> None:
    """Another agreement, with many commitments and assessments, written by the database itself
    (fast): beside it the scenario's agreement is a small part of each table, as in the
    benchmark, and the planner must reach it by an index."""
    other = make_agreement(session)
    session.commit()
    connection.execute(
        text(
            "INSERT INTO commitments (agreement_id, title, kind, weight, current_status, "
            "due_date_precision, depth, created_at, updated_at) "
            "SELECT :agreement, 'Filler ' || n, 'commitment', 1.0, 'advanced', 'unknown', 0, "
            "now(), now() FROM generate_series(1, :count) AS n"
        ),
        {"agreement": other.id, "count": commitments},
    )
    connection.execute(
        text(
            "INSERT INTO status_assessments (commitment_id, status, as_of, as_of_precision, "
            "assessed_at, assessor_kind, confidence, created_at) "
            "SELECT c.id, 'advanced', DATE '2024-01-01' + n, 'day', now(), 'independent', "
            "'medium', now() FROM commitments AS c, generate_series(1, :each) AS n "
            "WHERE c.agreement_id = :agreement"
        ),
        {"agreement": other.id, "each": assessments_each},
    )


# The tables' sizes must make an index worth using (the planner rightly scans a small table).
EXPLAINED = [
    "get one commitment",
    "a page of 50 with a status filter",
    "an agreement's commitments",
    "statistics for one agreement",
    "progress over time",
]


@pytest.mark.usefixtures("assessment_with_a_source")
@pytest.mark.postgres_only
def test_the_hot_queries_use_their_indexes_on_postgresql(
    client: FlaskClient, session: Session, connection: Connection, sql: StatementLog
) -> None:
    target = add_agreement(session, 100, assessments=10)
    _fill(connection, session, commitments=20_000, assessments_each=10)
    connection.execute(text("ANALYZE commitments"))
    connection.execute(text("ANALYZE status_assessments"))
    for name in EXPLAINED:
        sent = statements_sent(client, sql, *hot_requests(session, target)[name])
        plans = []
        for statement, parameters in sent:
            if "commitments" not in statement and "status_assessments" not in statement:
                continue
            plan = "\n".join(
                row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters)
            )
            plans.append(plan)
            for table in ("commitments", "status_assessments"):
                assert f"Seq Scan on {table}" not in plan, f"{name}:\n{statement}\n{plan}"
        assert plans, f"{name} sent no query on commitments or assessments"


@pytest.mark.postgres_only
def test_a_read_on_its_own_connection_sends_no_transaction(
    database_url: str, engine: object
) -> None:
    """As gunicorn runs it (a session on the pool, not on a test's transaction): a GET's
    statements run in autocommit, no BEGIN or ROLLBACK, and the connection goes back to the
    pool in its usual isolation level, so the next write is one transaction again."""
    app = make_app(database_url, speedups=True)
    database = app.extensions["database"]
    # For each statement: whether the driver sent it outside a transaction.
    autocommit: list[bool] = []
    listen(
        database.engine,
        "before_cursor_execute",
        lambda _conn, cursor, *_rest: autocommit.append(cursor.connection.autocommit),
    )
    client = app.test_client()
    assert client.get("/api/v1/agreements").status_code == 200
    assert autocommit and all(autocommit)
    with database.engine.connect() as connection:
        level = connection.get_isolation_level()
    assert level == "READ COMMITTED"
    assert database.engine.pool.checkedout() == 0


@pytest.mark.postgres_only
def test_a_keyed_request_looks_its_key_up_outside_a_transaction(
    database_url: str, engine: object
) -> None:
    """psycopg forgets every statement it prepared on a connection when that connection rolls
    back. The key lookup ended in a rollback when it ran in a transaction, and so each keyed
    request left a pooled connection to parse and plan every statement again. As gunicorn
    runs it: a keyed read sends every statement through the pool in autocommit, the key's
    first use recorded (last_used_at) included; the lookup itself runs on the worker's own
    connection (service/speedups/lookups.py), never in a transaction."""
    app = make_app(database_url, speedups=True)
    database = app.extensions["database"]
    autocommit: list[bool] = []
    with committed_key(database, "autocommit probe", Role.READER) as made:
        listen(
            database.engine,
            "before_cursor_execute",
            lambda _conn, cursor, *_rest: autocommit.append(cursor.connection.autocommit),
        )
        client = client_with_key(app, made.key)
        response = client.get("/api/v1/agreements", headers={"Cache-Control": "no-cache"})
        assert response.status_code == 200
        assert len(autocommit) >= 2 and all(autocommit), autocommit


def test_named_references_cost_no_statement_per_item(
    client: FlaskClient, session: Session, sql: StatementLog
) -> None:
    """Participants, actors and meeting participants name their organization and person,
    agreements and commitments their themes, posts their holders, and assessments their
    sources ({id, slug, name}, or what a source is): loaded with the page in a fixed number
    of statements, however many items it holds."""

    def lists(size: int) -> dict[str, str]:
        themes = [make_theme(session, name=f"Theme {size}.{number}") for number in range(size)]
        slugs = [theme.slug for theme in themes]
        agreement = make_agreement(session, themes=slugs)
        commitment = make_commitment(session, agreement, themes=slugs)
        for _ in range(size - 1):
            make_agreement(session, themes=slugs)
            make_commitment(session, agreement, themes=slugs)
        office = make_organization(session)
        for _ in range(size):
            post = make_post(session, organization_id=office.id)
            for _ in range(size):
                make_membership(session, post_id=post.id, start_date=PartialDate.parse("2020"))
        meeting = make_meeting(session)
        sources = [make_source(session) for _ in range(size)]
        for number in range(size):
            organization = make_organization(session, name=f"Organization {number}")
            person = make_person(session, name=f"Person {number}")
            base = "/api/v1"
            for path, body in (
                (f"{base}/agreements/{agreement.id}/participants", {"role": "party"}),
                (f"{base}/commitments/{commitment.id}/actors", {"role": "responsible"}),
                (
                    f"{base}/meetings/{meeting.id}/participants",
                    {"person_id": person.id, "role": "delegate"},
                ),
            ):
                answer = client.post(path, json={"organization_id": organization.id, **body})
                assert answer.status_code == 201, answer.json
            answer = client.post(
                f"{base}/commitments/{commitment.id}/assessments",
                json={
                    "status": "initiated",
                    "as_of": f"2024-{number % 9 + 1:02d}",
                    "assessor_kind": "official",
                    "source_ids": [source.id for source in sources],
                },
            )
            assert answer.status_code == 201, answer.json
        return {
            "agreements": f"/api/v1/agreements?theme={slugs[0]}",
            "posts": f"/api/v1/posts?organization={office.id}",
            "commitments": f"/api/v1/agreements/{agreement.id}/commitments",
            "participants": f"/api/v1/agreements/{agreement.id}/participants",
            "actors": f"/api/v1/commitments/{commitment.id}/actors",
            "meeting participants": f"/api/v1/meetings/{meeting.id}/participants",
            "assessments": f"/api/v1/commitments/{commitment.id}/assessments",
        }

    few, many = lists(1), lists(6)
    for name in few:
        counts = [len(statements_sent(client, sql, "GET", paths[name])) for paths in (few, many)]
        assert counts[0] == counts[1], (name, counts, sql.statements)
    answered = client.get(many["meeting participants"]).json["items"]
    assert [(item["person"]["name"], item["organization"]["name"]) for item in answered] == [
        (f"Person {number}", f"Organization {number}") for number in range(6)
    ]
    assert {item["organization"]["id"] for item in answered} == {
        item["organization_id"] for item in answered
    }
    [assessment, *_] = client.get(many["assessments"]).json["items"]
    assert [source["id"] for source in assessment["sources"]] == assessment["source_ids"]
    assert len(assessment["sources"]) == 6
    posts = client.get(many["posts"]).json["items"]
    assert [len(post["holders"]) for post in posts] == [6] * 6
    assert all(holder["person"]["name"] for post in posts for holder in post["holders"])
    theme_names = {theme.slug: theme.name for theme in session.scalars(select(Theme))}
    for name in ("agreements", "commitments"):
        items = client.get(many[name]).json["items"]
        assert len(items) == 6
        for item in items:
            named = [(theme["slug"], theme["name"]) for theme in item["theme_summaries"]]
            assert len(named) == 6 and named[0][1].startswith("Theme 6.")
            assert named == [(slug, theme_names[slug]) for slug in item["themes"]]
