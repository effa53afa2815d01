"""What identifies a record in a URL or a file: an id (a positive integer the id columns
hold) or a slug (lower-case words joined by hyphens, never all digits)."""

from __future__ import annotations

import re

MAX_ID = 2**31 - 1
MAX_SLUG_LENGTH = 100

# Lower-case words joined by hyphens, one word at least holding a letter: never all digits,
# so a slug is never mistaken for an id. (No look-ahead: SDK generators and fuzzers read it.)
# Always matched whole (fullmatch): with `match`, "$" also accepts a trailing newline.
_SLUG_BODY = r"(?:[a-z0-9]+-)*[0-9]*[a-z][a-z0-9]*(?:-[a-z0-9]+)*"
SLUG_PATTERN = rf"^{_SLUG_BODY}$"
# A record's ref, as filters take it: its id (digits, not all zeros) or its slug.
REF_PATTERN = rf"^(?:0*[1-9][0-9]{{0,9}}|{_SLUG_BODY})$"
_SLUG = re.compile(SLUG_PATTERN)


def is_slug(text: str) -> bool:
    """Whether the text is a slug: what a record may be given, and all a ref is looked up by."""
    return len(text) <= MAX_SLUG_LENGTH and _SLUG.fullmatch(text) is not None


def is_id(ref: str) -> bool:
    """Whether a path or filter value is an id rather than a slug ("¹" is a digit to
    Python, but not an id)."""
    return ref.isascii() and ref.isdigit()


def parse_id(text: str) -> int | None:
    """The record id that the text states, or None when it states none: ASCII digits of a
    number within the id column's range. Converted only when short enough to be one, so a
    number of thousands of digits never reaches int() (which refuses over 4,300)."""
    digits = text.lstrip("0")
    if not is_id(text) or len(digits) > len(str(MAX_ID)):
        return None
    value = int(digits or "0")
    return value if 1 <= value <= MAX_ID else None


# An http(s) URL as RFC 3986 writes it: a host name, an IPv4 address or an IPv6 one in
# brackets, an optional port, then a path, a query and a fragment, characters beyond ASCII
# percent-encoded. The one statement of a URL's shape: the spec gives it as the field's
# pattern (with `format: uri`).
_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_IPV6 = r"\[(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|[0-9]{1,3}(?:\.[0-9]{1,3}){3})\]"
_URL_CHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})"
HTTP_URL_PATTERN = (
    r"^https?://"
    rf"(?:{_HOST_LABEL}(?:\.{_HOST_LABEL})*\.?|{_IPV6})"
    r"(?::[0-9]{1,5})?"
    rf"(?:/(?:{_URL_CHAR}|/)*)?"
    rf"(?:\?(?:{_URL_CHAR}|[/?])*)?"
    rf"(?:#(?:{_URL_CHAR}|[/?])*)?$"
)
MAX_URL_LENGTH = 2000

# A BCP 47 language tag, as Decidim and the agreements' `language` name locales: en, ca, pt-BR.
LOCALE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$"
