"""Issue 15, item 4: the webhook deliverer is not a way into the service's own network. It
follows no redirect, connects to the address it checked (no second DNS answer), refuses
every special address range, and records failures that name no address, port or errno.

No traffic leaves loopback: the receivers here listen on 127.0.0.1, and where a public
address is resolved the connect step is replaced."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from service.core.vocabularies import DeliveryStatus, Role
from service.webhooks import services, targets
from service.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.builders import make_theme
from tests.conftest import app_on_connection, client_with_key

LOCAL = services.DeliverySettings(allow_private_targets=True, timeout_seconds=2)
PUBLIC = services.DeliverySettings(timeout_seconds=2)
SECRET = "a-shared-secret-of-some-length"
# A public address that is resolved here but never connected to (the connect is replaced).
CHECKED = "93.184.215.14"


class Loopback(ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 that records each request's method, path and Host header,
    and answers each with `answer(handler)`."""

    def __init__(self, answer: Callable[[BaseHTTPRequestHandler], None]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answer = answer
        self.hits: list[tuple[str, str, str | None]] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    server: Loopback

    def _any(self) -> None:
        self.server.hits.append((self.command, self.path, self.headers["Host"]))
        self.server.answer(self)

    do_GET = do_POST = do_PUT = do_HEAD = _any

    def log_message(self, *_args: object) -> None:
        return None


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[BaseHTTPRequestHandler], None]], Loopback]]:
    started: list[Loopback] = []

    def start(answer: Callable[[BaseHTTPRequestHandler], None]) -> Loopback:
        server = Loopback(answer)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def answering(status: int, body: bytes = b"", **headers: str) -> Callable[..., None]:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


def one_delivery(session: Session, url: str, settings: services.DeliverySettings) -> int:
    """A subscription to `url` and one event due for it; the subscription's id."""
    subscription = services.create_webhook(
        session,
        data={"url": url, "secret": SECRET, "event_types": ["theme.created"]},
        settings=settings,
    )
    make_theme(session)
    assert services.fan_out(session) == 1
    return subscription.id


def the_delivery(session: Session) -> WebhookDelivery:
    delivery = session.scalars(select(WebhookDelivery)).one()
    session.refresh(delivery)
    return delivery


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_not_followed(session: Session, serve: Any, status: int) -> None:
    elsewhere = serve(answering(200))
    redirecting = serve(answering(status, Location=f"http://127.0.0.1:{elsewhere.port}/admin"))
    one_delivery(session, f"http://127.0.0.1:{redirecting.port}/hook", LOCAL)
    assert services.deliver_due(session, LOCAL) == 1
    assert redirecting.hits == [("POST", "/hook", f"127.0.0.1:{redirecting.port}")]
    assert elsewhere.hits == [], "the redirect was followed"
    delivery = the_delivery(session)
    assert delivery.status != DeliveryStatus.DELIVERED
    assert (delivery.last_status_code, delivery.last_error) == (
        status,
        f"HTTP {status}: redirects are not followed.",
    )


def test_the_connection_goes_to_the_address_that_was_checked(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name answers a public address when checked, then 127.0.0.1."""
    answers = iter([CHECKED, CHECKED])  # the subscription's check, then the delivery's
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.example":
            return real_getaddrinfo(host, port, *args, **kwargs)
        address = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    connected: list[tuple[str, int]] = []

    def create_connection(address: tuple[str, int], *_args: Any, **_kwargs: Any) -> Any:
        connected.append(address)
        raise ConnectionRefusedError(111, f"Connection refused by {address[0]}:{address[1]}")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    one_delivery(session, "http://rebind.example:8080/hook", PUBLIC)
    services.deliver_due(session, PUBLIC)
    assert connected == [(CHECKED, 8080)], "connected to something other than the checked address"
    assert the_delivery(session).last_error == targets.CONNECTION_FAILED


def test_tls_checks_the_urls_host_on_the_checked_address(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTPS to a pinned address still sends the URL's host as the TLS server name, and
    verifies the certificate against it."""
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "hook.example":
            return real_getaddrinfo(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (CHECKED, port))]

    connected: list[tuple[str, int]] = []
    server_names: list[str | None] = []

    def create_connection(address: tuple[str, int], *_args: Any, **_kwargs: Any) -> Any:
        connected.append(address)
        return socket.socket()  # never connected: the handshake below is refused first

    class Context:
        def wrap_socket(self, sock: socket.socket, *, server_hostname: str | None) -> Any:
            server_names.append(server_hostname)
            raise ssl.SSLCertVerificationError("certificate verify failed")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(targets, "TLS", Context())
    one_delivery(session, "https://hook.example/hook", PUBLIC)
    services.deliver_due(session, PUBLIC)
    assert (connected, server_names) == ([(CHECKED, 443)], ["hook.example"])
    assert the_delivery(session).last_error == targets.TLS_FAILED


