"""Webhooks for real: a receiver on 127.0.0.1 that checks every signature and fails each
delivery's first try, and two worker processes sending at once, on PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from service.core.vocabularies import Role
from tests.contract.conftest import LIVE_SECRET_KEY, ROOT
from tests.contract.webhook_receiver import Delivery, WebhookReceiver, running_receiver

pytestmark = pytest.mark.postgres_only

SECRET = "receiver-shared-secret-0123456789"
EVENTS = 30


@dataclass
class SignedOnSecondTry:
    """Checks each delivery's signature, and fails each delivery's first try: the retry
    must bring it."""

    tries: Counter[str] = field(default_factory=Counter)
    bad_signatures: int = 0

    def __call__(self, delivery: Delivery) -> int:
        parts = dict(
            part.split("=", 1) for part in delivery.headers["X-PolicyTracker-Signature"].split(",")
        )
        expected = hmac.new(
            SECRET.encode(), f"{parts['t']}.".encode() + delivery.body, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, parts["v1"]):
            self.bad_signatures += 1
            return 400
        self.tries[delivery.id] += 1
        return 500 if self.tries[delivery.id] == 1 else 200


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


@pytest.fixture
def answer() -> SignedOnSecondTry:
    return SignedOnSecondTry()


@pytest.fixture
def receiver(answer: SignedOnSecondTry) -> Iterator[WebhookReceiver]:
    with running_receiver(answer) as server:
        yield server


def test_two_workers_deliver_every_event_once_signed_after_a_failure(
    live_server: str,
    live_database_url: str,
    live_keys: dict[Role, str],
    receiver: WebhookReceiver,
    answer: SignedOnSecondTry,
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
    accepted = receiver.answered(200)
    assert answer.bad_signatures == 0
    assert len({delivery.id for delivery in accepted}) == EVENTS
    assert len(accepted) == EVENTS, "a delivery accepted twice"
    assert set(answer.tries.values()) == {2}, "each: one failure, then one success"
    assert sorted(delivery.event["change"]["changes"]["slug"] for delivery in accepted) == sorted(
        f"hooked-{n}" for n in range(EVENTS)
    )
    listed = httpx.get(
        f"{live_server}/api/v1/webhooks/{subscription.json()['id']}/deliveries",
        headers=editor,
        params={"page_size": 200},
    ).json()["items"]
    assert [(d["status"], d["attempts"]) for d in listed] == [("delivered", 2)] * EVENTS
