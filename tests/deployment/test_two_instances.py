"""More than one host (issue 16), with local processes: docker-compose.yml's shape without
Docker. nginx from Debian's packages, running service/deploy/nginx.conf, in front of two
gunicorn instances with the production config, on one PostgreSQL database and one Redis,
and two webhook workers beside them.

The instances share nothing but the database and Redis, as two hosts would; each test sends
to them directly where it must say which one answers, and through nginx where a client
would."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis
from marshmallow.validate import Range
from sqlalchemy.engine import make_url

from service.changes.schemas import ChangeEventQuerySchema
from service.core.config import Settings
from service.core.vocabularies import Role
from tests.contract.conftest import (
    LIVE_SECRET_KEY,
    ROOT,
    free_port,
    launch_gunicorn,
    make_keys,
    provisioned_database,
    wait_until_answering,
)
from tests.contract.webhook_receiver import WebhookReceiver, running_receiver

pytestmark = pytest.mark.postgres_only

NGINX_TEMPLATE = ROOT / "service" / "deploy" / "nginx.conf"
# The command that runs webhook deliveries and jobs: `flask --app service ...`.
WORKER_COMMAND = ("worker",)
# A Redis database of this module's own, apart from tests/api/test_ratelimit.py's.
REDIS_URL = os.environ.get("TEST_DEPLOYMENT_REDIS_URL", "redis://127.0.0.1:6379/14")
# Anonymous requests a minute per client address, small enough to reach; API keys are not
# limited here, so that the other tests' traffic never meets a 429.
ANONYMOUS_LIMIT = 8
AGREEMENT = "india-france-loi-defence-space-cooperation"
WEBHOOK_SECRET = "deployment-receiver-secret-0123456789"


def _missing(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def nginx_binary() -> str:
    # Debian puts it in /usr/sbin, which a non-root PATH may not hold.
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None
    )
    if found is None:
        _missing("nginx is not installed (`make system-tools` installs it)")
    assert found is not None
    return found


def reachable_redis() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        _missing(f"Redis at {REDIS_URL} is unreachable: {error}")
    return REDIS_URL


def _substitute(text: str, pattern: str, replacement: str) -> str:
    rendered, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    assert count == 1, f"{NGINX_TEMPLATE} no longer has one line matching {pattern!r}"
    return rendered


def render_nginx_conf(template: str, *, port: int, upstreams: list[str], prefix: Path) -> str:
    """The production config for this machine: a loopback port, the two local instances, the
    user the test runs as, and temporary files under `prefix`. Everything else as shipped."""
    user = "user root;" if os.geteuid() == 0 else ""
    text = _substitute(template, r"^user nginx;$", user)
    text = _substitute(text, r"^(\s*)listen 80;$", rf"\g<1>listen 127.0.0.1:{port};")
    for number, upstream in enumerate(upstreams, start=1):
        text = _substitute(text, rf"^(\s*)server api{number}:8000 ", rf"\g<1>server {upstream} ")
    temp_paths = "".join(
        f"    {kind}_temp_path {prefix / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return _substitute(text, r"^http \{\n", "http {\n" + temp_paths)


@dataclass
class Instance:
    process: subprocess.Popen[bytes]
    url: str


@dataclass
class Shape:
    proxy: str
    instances: list[Instance]
    database_url: str
    keys: dict[Role, str]
    logs: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def headers(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


def _stop_all(stopping: list[tuple[subprocess.Popen[bytes], signal.Signals]]) -> None:
    """Signal each process, then wait for them together (each stops gracefully)."""
    for process, sig in stopping:
        if process.poll() is None:
            process.send_signal(sig)
    for process, _ in stopping:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _start_nginx(
    binary: str, upstreams: list[str], prefix: Path
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(
        render_nginx_conf(NGINX_TEMPLATE.read_text(), port=port, upstreams=upstreams, prefix=prefix)
    )
    log_path = prefix / "nginx.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                binary,
                "-p",
                str(prefix),
                "-c",
                str(conf),
                "-e",
                "stderr",
                "-g",
                f"daemon off; pid {prefix / 'nginx.pid'};",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    wait_until_answering(process, f"{url}/healthz", "nginx", log_path, timeout=15)
    return process, url


def _start_worker(database_url: str, redis_url: str, log_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": LIVE_SECRET_KEY,
        "REDIS_URL": redis_url,
        # The receiver below listens on 127.0.0.1.
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "WEBHOOK_BACKOFF_SECONDS": "0",
    }
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "service", *WORKER_COMMAND],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture(scope="module")
def shape(
    database_url: str, engine: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Shape]:
    binary = nginx_binary()
    redis_url = reachable_redis()
    logs = tmp_path_factory.mktemp("two-instances")
    with provisioned_database(database_url, tmp_path_factory) as url:
        keys = make_keys(url)
        env = {
            "REDIS_URL": redis_url,
            "RATE_LIMIT_PER_MINUTE": "0",
            "ANONYMOUS_RATE_LIMIT_PER_MINUTE": str(ANONYMOUS_LIMIT),
            # nginx is the one proxy in front: the client is the last X-Forwarded-For entry.
            "TRUSTED_PROXY_HOPS": "1",
            "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        }
        instances: list[Instance] = []
        nginx: subprocess.Popen[bytes] | None = None
        workers: list[subprocess.Popen[bytes]] = []
        try:
            with ThreadPoolExecutor(max_workers=2) as pool:
                launched = [
                    pool.submit(launch_gunicorn, url, env, logs / f"instance-{name}.log")
                    for name in ("a", "b")
                ]
                for future in launched:
                    process, base_url = future.result()
                    instances.append(Instance(process, base_url))
            nginx, proxy = _start_nginx(
                binary, [instance.url.removeprefix("http://") for instance in instances], logs
            )
            workers = [_start_worker(url, redis_url, logs / f"worker-{n}.log") for n in range(2)]
            yield Shape(proxy, instances, url, keys, logs, workers)
        finally:
            # nginx's graceful stop is SIGQUIT; gunicorn's and the workers' is SIGTERM.
            _stop_all(
                [(worker, signal.SIGTERM) for worker in workers]
                + ([(nginx, signal.SIGQUIT)] if nginx is not None else [])
                + [(instance.process, signal.SIGTERM) for instance in instances]
            )


def _read_cache_hits(base_url: str) -> float:
    for line in httpx.get(f"{base_url}/metrics").text.splitlines():
        if line.startswith('policy_tracker_read_cache_total{result="hit"}'):
            return float(line.split()[-1])
    return 0.0


def test_a_write_through_one_instance_is_read_at_once_through_the_other(shape: Shape) -> None:
    a, b = shape.instances
    editor, reader = shape.headers(Role.EDITOR), shape.headers(Role.READER)
    slug = f"two-hosts-{uuid.uuid4().hex[:10]}"
    created = httpx.post(
        f"{a.url}/api/v1/agreements",
        headers=editor,
        json={"slug": slug, "title": "Before", "doc_type": "mou"},
    )
    assert created.status_code == 201, created.text
    path = f"/api/v1/agreements/{slug}"
    hits = _read_cache_hits(b.url)
    # A new connection each time, so that both of B's workers answer and keep the answer.
    before = [httpx.get(f"{b.url}{path}", headers=reader) for _ in range(8)]
    assert {(r.status_code, r.json()["title"]) for r in before} == {(200, "Before")}
    assert _read_cache_hits(b.url) >= hits + 4, "B kept no answer: the test would prove nothing"
    renamed = httpx.patch(f"{a.url}{path}", headers=editor, json={"title": "After"})
    assert renamed.status_code == 200, renamed.text
    after = [httpx.get(f"{b.url}{path}", headers=reader) for _ in range(8)]
    assert {(r.status_code, r.json()["title"]) for r in after} == {(200, "After")}


def test_rate_limits_are_shared_by_the_instances(shape: Shape) -> None:
    # The budget is a minute's: start early enough in one that it does not roll over.
    seconds_into_minute = time.time() % 60
    if seconds_into_minute > 54:
        time.sleep(61 - seconds_into_minute)
    # An address of this run's own (believed: one trusted hop), so no other traffic counts.
    client = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    urls = [instance.url for instance in shape.instances]
    statuses = [
        httpx.get(f"{urls[n % 2]}/api/v1/themes", headers={"X-Forwarded-For": client}).status_code
        for n in range(2 * ANONYMOUS_LIMIT)
    ]
    assert statuses == [200] * ANONYMOUS_LIMIT + [429] * ANONYMOUS_LIMIT, statuses
    # Through nginx, a client cannot buy a fresh budget by naming another address: nginx
    # appends the one it saw, and that is the one counted.
    spoofed = [
        httpx.get(
            f"{shape.proxy}/api/v1/themes", headers={"X-Forwarded-For": f"192.0.2.{n + 1}"}
        ).status_code
        for n in range(2 * ANONYMOUS_LIMIT)
    ]
    assert spoofed.count(200) <= ANONYMOUS_LIMIT, spoofed
    assert 429 in spoofed, spoofed


def test_nginx_passes_the_request_id_on_and_answers_its_own_refusals_as_problems(
    shape: Shape,
) -> None:
    request_id = f"deploy-{uuid.uuid4().hex[:12]}"
    slug = f"traced-{uuid.uuid4().hex[:10]}"
    made = httpx.post(
        f"{shape.proxy}/api/v1/themes",
        headers={**shape.headers(Role.EDITOR), "X-Request-ID": request_id},
        json={"slug": slug, "name": "Traced"},
    )
    assert made.status_code == 201, made.text
    assert made.headers.get_list("X-Request-ID") == [request_id]
    # The app received it: the change feed records the id the write went by.
    feed = httpx.get(
        f"{shape.proxy}/api/v1/changes",
        headers=shape.headers(Role.READER),
        params={"entity": "theme", "entity_id": made.json()["id"]},
    ).json()["items"]
    assert [change["request_id"] for change in feed] == [request_id]
    # A body over the import limit is refused by nginx before any instance sees it.
    with socket.create_connection(("127.0.0.1", int(shape.proxy.rsplit(":", 1)[1]))) as raw:
        raw.sendall(
            b"POST /api/v1/themes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {Settings.max_import_bytes + 1}\r\n\r\n".encode()
        )
        answer = raw.recv(65536).decode()
    head, _, body = answer.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 413 "), head
    assert "Content-Type: application/problem+json" in head, head
    problem = json.loads(body)
    assert (problem["status"], problem["instance"]) == (413, "/api/v1/themes")
    # Metrics are each instance's own: scraped there, not through the proxy.
    assert httpx.get(f"{shape.instances[1].url}/metrics").status_code == 200
    hidden = httpx.get(f"{shape.proxy}/metrics")
    assert (hidden.status_code, hidden.headers["Content-Type"]) == (404, "application/problem+json")


def test_long_polls_through_nginx_on_both_instances_are_answered_by_one_write(
    shape: Shape,
) -> None:
    reader, editor = shape.headers(Role.READER), shape.headers(Role.EDITOR)
    after = _head_seq(shape)
    with ThreadPoolExecutor(max_workers=2) as pool:
        started = time.monotonic()
        polls = []
        # Two at once: nginx sends the second to the instance not holding the first.
        for _ in range(2):
            polls.append(
                pool.submit(
                    httpx.get,
                    f"{shape.proxy}/api/v1/changes",
                    headers=reader,
                    params={"after": after, "wait": 20},
                    timeout=30,
                )
            )
            time.sleep(0.5)
        assert not any(poll.done() for poll in polls), "a long poll answered before any write"
        made = httpx.post(
            f"{shape.instances[0].url}/api/v1/themes",
            headers=editor,
            json={"slug": f"polled-{uuid.uuid4().hex[:10]}", "name": "Polled"},
        )
        assert made.status_code == 201, made.text
        answers = [poll.result(timeout=25) for poll in polls]
    assert time.monotonic() - started < 10
    assert [answer.status_code for answer in answers] == [200, 200]
    assert [[item["entity_id"] for item in answer.json()["items"]] for answer in answers] == [
        [made.json()["id"]]
    ] * 2
    held_by = {entry["upstream_addr"] for entry in _access_log(shape) if "wait=20" in entry["uri"]}
    assert held_by == {instance.url.removeprefix("http://") for instance in shape.instances}


def _access_log(shape: Shape) -> list[dict[str, Any]]:
    """nginx's access log so far: one JSON object a line (its error lines are not JSON)."""
    lines = (shape.logs / "nginx.log").read_text().splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def _head_seq(shape: Shape) -> int:
    """The change feed's head, read from the database."""
    url = make_url(shape.database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as connection:
        row = connection.execute("SELECT coalesce(max(seq), 0) FROM change_events").fetchone()
    assert row is not None
    return int(row[0])


def test_the_proxy_config_matches_the_service_limits() -> None:
    """nginx.conf restates two of the service's limits: held equal here."""
    template = NGINX_TEMPLATE.read_text()
    [body_limit] = re.findall(r"^\s*client_max_body_size (\d+)m;", template, flags=re.MULTILINE)
    assert int(body_limit) * 1024 * 1024 == Settings.max_import_bytes
    [changes] = re.findall(r"location /api/v1/changes \{(.*?)\}", template, flags=re.DOTALL)
    [poll_timeout] = re.findall(r"proxy_read_timeout (\d+)s;", changes)
    [longest_wait] = [
        validator.max
        for validator in ChangeEventQuerySchema().fields["wait"].validators
        if isinstance(validator, Range)
    ]
    assert int(poll_timeout) > longest_wait


def test_an_idempotency_key_is_honoured_by_the_other_instance(shape: Shape) -> None:
    a, b = shape.instances
    title = f"Idempotent across hosts {uuid.uuid4().hex[:10]}"
    headers = {**shape.headers(Role.EDITOR), "Idempotency-Key": uuid.uuid4().hex}
    path = f"/api/v1/agreements/{AGREEMENT}/commitments"
    first = httpx.post(f"{a.url}{path}", headers=headers, json={"title": title})
    assert first.status_code == 201, first.text
    replay = httpx.post(f"{b.url}{path}", headers=headers, json={"title": title})
    assert replay.status_code == 201, replay.text
    assert replay.content == first.content
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert _titles(shape.database_url, title) == {title: 1}


def _titles(database_url: str, like: str) -> dict[str, int]:
    """How many live commitments the database holds with each title matching `like`."""
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT title, count(*) FROM commitments WHERE title LIKE %s GROUP BY title", (like,)
        ).fetchall()
    return {title: count for title, count in rows}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with running_receiver() as server:
        yield server