SPECIAL = [
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b:1::a00:1",  # local-use NAT64
    "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
    "::ffff:7f00:1",  # IPv4-mapped 127.0.0.1
    "::ffff:a00:1",
    "224.0.0.1",  # multicast
    "ff02::1",
    "0.0.0.0",  # unspecified: reaches the host itself
    "::",
    "255.255.255.255",
    "100.64.0.1",  # shared address space (CGNAT)
    "198.18.0.1",  # benchmarking
    "169.254.169.254",  # link-local: cloud metadata
    "fe80::1",
    "fc00::1",  # unique local
    "::1",
    "127.0.0.2",
    "10.0.0.1",
    "240.0.0.1",  # reserved
]


def literal(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def subscribe(client: FlaskClient, address: str) -> Any:
    """Ask for a webhook to a URL on this address."""
    return client.post(
        "/api/v1/webhooks",
        json={
            "url": f"http://{literal(address)}:8080/hook",
            "secret": SECRET,
            "event_types": ["theme.created"],
        },
    )


@pytest.mark.parametrize("address", SPECIAL)
def test_special_addresses_are_refused(client: FlaskClient, address: str) -> None:
    response = subscribe(client, address)
    assert response.status_code == 422, response.json
    assert response.json["errors"] == {"url": [targets.ADDRESS_REFUSED]}


@pytest.mark.parametrize(
    "address",
    ["224.0.0.1", "ff02::1", "0.0.0.0", "::", "255.255.255.255", "169.254.169.254", "fe80::1"],
)
def test_some_addresses_are_refused_even_where_private_targets_are_allowed(
    database_url: str, connection: Connection, keys: dict[Role, str], address: str
) -> None:
    app = app_on_connection(database_url, connection, webhook_allow_private_targets=True)
    client = client_with_key(app, keys[Role.EDITOR])
    response = subscribe(client, address)
    assert response.status_code == 422, response.json
    assert response.json["errors"] == {"url": [targets.ADDRESS_REFUSED]}


@pytest.mark.parametrize(
    ("address", "allow_private"),
    [
        ("93.184.215.14", False),
        ("2606:4700::1", False),
        ("64:ff9b::808:808", False),  # NAT64 of a public address
        ("127.0.0.1", True),
        ("::1", True),
        ("10.0.0.1", True),
        ("100.64.0.1", True),
        ("::ffff:a00:1", True),
    ],
)
def test_public_addresses_pass_and_private_ones_where_allowed(
    database_url: str,
    connection: Connection,
    keys: dict[Role, str],
    address: str,
    allow_private: bool,
) -> None:
    app = app_on_connection(database_url, connection, webhook_allow_private_targets=allow_private)
    client = client_with_key(app, keys[Role.EDITOR])
    response = subscribe(client, address)
    assert response.status_code == 201, response.json


def test_an_address_that_turns_private_after_the_subscription_is_refused_at_delivery(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    session.add(
        WebhookSubscription(
            url="http://10.0.0.1:6379/", secret=SECRET, event_types=["theme.created"], last_seq=0
        )
    )
    session.commit()
    make_theme(session)
    services.fan_out(session)

    def create_connection(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("connected to a refused address")

    monkeypatch.setattr(socket, "create_connection", create_connection)
    services.deliver_due(session, PUBLIC)
    delivery = the_delivery(session)
    assert (delivery.status, delivery.last_status_code, delivery.last_error) == (
        DeliveryStatus.FAILED,
        None,
        targets.ADDRESS_REFUSED,
    )


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def silent_listener() -> tuple[socket.socket, int]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    return listener, int(listener.getsockname()[1])


def test_failures_name_no_address_port_or_errno(
    client: FlaskClient, session: Session, serve: Any
) -> None:
    """What /deliveries shows for each way a delivery can fail: the subscriber's words, not
    the operating system's."""
    quick = services.DeliverySettings(allow_private_targets=True, timeout_seconds=0.5)
    listener, silent = silent_listener()
    leaky = serve(answering(500, b"database at 10.0.0.5:5432 is down"))
    cases = {
        closed_port(): (None, targets.CONNECTION_FAILED),
        silent: (None, targets.TIMED_OUT),
        leaky.port: (500, "HTTP 500"),
    }
    try:
        ids = {
            port: services.create_webhook(
                session,
                data={
                    "url": f"http://127.0.0.1:{port}/hook",
                    "secret": SECRET,
                    "event_types": ["theme.created"],
                },
                settings=quick,
            ).id
            for port in cases
        }
        make_theme(session)
        services.fan_out(session)
        services.deliver_due(session, quick)
    finally:
        listener.close()
    for port, expected in cases.items():
        shown = client.get(f"/api/v1/webhooks/{ids[port]}/deliveries").json["items"]
        assert [(d["last_status_code"], d["last_error"]) for d in shown] == [expected]
        text = shown[0]["last_error"]
        for detail in (str(port), "127.0.0.1", "Errno", "refused", "10.0.0.5", "database"):
            assert detail not in text
