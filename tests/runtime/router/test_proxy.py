"""The router as a reverse proxy: real router process, real backends, real sockets."""

from __future__ import annotations

import http.client
import json
import socket
import time

from shipyard.runtime.router import routes
from tests.runtime.router.conftest import (
    Backend,
    Router,
    echo,
    free_port,
    get,
    raw,
    route,
)


def test_get_and_post_reach_the_instance(router: Router, backends: list[Backend]) -> None:
    port = free_port()
    router.apply(route(("r1", 100, [backends[0].instance()]), port=port))
    got = echo(port, "/echo?q=1")
    assert (got["instance"], got["method"], got["target"]) == ("web-1", "GET", "/echo?q=1")
    posted = echo(port, method="POST", body=b"hello world")
    assert (posted["method"], posted["body_length"]) == ("POST", 11)


def test_keep_alive_on_both_sides(router: Router, backends: list[Backend]) -> None:
    port = free_port()
    router.apply(route(("r1", 100, [backends[0].instance()]), port=port))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    peers = []
    for _ in range(5):
        conn.request("GET", "/echo")
        response = conn.getresponse()
        peers.append(json.loads(response.read())["peer_port"])
        assert not response.will_close
    client_socket = conn.sock
    conn.request("GET", "/echo")
    conn.getresponse().read()
    assert conn.sock is client_socket  # the client connection was kept
    conn.close()
    assert len(set(peers)) == 1  # one pooled connection to the instance served them all


def test_forwarded_headers_added_and_hop_by_hop_dropped(
    router: Router, backends: list[Backend]
) -> None:
    port = free_port()
    router.apply(route(("r1", 100, [backends[0].instance()]), port=port))
    got = echo(
        port,
        headers={
            "Host": "shop.example",
            "Connection": "keep-alive, X-Private",
            "X-Private": "secret",
            "Keep-Alive": "timeout=9",
            "Proxy-Authorization": "Basic abc",
            "TE": "trailers",
            "X-Forwarded-For": "6.6.6.6",
            "X-App": "kept",
        },
    )
    headers = {name.lower(): value for name, value in got["headers"]}
    assert headers["host"] == "shop.example"
    assert headers["x-forwarded-for"] == "127.0.0.1"  # the client's claim is not trusted
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-host"] == "shop.example"
    assert headers["forwarded"] == "for=127.0.0.1;host=shop.example;proto=http"
    assert headers["x-app"] == "kept"
    for dropped in ("connection", "x-private", "keep-alive", "proxy-authorization", "te"):
        assert dropped not in headers

    status, response_headers, body = get(port, "/hop")
    assert (status, body) == (200, b"hop")
    assert response_headers["x-kept"] == "yes"
    for dropped in ("connection", "x-secret", "keep-alive", "proxy-authenticate", "trailer"):
        assert dropped not in response_headers
    assert "upgrade" not in response_headers


def test_forwarded_headers_follow_each_request_host(
    router: Router, backends: list[Backend]
) -> None:
    """The lines are kept per client address and Host: new connections from the same client
    with another Host (or none), or naming a field in Connection, still get their own."""
    port = free_port()
    router.apply(route(("r1", 100, [backends[0].instance()]), port=port))
    cases = [
        ({"Host": "a.example", "Connection": "close"}, "a.example"),
        ({"Host": "b.example:81", "Connection": "close, X-Gone", "X-Gone": "1"}, "b.example:81"),
        ({"Host": "a.example"}, "a.example"),
        ({"Host": "b.example:81", "Connection": "Keep-Alive"}, "b.example:81"),
    ]
    for sent, host in cases:
        headers = {name.lower(): value for name, value in echo(port, headers=sent)["headers"]}
        assert headers["x-forwarded-host"] == host
        quoted = f'"{host}"' if ":" in host else host
        assert headers["forwarded"] == f"for=127.0.0.1;host={quoted};proto=http"
        assert "connection" not in headers
        assert "x-gone" not in headers
    answer = raw(port, b"GET /echo HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 "), answer
    got = json.loads(answer.partition(b"\r\n\r\n")[2])
    headers = {name.lower(): value for name, value in got["headers"]}
    assert "x-forwarded-host" not in headers
    assert headers["forwarded"] == "for=127.0.0.1;proto=http"


def test_trusted_forwarded_headers_are_extended(router: Router, backends: list[Backend]) -> None:
    port = free_port()
    router.apply(route(("r1", 100, [backends[0].instance()]), port=port), trust_forwarded=True)
    got = echo(
        port, headers={"Host": "h:81", "X-Forwarded-For": "10.0.0.1", "Forwarded": "for=10.0.0.1"}
    )
    headers = {name.lower(): value for name, value in got["headers"]}
    assert headers["x-forwarded-for"] == "10.0.0.1, 127.0.0.1"
    assert headers["forwarded"] == 'for=10.0.0.1, for=127.0.0.1;host="h:81";proto=http'


