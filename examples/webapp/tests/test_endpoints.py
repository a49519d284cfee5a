"""Every endpoint of the real app, over real HTTP/1.1 connections."""

from __future__ import annotations

import contextlib
import json
import socket
import time
import unittest

import webapp
from server_process import ServerProcess, read_reply


class EndpointTests(unittest.TestCase):
    """Read-only endpoints, answered by one app process shared by the tests of this class."""

    server: ServerProcess

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = ServerProcess(env={"WEBAPP_INSTANCE": "test-1"}).start()
        cls.addClassCleanup(cls.server.close)

    def test_index_names_version_and_instance_in_json(self) -> None:
        reply = self.server.get("/")
        self.assertEqual(reply.status, 200)
        self.assertEqual(reply.headers["Content-Type"], "application/json")
        document = reply.json()
        self.assertEqual(document["version"], webapp.__version__)
        self.assertEqual(document["instance"], "test-1")
        self.assertIn("/healthz", document["endpoints"])

    def test_index_is_a_page_for_browsers(self) -> None:
        reply = self.server.get("/", headers={"Accept": "text/html,*/*"})
        self.assertEqual(reply.status, 200)
        self.assertEqual(reply.headers["Content-Type"], "text/html; charset=utf-8")
        page = reply.body.decode()
        self.assertIn(f"<h1>webapp {webapp.__version__}</h1>", page)
        self.assertIn("<code>test-1</code>", page)

    def test_healthz(self) -> None:
        reply = self.server.get("/healthz")
        self.assertEqual(reply.status, 200)
        self.assertEqual(reply.json(), {"status": "ok", "version": webapp.__version__})

    def test_readyz(self) -> None:
        reply = self.server.get("/readyz")
        self.assertEqual(reply.status, 200)
        self.assertEqual(reply.json(), {"status": "ready", "version": webapp.__version__})

    def test_version(self) -> None:
        document = self.server.get("/version").json()
        self.assertEqual(document["version"], webapp.__version__)
        self.assertEqual(document["instance"], "test-1")
        self.assertRegex(document["python"], r"^3\.\d+\.\d+")

    def test_every_response_has_length_version_and_instance_headers(self) -> None:
        for path in ("/", "/healthz", "/readyz", "/version", "/metrics", "/api/items", "/nope"):
            with self.subTest(path=path):
                reply = self.server.get(path)
                self.assertEqual(int(reply.headers["Content-Length"]), len(reply.body))
                self.assertEqual(reply.headers["X-Webapp-Version"], webapp.__version__)
                self.assertEqual(reply.headers["X-Webapp-Instance"], "test-1")
                self.assertEqual(reply.headers["Server"], f"webapp/{webapp.__version__}")

    def test_keep_alive_serves_many_requests_on_one_connection(self) -> None:
        connection = self.server.connection()
        self.addCleanup(connection.close)
        statuses = []
        local_addresses = set()
        for method, path in [("GET", "/healthz"), ("GET", "/nope"), ("HEAD", "/version")] * 3:
            connection.request(method, path)
            statuses.append(read_reply(connection).status)
            assert connection.sock is not None
            local_addresses.add(connection.sock.getsockname())
        self.assertEqual(statuses, [200, 404, 200] * 3)
        self.assertEqual(len(local_addresses), 1, "the connection was reopened")

    def test_head_has_the_length_of_get_and_no_body(self) -> None:
        head = self.server.request("HEAD", "/healthz")
        self.assertEqual(head.status, 200)
        self.assertEqual(head.body, b"")
        self.assertEqual(int(head.headers["Content-Length"]), len(self.server.get("/healthz").body))

    def test_unknown_path_is_a_json_404(self) -> None:
        reply = self.server.get("/no/such/page")
        self.assertEqual(reply.status, 404)
        self.assertEqual(reply.json(), {"error": "no such path: /no/such/page"})

    def test_wrong_method_is_a_405_with_allow(self) -> None:
        reply = self.server.request("DELETE", "/healthz")
        self.assertEqual(reply.status, 405)
        self.assertEqual(reply.headers["Allow"], "GET, HEAD")
        reply = self.server.request("PUT", "/api/items", body=b"{}")
        self.assertEqual(reply.status, 405)
        self.assertEqual(reply.headers["Allow"], "GET, HEAD, POST")
        self.assertIn("method PUT is not allowed on /api/items", reply.json()["error"])

    def test_unknown_method_is_a_json_501_that_closes(self) -> None:
        reply = self.server.request("BREW", "/")
        self.assertEqual(reply.status, 501)
        self.assertEqual(reply.headers["Connection"], "close")
        self.assertIn("error", reply.json())

    def test_malformed_request_line_is_a_400(self) -> None:
        with socket.create_connection((self.server.host, self.server.port), timeout=5) as raw:
            raw.sendall(b"NOT A REQUEST AT ALL\r\n\r\n")
            answer = raw.recv(4096)
        self.assertTrue(answer.startswith(b"HTTP/1.1 400 "), answer)

    def test_query_and_absolute_form_targets(self) -> None:
        self.assertEqual(self.server.get("/healthz?verbose=1").status, 200)
        url = f"http://{self.server.host}:{self.server.port}/healthz"
        self.assertEqual(self.server.get(url).status, 200)

    def test_slow_endpoint_sleeps_as_asked(self) -> None:
        started = time.monotonic()
        reply = self.server.get("/slow?ms=120")
        self.assertEqual(reply.json(), {"slept_ms": 120})
        self.assertGreaterEqual(time.monotonic() - started, 0.12)
        for query in ("ms=abc", "ms=-1", "ms=60001"):
            with self.subTest(query=query):
                reply = self.server.get(f"/slow?{query}")
                self.assertEqual(reply.status, 400)
                self.assertIn("query 'ms' must be a whole number", reply.json()["error"])


