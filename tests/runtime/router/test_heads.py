"""Response heads rewritten as bytes, and the router's own pages (pure)."""

from __future__ import annotations

import pytest

from shipyard.runtime.router import heads

NGINX = (
    b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 3\r\nConnection: keep-alive\r\n"
    b'ETag: "x"\r\n\r\n'
)


def rewrite(head: bytes, status: int = 200, **options: bool) -> tuple[bytes, int]:
    settings = {"close": False, "http10": False, "bodyless": False, "self_delimited": True}
    settings.update(options)
    return heads.rewrite_response_head(head, status, **settings)


def test_hop_by_hop_fields_are_dropped_and_the_rest_kept_in_order() -> None:
    out, framing = rewrite(NGINX)
    assert out == b'HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 3\r\nETag: "x"\r\n\r\n'
    assert framing == heads.BODY_DELIMITED


def test_a_head_without_hop_by_hop_fields_is_the_same_object() -> None:
    head = b"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n"
    assert rewrite(head, 204, bodyless=True)[0] is head


def test_fields_named_by_connection_go_too() -> None:
    head = (
        b"HTTP/1.1 200 OK\r\nconnection: X-Secret, close\r\nX-Secret: s\r\nKEEP-ALIVE: t=5\r\n"
        b"Proxy-Authenticate: Basic\r\nTE: trailers\r\nTrailer: X\r\nUpgrade: h2c\r\n"
        b"X-Kept: 1\r\nContent-Length: 0\r\n\r\n"
    )
    assert rewrite(head)[0] == b"HTTP/1.1 200 OK\r\nX-Kept: 1\r\nContent-Length: 0\r\n\r\n"


@pytest.mark.parametrize(
    ("field", "also_dropped"),
    [
        (b"Connection: keep-alive", b""),
        (b"CONNECTION:close", b""),
        (b"Keep-Alive: timeout=5", b""),
        (b"proxy-connection: x-private", b""),
        (b"Connection: X-Private", b"X-Private: 1\r\n"),  # names a field: it goes too
        (b"Connection:  x-private , keep-alive", b"x-private: 1\r\n"),
    ],
)
def test_a_single_hop_by_hop_field(field: bytes, also_dropped: bytes) -> None:
    kept = b"HTTP/1.1 200 OK\r\nServer: s\r\nContent-Length: 0\r\n"
    head = kept + field + b"\r\n" + also_dropped + b"X-Private-Not: 2\r\n\r\n"
    assert rewrite(head)[0] == kept + b"X-Private-Not: 2\r\n\r\n"


@pytest.mark.parametrize(
    ("options", "added"),
    [
        ({"close": True}, b"Connection: close\r\n"),
        ({"http10": True}, b"Connection: keep-alive\r\n"),
    ],
)
def test_the_client_connection_is_announced(options: dict[str, bool], added: bytes) -> None:
    out, _ = rewrite(NGINX, **options)
    assert out.endswith(added + b"\r\n")


def test_body_until_close_closes_the_client_connection() -> None:
    out, framing = rewrite(b"HTTP/1.0 200 OK\r\nX: 1\r\n\r\n", self_delimited=False)
    assert framing == heads.BODY_UNTIL_CLOSE
    assert out == b"HTTP/1.1 200 OK\r\nX: 1\r\nConnection: close\r\n\r\n"


def test_chunked_body_is_dechunked_for_an_http10_client() -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    out, framing = rewrite(head, http10=True)
    assert framing == heads.BODY_DECHUNKED
    assert out == b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
    assert rewrite(head)[0] is head  # an HTTP/1.1 client gets the chunks as they are


def test_switching_protocols_keeps_upgrade_and_connection() -> None:
    head = (
        b"HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Keep-Alive: 1\r\n\r\n"
    )
    out, _ = rewrite(head, 101)
    assert out == b"HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"


def test_forwarded_lines() -> None:
    xff, for_token = heads.forwarded_for("::1")
    assert (xff, for_token) == (b"::1", b'"[::1]"')
    assert heads.forwarded_lines(b"10.1.1.1", b"10.1.1.1", b"a.example:8080") == (
        b"X-Forwarded-For: 10.1.1.1\r\nX-Forwarded-Proto: http\r\n"
        b"X-Forwarded-Host: a.example:8080\r\n"
        b'Forwarded: for=10.1.1.1;host="a.example:8080";proto=http\r\n'
    )
    assert heads.forwarded_lines(b"1.2.3.4", b"1.2.3.4", None) == (
        b"X-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: http\r\n"
        b"Forwarded: for=1.2.3.4;proto=http\r\n"
    )


@pytest.mark.parametrize(
    ("host", "key"),
    [
        (b"Staging.Shop.LOCALHOST:8000", "staging.shop.localhost"),
        (b"a.b.", "a.b"),
        (b"[::1]:80", "[::1]"),
    ],
)
def test_host_key(host: bytes, key: str) -> None:
    assert heads.host_key(host) == key


def test_error_page() -> None:
    page = heads.error_page(503, "No instance is ready.", close=True)
    body = (
        b"503 Service Unavailable\n\nNo instance is ready.\n\n(answered by the Shipyard router)\n"
    )
    assert (
        page
        == (
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Length: %d\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
            % len(body)
        )
        + body
    )
    assert heads.error_page(503, "x", close=False, head_only=True).endswith(b"no-store\r\n\r\n")
