"""docs/router.md stays true: its worked example runs, and its defaults are the code's."""

from __future__ import annotations

import re

from shipyard.runtime.router import exchange, protocol, routes, upstream
from tests.conftest import REPO_ROOT

DOC = REPO_ROOT / "docs" / "router.md"


def test_the_worked_example_runs() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Worked example", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert code.count("assert ") >= 8
    exec(compile(code, str(DOC), "exec"), {"__name__": "router_doc_example"})


def test_the_documented_defaults_are_the_real_ones() -> None:
    text = DOC.read_text(encoding="utf-8")
    limits = routes.Limits()
    timeouts = routes.Timeouts()
    assert f"| `limits.max_request_line` | {limits.max_request_line} bytes |" in text
    assert f"| `limits.max_header_bytes` | {limits.max_header_bytes} bytes |" in text
    assert f"| `limits.max_headers` | {limits.max_headers} fields |" in text
    assert f"| `limits.max_body_bytes` | {limits.max_body_bytes} bytes (100 MiB) |" in text
    for name in ("connect", "read", "client_header", "client_idle", "upstream_idle"):
        assert f"| `timeouts.{name}` | {getattr(timeouts, name)} s |" in text
    buckets = ", ".join(f"{b:g}" for b in protocol.LATENCY_BUCKETS)
    assert f"buckets {buckets} s" in text
    assert f"at most {upstream.MAX_IDLE_PER_UPSTREAM} idle pooled connections" in text
    assert f"{upstream.MAX_RESPONSE_HEAD // 1024} KiB of response head" in text
    assert f"{exchange.PENDING_LIMIT // 1024} KiB of\nrequest body" in text
    assert f"{exchange.MAX_ATTEMPTS} instances tried per request" in text
    assert f"{protocol.MAX_LINE // (1024 * 1024)} MiB per control line" in text