class ItemsApiTests(unittest.TestCase):
    """/api/items, on one app process: each test reads the state it starts from."""

    server: ServerProcess

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = ServerProcess().start()
        cls.addClassCleanup(cls.server.close)

    def items(self) -> list[dict[str, object]]:
        items: list[dict[str, object]] = self.server.get("/api/items").json()["items"]
        return items

    def post_json(self, document: object) -> tuple[int, dict[str, object]]:
        reply = self.server.request("POST", "/api/items", body=json.dumps(document).encode())
        return reply.status, reply.json()

    def test_add_list_and_get(self) -> None:
        first = len(self.items()) + 1
        reply = self.server.request("POST", "/api/items", body=b'{"name": "apple", "quantity": 3}')
        self.assertEqual(reply.status, 201)
        self.assertEqual(reply.headers["Location"], f"/api/items/{first}")
        self.assertEqual(reply.json(), {"id": first, "name": "apple", "quantity": 3})
        pear = {"id": first + 1, "name": "pear", "quantity": 1}
        self.assertEqual(self.post_json({"name": " pear "}), (201, pear))
        self.assertEqual([item["name"] for item in self.items()[-2:]], ["apple", "pear"])
        self.assertEqual(self.server.get(f"/api/items/{first + 1}").json(), pear)
        missing = self.server.get(f"/api/items/{first + 2}")
        self.assertEqual(missing.status, 404)
        self.assertEqual(missing.json(), {"error": f"no item at /api/items/{first + 2}"})

    def test_bad_input_is_a_400_with_a_json_error(self) -> None:
        before = self.items()
        cases = [
            (b"not json", "body is not valid JSON: Expecting value at line 1"),
            (b"\xff\xfe", "body must be UTF-8 encoded JSON"),
            (b"[1, 2]", 'body must be a JSON object, such as {"name": "apple"}'),
            (b"{}", "field 'name' is required"),
            (b'{"name": 5}', "field 'name' must be a string"),
            (b'{"name": "  "}', "field 'name' must not be empty"),
            (
                json.dumps({"name": "x" * 101}).encode(),
                "field 'name' must be at most 100 characters",
            ),
            (b'{"name": "a", "quantity": -1}', "field 'quantity' must be from 0 to 1000000"),
            (b'{"name": "a", "quantity": true}', "field 'quantity' must be a whole number"),
            (b'{"name": "a", "quantity": 1.5}', "field 'quantity' must be a whole number"),
            (
                b'{"name": "a", "colour": "red"}',
                "unknown field 'colour'; fields are 'name' and 'quantity'",
            ),
            (b"[" * 50_000, "body is not JSON this API can read"),
        ]
        for body, message in cases:
            with self.subTest(body=body[:40]):
                reply = self.server.request("POST", "/api/items", body=body)
                self.assertEqual(reply.status, 400)
                self.assertEqual(reply.headers["Content-Type"], "application/json")
                self.assertEqual(reply.json(), {"error": message})
        self.assertEqual(self.items(), before)

    def test_body_over_the_limit_is_a_413_that_closes(self) -> None:
        reply = self.server.request("POST", "/api/items", body=b" " * (64 * 1024 + 1))
        self.assertEqual(reply.status, 413)
        self.assertEqual(reply.headers["Connection"], "close")

    def test_chunked_body_is_read(self) -> None:
        connection = self.server.connection()
        self.addCleanup(connection.close)
        parts = iter([b'{"name": ', b'"chunked"}'])
        connection.request("POST", "/api/items", body=parts, encode_chunked=True)
        reply = read_reply(connection)
        self.assertEqual((reply.status, reply.json()["name"]), (201, "chunked"))
        connection.request("GET", "/api/items")
        self.assertEqual(read_reply(connection).json()["items"][-1]["name"], "chunked")

    def test_content_length_with_chunked_is_refused(self) -> None:
        request = (
            b"POST /api/items HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        )
        with socket.create_connection((self.server.host, self.server.port), timeout=5) as raw:
            raw.sendall(request)
            answer = b""
            with contextlib.suppress(ConnectionError):
                while chunk := raw.recv(4096):
                    answer += chunk
        self.assertTrue(answer.startswith(b"HTTP/1.1 400 "), answer)
        self.assertIn(b"send Content-Length or Transfer-Encoding, not both", answer)


if __name__ == "__main__":
    unittest.main()
