"""Where a webhook may be sent, and the sending itself.

A subscriber chooses the URL, so the deliverer must not become a way into the service's own
network. The host is resolved once and every address it resolves to is checked; the request
then goes to those checked addresses (its Host header, TLS server name and certificate check
still the URL's host), so a second DNS answer cannot move it elsewhere (rebinding). Redirects
are not followed: a 3xx is a failed attempt. What a failure records says what went wrong in
the subscriber's terms, never an address, a port or an operating-system message, so the
deliveries list cannot be read as a scan of what the service can reach.

Plain `http.client` with a connection that is given its addresses does all this; urllib (or
requests) would resolve the host again when connecting and follow redirects by default."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

BAD_URL = "Must be an http or https URL with a host."
ADDRESS_REFUSED = "The host does not resolve to an address webhooks may be sent to."
CONNECTION_FAILED = "Connection failed."
TLS_FAILED = "TLS handshake failed (certificate or protocol)."
TIMED_OUT = "Timed out waiting for the answer."
NO_HTTP_ANSWER = "The connection closed without a valid HTTP answer."

DEFAULT_PORTS = {"http": 80, "https": 443}
# IPv6 forms that carry an IPv4 address, which is what they reach: judged as that address.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# RFC 8215: NAT64 for a network's own use. Its prefix length is chosen locally, so where the
# IPv4 address sits is unknown: the whole range counts as private.
LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")
TLS = ssl.create_default_context()


class Refused(Exception):
    """The service will not send to this URL; the message says why, naming no address."""


def address_refused(ip: IPAddress, *, allow_private: bool) -> bool:
    """Whether a webhook must not go to this address. `allow_private` lets private and
    loopback addresses through (a receiver on the same network, the tests' own); link-local
    (cloud metadata), multicast, broadcast, unspecified (0.0.0.0 reaches the host itself) and
    reserved addresses are never a receiver."""
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        return address_refused(embedded, allow_private=allow_private)
    if ip.is_loopback or ip in LOCAL_NAT64:
        return not allow_private
    if ip.is_multicast or ip.is_unspecified or ip.is_link_local or ip.is_reserved:
        return True
    return not (ip.is_global or allow_private)


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


@dataclass(frozen=True)
class Target:
    """A webhook URL and the addresses its host resolved to, each one checked."""

    scheme: str
    host: str
    port: int
    # host[:port] as the URL gives them: the Host header.
    authority: str
    path: str
    addresses: tuple[IPAddress, ...]


def resolve_target(url: str, *, allow_private: bool) -> Target:
    """The target to send to, or Refused: only http(s), and a host whose every address may be
    reached (see `address_refused`)."""
    try:
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise Refused(BAD_URL)
        # The ASCII form goes in the Host header and the TLS server name.
        host = parts.hostname.encode("idna").decode("ascii")
        port = DEFAULT_PORTS[parts.scheme] if parts.port is None else parts.port
    except ValueError:
        raise Refused(BAD_URL) from None
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        addresses = tuple(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in answers))
    except (OSError, UnicodeError, ValueError):
        # Told apart from a refused address, it would say which internal names exist.
        raise Refused(ADDRESS_REFUSED) from None
    if not addresses or any(
        address_refused(address, allow_private=allow_private) for address in addresses
    ):
        raise Refused(ADDRESS_REFUSED)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    authority = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        authority += f":{parts.port}"
    return Target(
        scheme=parts.scheme,
        host=host,
        port=port,
        authority=authority,
        path=quote(path, safe="/?:@!$&'()*+,;=%~"),
        addresses=addresses,
    )


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


Sender = Callable[[Target, bytes, dict[str, str], float], Outcome]


class PinnedConnection(http.client.HTTPConnection):
    """An HTTP or HTTPS connection to the target's checked addresses only: the resolver is not
    asked again. TLS verifies the certificate against the URL's host, as a browser would."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.target = target
        self.budget = timeout

    def connect(self) -> None:
        sock = self._open()
        # Connecting may have used up part of the timeout; the exchange gets all of it.
        sock.settimeout(self.budget)
        if self.target.scheme == "https":
            try:
                sock = TLS.wrap_socket(sock, server_hostname=self.target.host)
            except Exception:
                sock.close()
                raise
        self.sock = sock

    def _open(self) -> socket.socket:
        """A connection to the first checked address that accepts one, all within the timeout."""
        deadline = time.monotonic() + self.budget
        error: OSError = ConnectionError()
        for address in self.target.addresses:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                return socket.create_connection((str(address), self.target.port), remaining)
            except OSError as failure:
                error = failure
        raise error


def send_http(target: Target, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
    """POST the body; the status of the answer, or what went wrong in words that name no
    address. The answer's body is not read."""
    connection = PinnedConnection(target, timeout)
    try:
        try:
            connection.connect()
        except ssl.SSLError:
            return Outcome(None, TLS_FAILED)
        except (OSError, ValueError):
            return Outcome(None, CONNECTION_FAILED)
        try:
            connection.request(
                "POST", target.path, body=body, headers={**headers, "Host": target.authority}
            )
            status = connection.getresponse().status
        except TimeoutError:
            return Outcome(None, TIMED_OUT)
        except (http.client.HTTPException, OSError, ValueError):
            return Outcome(None, NO_HTTP_ANSWER)
    finally:
        connection.close()
    if 300 <= status < 400:
        return Outcome(status, f"HTTP {status}: redirects are not followed.")
    return Outcome(status, None if 200 <= status < 300 else f"HTTP {status}")
