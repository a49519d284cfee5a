"""/banner: one flag over OFREP, and what the page shows when the flag service is not there.

The flag service itself (a Shipyard server) is exercised end to end in Shipyard's own tests."""

from __future__ import annotations

import socket
import unittest

from server_process import ServerProcess, run_to_exit
from webapp import settings


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class BannerTests(unittest.TestCase):
    def test_without_a_flag_service_the_default_text_is_shown(self) -> None:
        with ServerProcess(env={}) as server:
            reply = server.get("/banner?user=u-1")
        self.assertEqual(reply.status, 200)
        self.assertEqual(
            reply.json(),
            {"key": "welcome-banner", "value": "Welcome!", "reason": "ERROR",
             "errorCode": "PROVIDER_NOT_READY"},
        )  # fmt: skip

    def test_an_unreachable_flag_service_gives_the_default_text(self) -> None:
        env = {"OFREP_ENDPOINT": f"http://127.0.0.1:{_closed_port()}", "WEBAPP_BANNER_FLAG": "b"}
        with ServerProcess(env=env) as server:
            document = server.get("/banner").json()
        self.assertEqual((document["key"], document["value"]), ("b", "Welcome!"))
        self.assertEqual(document["errorCode"], "GENERAL")

    def test_ofrep_settings_are_validated_at_start(self) -> None:
        loaded = settings.load_settings(
            {"OFREP_ENDPOINT": "http://127.0.0.1:8700/", "OFREP_HEADERS": "Authorization=Bearer t"}
        )
        self.assertEqual(loaded.ofrep_endpoint, "http://127.0.0.1:8700")
        self.assertEqual(loaded.ofrep_headers, (("Authorization", "Bearer t"),))
        exited = run_to_exit({"OFREP_HEADERS": "Authorization: Bearer t"})
        self.assertEqual(exited.returncode, 2)
        self.assertIn("OFREP_HEADERS", exited.stderr)


if __name__ == "__main__":
    unittest.main()
