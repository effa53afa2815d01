"""Webhooks for real: a receiver on 127.0.0.1 that checks every signature and fails each
delivery's first try, and two worker processes sending at once, on PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from service.vocabularies import Role
from tests.contract.conftest import LIVE_SECRET_KEY, ROOT

pytestmark = pytest.mark.postgres_only

SECRET = "receiver-shared-secret-0123456789"
EVENTS = 30


class Receiver(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.tries: Counter[str] = Counter()
        self.accepted: Counter[str] = Counter()
        self.bad_signatures = 0
        self.events: list[dict[str, object]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        parts = dict(
            part.split("=", 1) for part in self.headers["X-PolicyTracker-Signature"].split(",")
        )
        expected = hmac.new(
            SECRET.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256
        ).hexdigest()
        delivery = self.headers["X-PolicyTracker-Delivery"]
        with self.server.lock:
            if not hmac.compare_digest(expected, parts["v1"]):
                self.server.bad_signatures += 1
                status = 400
            else:
                self.server.tries[delivery] += 1
                # Each delivery's first try fails: the retry must bring it.
                status = 500 if self.server.tries[delivery] == 1 else 200
                if status == 200:
                    self.server.accepted[delivery] += 1
                    self.server.events.append(json.loads(body))
        self.send_response(status)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        return None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def worker(database_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": LIVE_SECRET_KEY,
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "WEBHOOK_BACKOFF_SECONDS": "0",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "service",
            "deliver-webhooks",
            "--once",
            "--batch",
            "5",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_two_workers_deliver_every_event_once_signed_after_a_failure(
    live_server: str, live_database_url: str, live_keys: dict[Role, str], receiver: Receiver
) -> None:
    editor = {"Authorization": f"Bearer {live_keys[Role.EDITOR]}"}
    subscription = httpx.post(
        f"{live_server}/api/v1/webhooks",
        headers=editor,
        json={"url": receiver.url, "secret": SECRET, "event_types": ["theme.created"]},
    )
    assert subscription.status_code == 201, subscription.text
    for n in range(EVENTS):
        assert (
            httpx.post(
                f"{live_server}/api/v1/themes",
                headers=editor,
                json={"slug": f"hooked-{n}", "name": f"Hooked {n}"},
            ).status_code
            == 201
        )
    workers = [worker(live_database_url), worker(live_database_url)]
    for process in workers:
        output, _ = process.communicate(timeout=120)
        assert process.returncode == 0, output.decode()
    assert receiver.bad_signatures == 0
    assert len(receiver.accepted) == EVENTS
    assert set(receiver.accepted.values()) == {1}, "a delivery accepted twice"
    assert set(receiver.tries.values()) == {2}, "each: one failure, then one success"
    assert sorted(event["change"]["changes"]["slug"] for event in receiver.events) == sorted(  # type: ignore[index]
        f"hooked-{n}" for n in range(EVENTS)
    )
    listed = httpx.get(
        f"{live_server}/api/v1/webhooks/{subscription.json()['id']}/deliveries",
        headers=editor,
        params={"page_size": 200},
    ).json()["items"]
    assert [(d["status"], d["attempts"]) for d in listed] == [("delivered", 2)] * EVENTS
