"""HTTP/1.1 heads as bytes: rewriting an instance's response head, X-Forwarded-*/Forwarded,
and the pages the router answers with itself.

Everything works on the raw bytes the instance sent, so a response head with nothing to change is
passed on as the very same object: no parsing into a dict and back. Pure: no I/O.
"""

from __future__ import annotations

import re

# Hop-by-hop response fields (RFC 9110 7.6.1), matched case-insensitively at the start of a
# line. ``split`` with the two groups gives [before, name, value, between, name, value, ..., after]
# in one pass over the head.
# The lookahead lets the engine pass over most lines at their first letter (a third faster).
_HOP_BY_HOP_SPLIT = re.compile(
    rb"\r\n(?=[CcKkPpTtUu])"
    rb"(connection|keep-alive|proxy-[!#$%&'*+.^_`|~0-9a-z-]*|te|trailer|upgrade):([^\r\n]*)",
    re.IGNORECASE,
)
_FRAMING = re.compile(rb"\r\n(content-length|transfer-encoding):([^\r\n]*)", re.IGNORECASE)
_STANDARD_TOKENS = frozenset((b"close", b"keep-alive", b"upgrade", b""))

BODY_DELIMITED = 0
"""The body (if any) has a Content-Length or is chunked, and is passed on as it comes."""
BODY_DECHUNKED = 1
"""The body is chunked and is passed on de-chunked, to an HTTP/1.0 client."""
BODY_UNTIL_CLOSE = 2
"""The body ends when the instance closes the connection."""


def rewrite_response_head(  # noqa: PLR0917 (positional: it runs once per response)
    head: bytes,
    status: int,
    close: bool,
    http10: bool,
    bodyless: bool,
    self_delimited: bool,
) -> tuple[bytes, int]:
    """The head to send to the client for an instance's response head ``head``, and how the
    body that follows is framed (``BODY_*``).

    Drops hop-by-hop fields (Connection and the fields it names, Keep-Alive, Proxy-*, TE,
    Trailer, Upgrade except on 101), says ``Connection: close`` when the router will close the
    client connection after this response (``close``), ``keep-alive`` to an HTTP/1.0 client it
    keeps, and removes Transfer-Encoding when the body will be de-chunked for an HTTP/1.0 client.
    ``bodyless``: the response has no body whatever its fields say (HEAD, 204, 304).
    ``self_delimited``: llhttp found a Content-Length or chunking (the body does not run to EOF).
    """
    if status == 101:
        return _switching_head(head), BODY_DELIMITED
    parts = _HOP_BY_HOP_SPLIT.split(head)
    if len(parts) == 4 and (  # one such field: most often "Connection: keep-alive"
        parts[2].strip().lower() in _STANDARD_TOKENS or parts[1].lower() != b"connection"
    ):
        head = parts[0] + parts[3]
    elif len(parts) > 1:
        named: set[bytes] | None = None
        for name, raw_value in zip(parts[1::3], parts[2::3], strict=True):
            value = raw_value.strip().lower()
            if value in _STANDARD_TOKENS or name.lower() != b"connection":
                continue  # the usual "Connection: keep-alive" names no other field
            tokens = {t.strip() for t in value.split(b",")}
            named = (named or set()) | (tokens - _STANDARD_TOKENS)
        head = b"".join(parts[0::3])
        if named:
            head = _without(head, named)
    framing = BODY_DELIMITED
    if not bodyless and (http10 or not self_delimited):
        framing, head = _framing(head, http10)
        if framing != BODY_DELIMITED:
            close = True
    if not head.startswith(b"HTTP/1.1 "):
        head = b"HTTP/1.1 " + head.partition(b" ")[2]
    if close:
        head = head[:-2] + b"Connection: close\r\n\r\n"
    elif http10:
        head = head[:-2] + b"Connection: keep-alive\r\n\r\n"
    return head, framing