def test_each_webhook_event_is_delivered_once_by_two_workers(
    shape: Shape, receiver: WebhookReceiver
) -> None:
    assert all(worker.poll() is None for worker in shape.workers), "a worker has stopped"
    editor = shape.headers(Role.EDITOR)
    run = uuid.uuid4().hex[:8]
    subscribed = httpx.post(
        f"{shape.proxy}/api/v1/webhooks",
        headers=editor,
        json={"url": receiver.url, "secret": WEBHOOK_SECRET, "event_types": ["theme.created"]},
    )
    assert subscribed.status_code == 201, subscribed.text
    events = 20
    slugs = [f"hooked-{run}-{n}" for n in range(events)]
    for n, slug in enumerate(slugs):
        instance = shape.instances[n % 2]
        made = httpx.post(
            f"{instance.url}/api/v1/themes", headers=editor, json={"slug": slug, "name": slug}
        )
        assert made.status_code == 201, made.text
    deadline = time.monotonic() + 20
    while len(receiver.answered(200)) < events and time.monotonic() < deadline:
        time.sleep(0.2)
    # Long enough for a second worker's duplicate, were there one, to arrive too.
    time.sleep(2.5)
    received = receiver.answered(200)
    assert sorted(delivery.event["change"]["changes"]["slug"] for delivery in received) == sorted(
        slugs
    )
    deliveries = Counter(delivery.id for delivery in received)
    seqs = Counter(delivery.event["change"]["seq"] for delivery in received)
    assert len(deliveries) == events
    assert set(deliveries.values()) == {1}, deliveries
    assert set(seqs.values()) == {1}, seqs