def test_size_limits_answer_clear_4xx(router: Router, backends: list[Backend]) -> None:
    port = free_port()
    limits = routes.Limits(
        max_request_line=256, max_header_bytes=1024, max_headers=10, max_body_bytes=1000
    )
    router.apply(route(("r1", 100, [backends[0].instance()]), port=port), limits=limits)

    answer = raw(port, b"GET /" + b"a" * 300 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 414 URI Too Long\r\n")
    assert b"The request target is longer than 256 bytes." in answer

    answer = raw(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 2000 + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert b"longer than 1024 bytes" in answer

    many = b"".join(b"X-H%d: v\r\n" % i for i in range(12))
    answer = raw(port, b"GET / HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert b"more than 10 header fields" in answer

    answer = raw(port, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\nabc")
    assert answer.startswith(b"HTTP/1.1 413 Content Too Large\r\n")
    assert b"The request body is larger than 1000 bytes." in answer

    chunk = b"%x\r\n%b\r\n" % (600, b"c" * 600)
    answer = raw(
        port, b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 2
    )
    assert answer.startswith(b"HTTP/1.1 413 Content Too Large\r\n")

    answer = raw(port, b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"not valid HTTP/1.1" in answer

    answer = raw(port, b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"more than one Host header field" in answer


def test_503_when_no_instance_is_ready(router: Router, backends: list[Backend]) -> None:
    port = free_port()
    router.apply(route(("r1", 100, [backends[0].instance(ready=False)]), port=port))
    status, headers, body = get(port, "/echo")
    assert status == 503
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert b"No instance of route shop/staging is ready (1 known, none ready" in body
    empty = free_port()
    router.apply(route(port=empty))
    assert b"Route shop/staging has no release deployed." in get(empty, "/")[2]


def test_502_names_the_instance_that_refused(router: Router, backends: list[Backend]) -> None:
    port = free_port()
    dead = free_port()
    router.apply(route(("r1", 100, [routes.Instance(f"127.0.0.1:{dead}", "web-9")]), port=port))
    status, _, body = get(port, "/echo")
    assert status == 502
    assert (
        f"Route shop/staging: could not connect to 127.0.0.1:{dead} (release r1, instance web-9): "
        "connection refused."
    ).encode() in body


def test_504_when_the_instance_is_too_slow(router: Router, backends: list[Backend]) -> None:
    port = free_port()
    router.apply(
        route(("r1", 100, [backends[0].instance()]), port=port),
        timeouts=routes.Timeouts(read=0.4),
    )
    status, _, body = get(port, "/stall")
    assert status == 504
    assert (
        f"Route shop/staging: instance {backends[0].address} (release r1, instance web-1) "
        "did not answer within 0.4 s.".encode()
    ) in body
    assert get(port, "/slow?seconds=0.05")[0] == 200


def test_upstream_closing_without_answer_is_502(router: Router) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = free_port()
    address = f"127.0.0.1:{listener.getsockname()[1]}"
    router.apply(route(("r1", 100, [routes.Instance(address, "mute")]), port=port))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        accepted, _ = listener.accept()
        accepted.recv(65536)
        accepted.close()
        answer = client.recv(65536)
    listener.close()
    assert answer.startswith(b"HTTP/1.1 502 Bad Gateway\r\n")
    assert (
        f"instance {address} (release r1, instance mute) closed the connection".encode() in answer
    )


def test_response_delimited_by_close_and_http10_client(
    router: Router, backends: list[Backend]
) -> None:
    port = free_port()
    router.apply(route(("r1", 100, [backends[0].instance()]), port=port))
    answer = raw(port, b"GET /close HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Connection: close\r\n" in answer
    assert answer.endswith(b"\r\n\r\nuntil close")
    # HTTP/1.0 client, chunked response: de-chunked and delimited by the close
    answer = raw(port, b"GET /download?size=70000&chunked=1 HTTP/1.0\r\nHost: x\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding" not in head
    assert b"Connection: close" in head
    assert body == b"x" * 70000


def test_head_request_has_no_body(router: Router, backends: list[Backend]) -> None:
    port = free_port()
    router.apply(route(("r1", 100, [backends[0].instance()]), port=port))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("HEAD", "/download?size=5000")
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("content-length") == "5000"
    assert response.read() == b""
    conn.request("GET", "/echo")  # the connection is still usable afterwards
    assert json.loads(conn.getresponse().read())["method"] == "GET"
    conn.close()


def test_vhost_routes_by_host_name(router: Router, backends: list[Backend]) -> None:
    vhost = free_port()
    router.apply(
        route(("r1", 100, [backends[0].instance()]), hosts=("staging.shop.localhost",)),
        route(
            ("r2", 100, [backends[1].instance()]),
            environment="production",
            hosts=("production.shop.localhost",),
        ),
        vhost=routes.Listen(vhost),
    )
    assert echo(vhost, headers={"Host": "staging.shop.localhost"})["instance"] == "web-1"
    assert (
        echo(vhost, headers={"Host": f"production.shop.localhost:{vhost}"})["instance"] == "web-2"
    )
    status, _, body = get(vhost, "/", headers={"Host": "nope.localhost"})
    assert status == 404
    assert b"No route for host nope.localhost." in body


def test_read_timeout_counts_from_each_request_on_a_pooled_connection(
    router: Router, backends: list[Backend]
) -> None:
    port = free_port()
    router.apply(
        route(("r1", 100, [backends[2].instance()]), port=port),
        timeouts=routes.Timeouts(read=0.5),
    )
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(5):  # the pooled connection has read five responses already
        conn.request("GET", "/slow?seconds=0")
        conn.getresponse().read()
    started = time.monotonic()
    conn.request("GET", "/stall")
    response = conn.getresponse()
    response.read()
    conn.close()
    assert response.status == 504
    assert time.monotonic() - started < 0.5 + 0.5  # one timeout (and the sweep), not two


def test_slow_body_is_not_cut_while_bytes_keep_coming(
    router: Router, backends: list[Backend]
) -> None:
    port = free_port()
    router.apply(
        route(("r1", 100, [backends[2].instance()]), port=port),
        timeouts=routes.Timeouts(read=0.3),
    )
    started = time.monotonic()
    status, _, body = get(port, "/drip?chunks=8&interval=0.1")
    assert (status, body) == (200, b"x" * 8)
    assert time.monotonic() - started > 0.6  # longer than the read timeout, yet not cut


def test_pipelined_requests_are_answered_in_order(router: Router, backends: list[Backend]) -> None:
    port = free_port()
    router.apply(route(("r1", 100, [backends[0].instance()]), port=port))
    requests = (
        b"".join(b"GET /echo?n=%d HTTP/1.1\r\nHost: x\r\n\r\n" % n for n in range(3))
        + b"POST /echo?n=3 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
        + b"Connection: close\r\n\r\nbody"
    )
    answer = raw(port, requests)
    targets = [json.loads(part.split(b"\r\n\r\n", 1)[1].split(b"HTTP/1.1")[0])["target"]
               for part in answer.split(b"HTTP/1.1 200 X\r\n")[1:]]  # fmt: skip
    assert targets == ["/echo?n=0", "/echo?n=1", "/echo?n=2", "/echo?n=3"]


def test_100_continue_reaches_the_client(router: Router, backends: list[Backend]) -> None:
    port = free_port()
    router.apply(route(("r1", 100, [backends[0].instance()]), port=port))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /continue HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            b"Content-Length: 5\r\n\r\n"
        )
        interim = b""
        while b"\r\n\r\n" not in interim:
            interim += sock.recv(65536)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"hello")
        answer = b""
        while not answer.endswith(b"}"):
            chunk = sock.recv(65536)
            assert chunk
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 X\r\n")
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["body_length"] == 5


def test_the_last_response_and_the_close_arrive_together(
    router: Router, backends: list[Backend]
) -> None:
    # A response the router closes the connection after leaves in the same TCP segment as the
    # FIN: once the client can read the response's last byte, the end of the connection is
    # there too (a FIN sent on its own comes a moment later). A download's last bytes come
    # from the instance in a read of their own, after the head.
    port = free_port()
    router.apply(route(("r1", 100, [backends[0].instance()]), port=port))
    targets = [f"/echo?n={n}" for n in range(50)] + ["/download?size=300000"] * 5
    ends = []
    for target in targets:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            head = _read_to_the_last_byte(sock)
            assert head.startswith(b"HTTP/1.1 200 ")
            assert b"\r\nConnection: close" in head
            sock.setblocking(False)
            try:
                ends.append(sock.recv(65536))
            except BlockingIOError:
                ends.append(None)  # the FIN has not come yet
    assert ends == [b""] * len(targets)


def _read_to_the_last_byte(sock: socket.socket) -> bytes:
    """Read a response with a Content-Length up to its last byte, not beyond; its head."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"\r\ncontent-length:")[1].split(b"\r\n")[0])
    while len(body) < length:
        chunk = sock.recv(length - len(body))
        assert chunk
        body += chunk
    return head


def test_the_same_instance_head_is_rewritten_for_each_client_anew(
    router: Router, backends: list[Backend]
) -> None:
    # A worker keeps recent response-head rewrites by the instance's head and everything else
    # the rewrite depends on. The same head from the instance, to clients that keep their
    # connection, close it, or speak HTTP/1.0, in turns, must each come out right.
    port = free_port()
    router.apply(route(("r1", 100, [backends[0].instance()]), port=port))
    kept = b"GET /hop HTTP/1.1\r\nHost: x\r\n\r\n"
    closing = b"GET /hop HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    http10 = b"GET /hop HTTP/1.0\r\nHost: x\r\n\r\n"
    http10_kept = b"GET /hop HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"
    expected = {kept: None, closing: b"close", http10: b"close", http10_kept: b"keep-alive"}
    for request in (kept, closing, http10, http10_kept, kept, http10, closing, http10_kept, kept):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(request)
            head = _read_to_the_last_byte(sock)
        lines = head.split(b"\r\n")
        assert lines[0] == b"HTTP/1.1 200 OK"
        assert b"X-Kept: yes" in lines
        assert not [line for line in lines if line.startswith((b"X-Secret", b"Keep-Alive"))]
        connection = [line.partition(b": ")[2] for line in lines if line.startswith(b"Connection")]
        assert connection == ([] if expected[request] is None else [expected[request]]), request