def _framing(head: bytes, http10: bool) -> tuple[int, bytes]:
    """How the body is framed; for an HTTP/1.0 client, a chunked head loses Transfer-Encoding."""
    chunked = False
    length = False
    for name, value in _FRAMING.findall(head):
        if name.lower() == b"content-length":
            length = True
        elif value.strip().lower().endswith(b"chunked"):
            chunked = True
    if chunked:
        if http10:
            head = _without(head, {b"transfer-encoding"})
            return BODY_DECHUNKED, head
        return BODY_DELIMITED, head
    if length:
        return BODY_DELIMITED, head
    return BODY_UNTIL_CLOSE, head


def _switching_head(head: bytes) -> bytes:
    """A 101 head keeps Connection and Upgrade (they say what the connection becomes)."""
    drop = set()
    for name, _ in _HOP_BY_HOP_SPLIT.findall(head):
        lowered = name.lower()
        if lowered not in (b"connection", b"upgrade"):
            drop.add(lowered)
    if not head.startswith(b"HTTP/1.1 "):
        head = b"HTTP/1.1 " + head.partition(b" ")[2]
    return _without(head, drop) if drop else head


def _without(head: bytes, names: set[bytes]) -> bytes:
    """``head`` without the header lines whose (lowercased) name is in ``names``."""
    lines = head[:-4].split(b"\r\n")
    kept = [lines[0]]
    for line in lines[1:]:
        name = line.partition(b":")[0].strip().lower()
        if name not in names:
            kept.append(line)
    kept.append(b"")
    kept.append(b"")
    return b"\r\n".join(kept)


# Request side --------------------------------------------------------------------------------


def forwarded_for(peer_host: str) -> tuple[bytes, bytes]:
    """The client's address as X-Forwarded-For says it, and as Forwarded's ``for=`` does."""
    raw = peer_host.encode("ascii", "replace")
    if ":" in peer_host:
        return raw, b'"[' + raw + b']"'
    return raw, raw


def forwarded_lines(
    xff: bytes,
    for_token: bytes,
    host: bytes | None,
    incoming: list[bytes] | None = None,
) -> bytes:
    """The X-Forwarded-For/Proto/Host and Forwarded lines of a request from ``xff``.

    ``incoming`` (when the table trusts forwarded headers): the client's own values, as
    ``[x-forwarded-for, x-forwarded-proto, x-forwarded-host, forwarded]`` (``b""`` when absent),
    which are extended rather than replaced.
    """
    proto = b"http"
    forwarded = b"for=" + for_token
    if host is not None:
        forwarded += b";host=" + _token_or_quoted(host)
    forwarded += b";proto=http"
    if incoming is not None:
        in_xff, in_proto, in_host, in_forwarded = incoming
        if in_xff:
            xff = in_xff + b", " + xff
        if in_proto:
            proto = in_proto
        if in_host:
            host = in_host
        if in_forwarded:
            forwarded = in_forwarded + b", " + forwarded
    out = b"X-Forwarded-For: " + xff + b"\r\nX-Forwarded-Proto: " + proto + b"\r\n"
    if host is not None:
        out += b"X-Forwarded-Host: " + host + b"\r\n"
    return out + b"Forwarded: " + forwarded + b"\r\n"


_TOKEN = re.compile(rb"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _token_or_quoted(value: bytes) -> bytes:
    if _TOKEN.match(value):
        return value
    return b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def host_key(host: bytes) -> str:
    """A Host header value as routes name hosts: lowercase, no port, no trailing dot."""
    text = host.decode("latin-1").strip().lower()
    text = text.partition("]")[0] + "]" if text.startswith("[") else text.partition(":")[0]
    return text.rstrip(".")


# Pages the router answers itself -----------------------------------------------------------

REASONS = {
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    413: "Content Too Large",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def error_page(status: int, detail: str, *, close: bool, head_only: bool = False) -> bytes:
    """A complete plain-text response from the router: status line, then what happened."""
    reason = REASONS.get(status, "Error")
    body = f"{status} {reason}\n\n{detail}\n\n(answered by the Shipyard router)\n".encode()
    lines = [
        f"HTTP/1.1 {status} {reason}",
        "Content-Type: text/plain; charset=utf-8",
        f"Content-Length: {len(body)}",
        "Cache-Control: no-store",
    ]
    if close:
        lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return head if head_only else head + body