@dataclass
class Writes:
    """What the writers were told: titles acknowledged (2xx) and the ids given them."""

    acknowledged: dict[str, int] = field(default_factory=dict)
    acknowledged_after_stop: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    unexpected: list[tuple[str, int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _write_until(
    shape: Shape,
    prefix: str,
    writer: int,
    stop: threading.Event,
    stopped: threading.Event,
    writes: Writes,
) -> None:
    """POST commitments through nginx one after another. A write whose answer did not come
    (connection cut, 502/503/504 from the proxy, 409 while its first try is in progress)
    is sent again with the same Idempotency-Key until it has a final answer."""
    headers = shape.headers(Role.EDITOR)
    url = f"{shape.proxy}/api/v1/agreements/{AGREEMENT}/commitments"
    with httpx.Client(timeout=10) as client:
        number = 0
        while not stop.is_set():
            title = f"{prefix}-{writer}-{number}"
            key = {"Idempotency-Key": uuid.uuid4().hex}
            deadline = time.monotonic() + 20
            while True:
                try:
                    response = client.post(url, headers={**headers, **key}, json={"title": title})
                except httpx.TransportError as error:
                    outcome = type(error).__name__
                else:
                    if response.status_code == 201:
                        with writes.lock:
                            writes.acknowledged[title] = response.json()["id"]
                            writes.acknowledged_after_stop += stopped.is_set()
                        break
                    if response.status_code not in (409, 502, 503, 504):
                        with writes.lock:
                            writes.unexpected.append((title, response.status_code, response.text))
                        break
                    outcome = str(response.status_code)
                with writes.lock:
                    writes.retries[outcome] += 1
                if time.monotonic() > deadline:
                    with writes.lock:
                        writes.unexpected.append((title, 0, f"no final answer: {outcome}"))
                    break
                time.sleep(0.05)
            number += 1


def _writes_answered_by(shape: Shape, instance: Instance) -> int:
    """POSTs that nginx's access log (JSON lines) says this instance answered with a 201."""
    upstream = instance.url.removeprefix("http://")
    return sum(
        1
        for entry in _access_log(shape)
        if (entry["method"], entry["status"], entry["upstream_addr"]) == ("POST", 201, upstream)
    )


def test_stopping_one_instance_under_load_loses_no_acknowledged_write(shape: Shape) -> None:
    a = shape.instances[0]
    prefix = f"load-{uuid.uuid4().hex[:8]}"
    writes = Writes()
    stop, stopped = threading.Event(), threading.Event()
    writers = [
        threading.Thread(target=_write_until, args=(shape, prefix, n, stop, stopped, writes))
        for n in range(4)
    ]
    for writer in writers:
        writer.start()
    try:
        time.sleep(2)
        # gunicorn's graceful stop: no new connections, the requests in hand finished.
        a.process.send_signal(signal.SIGTERM)
        stopped.set()
        time.sleep(3)
    finally:
        stop.set()
        for writer in writers:
            writer.join(timeout=30)
    assert a.process.wait(timeout=30) == 0
    assert not writes.unexpected, writes.unexpected[:5]
    # A carried part of the load until it was stopped, or this would show nothing.
    assert _writes_answered_by(shape, a) > 0
    assert writes.acknowledged_after_stop > 0, "nothing was written after A stopped"
    held = _titles(shape.database_url, f"{prefix}-%")
    assert set(writes.acknowledged) <= set(held), sorted(set(writes.acknowledged) - set(held))
    assert {title: count for title, count in held.items() if count != 1} == {}
    # Reads through nginx go on, answered by B alone.
    reads = [
        httpx.get(
            f"{shape.proxy}/api/v1/agreements/{AGREEMENT}", headers=shape.headers(Role.READER)
        )
        for _ in range(20)
    ]
    assert [r.status_code for r in reads] == [200] * 20
    print(
        f"{len(writes.acknowledged)} writes acknowledged, {writes.acknowledged_after_stop} "
        f"after A was stopped; retries: {dict(writes.retries)}"
    )
