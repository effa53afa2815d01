"""A webhook target on 127.0.0.1 for the live tests: it records every delivery it is sent,
and answers each with the status a test chooses (200 unless told)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


@dataclass(frozen=True)
class Delivery:
    """One POST the receiver was sent: its headers, its body, and when it came."""

    headers: dict[str, str]
    body: bytes
    arrived: datetime

    @property
    def id(self) -> str:
        return self.headers["X-PolicyTracker-Delivery"]

    @property
    def event(self) -> Any:
        return orjson.loads(self.body)


class WebhookReceiver(ThreadingHTTPServer):
    def __init__(self, answer: Callable[[Delivery], int]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answer = answer
        self.lock = threading.Lock()
        self.received: list[Delivery] = []
        # Each delivery with the status it was answered with.
        self.answers: list[tuple[Delivery, int]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def answered(self, status: int) -> list[Delivery]:
        """The deliveries answered with `status` so far."""
        with self.lock:
            return [delivery for delivery, given in self.answers if given == status]


class _Handler(BaseHTTPRequestHandler):
    server: WebhookReceiver

    def do_POST(self) -> None:
        delivery = Delivery(
            dict(self.headers.items()),
            self.rfile.read(int(self.headers["Content-Length"])),
            datetime.now(UTC),
        )
        with self.server.lock:
            self.server.received.append(delivery)
            status = self.server.answer(delivery)
            self.server.answers.append((delivery, status))
        self.send_response(status)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        return None


@contextmanager
def running_receiver(
    answer: Callable[[Delivery], int] = lambda _delivery: 200,
) -> Iterator[WebhookReceiver]:
    """A receiver serving in a thread for the block's length. `answer` runs under the
    receiver's lock, one delivery at a time."""
    server = WebhookReceiver(answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
