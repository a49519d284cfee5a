"""DAST baseline: passive and safe checks against a running app, confined to its origin.

Every request goes to the given scheme, host and port and nowhere else (redirects are never
followed; an open redirect is detected from the ``Location`` header alone). The number of requests
and the total time are bounded (``ScanContext.dast_max_requests``, ``dast_time_budget``); when
either runs out the checks stop and a notice says which were left out. Nothing is sent that could
change the app's state: only GET, HEAD and one TRACE.
"""

from __future__ import annotations

import re
import secrets
import time
import urllib.parse
from collections.abc import Callable

import httpx

from shipyard.core import errors
from shipyard.security import checks, findings, interface

_S = findings.Severity
RULES = checks.rules(
    checks.rule(
        "dast/missing-security-header",
        "Missing security header",
        "A response lacks a header that protects browsers from a class of attacks.",
        "Send Content-Security-Policy, X-Content-Type-Options: nosniff, a frame policy "
        "(X-Frame-Options or CSP frame-ancestors) and Referrer-Policy; over HTTPS, also "
        "Strict-Transport-Security.",
        _S.LOW,
        "dast",
    ),
    checks.rule(
        "dast/cookie-flags",
        "Cookie without protective flags",
        "A cookie is set without HttpOnly, SameSite or (over HTTPS) Secure.",
        "Set `HttpOnly; SameSite=Lax` (and `Secure` over HTTPS) on every cookie.",
        _S.MEDIUM,
        "dast",
    ),
    checks.rule(
        "dast/version-banner",
        "Version banner",
        "A header tells every visitor which software and version serve the app.",
        "Remove the version from `Server` and drop `X-Powered-By`.",
        _S.LOW,
        "dast",
    ),
    checks.rule(
        "dast/exposed-git",
        "Exposed .git directory",
        "The repository's `.git` directory is served: code, history and secrets.",
        "Never serve the repository root; serve only the build output.",
        _S.CRITICAL,
        "dast",
    ),
    checks.rule(
        "dast/exposed-env",
        "Exposed .env file",
        "A `.env` file with settings (often secrets) is served.",
        "Remove it from the served directory and rotate what it held.",
        _S.CRITICAL,
        "dast",
    ),
    checks.rule(
        "dast/directory-listing",
        "Directory listing",
        "The server lists a directory's files.",
        "Turn directory listings off.",
        _S.MEDIUM,
        "dast",
    ),
    checks.rule(
        "dast/open-redirect",
        "Open redirect",
        "A parameter sends visitors to any site the link names.",
        "Redirect only to paths on this site, or to an allow-list of hosts.",
        _S.HIGH,
        "dast",
    ),
    checks.rule(
        "dast/trace-enabled",
        "TRACE enabled",
        "The server answers TRACE, echoing requests (cookies, auth headers) back.",
        "Disable the TRACE method.",
        _S.MEDIUM,
        "dast",
    ),
    checks.rule(
        "dast/stack-trace",
        "Stack trace in an error page",
        "An error page shows a stack trace: code paths, versions and sometimes data.",
        "Show a generic error page; log the trace on the server instead.",
        _S.MEDIUM,
        "dast",
    ),
)
_REDIRECT_PARAMETERS = (
    "next",
    "url",
    "redirect",
    "redirect_uri",
    "return",
    "returnTo",
    "continue",
    "dest",
    "destination",
    "goto",
    "target",
    "r",
)
_PROBE_HOST = "shipyard-dast-probe.invalid"
_TRACES = re.compile(
    r"Traceback \(most recent call last\)|at [\w$.]+\([\w]+\.java:\d+\)|"
    r"Exception in thread|\bStack trace:|System\.\w+Exception|Fatal error: .* on line \d+|"
    r"node_modules/[^\s]+\.js:\d+:\d+"
)
_LISTINGS = re.compile(r"<title>\s*(?:Index of /|Directory listing for /)", re.IGNORECASE)
_VERSIONED = re.compile(r"[A-Za-z][\w.-]*/\d+(?:\.\d+)+")


class _Budget:
    """Counts requests and time; ``spent`` once either runs out."""

    def __init__(self, requests: int, seconds: float) -> None:
        self.left = requests
        self.deadline = time.monotonic() + seconds

    @property
    def spent(self) -> bool:
        return self.left <= 0 or time.monotonic() >= self.deadline


class _Probe:
    """One client bound to one origin and one budget."""

    def __init__(self, origin: str, client: httpx.Client, budget: _Budget) -> None:
        self.origin = origin
        self.client = client
        self.budget = budget
        self.sent = 0

    def send(self, method: str, path: str) -> httpx.Response | None:
        if self.budget.spent:
            return None
        url = self.origin + path
        if not url.startswith(self.origin + "/"):
            raise AssertionError(f"DAST request outside the origin: {url}")
        self.budget.left -= 1
        self.sent += 1
        remaining = max(0.1, self.budget.deadline - time.monotonic())
        try:
            return self.client.request(method, url, timeout=min(5.0, remaining))
        except httpx.HTTPError:
            return None


def origin_of(url: str) -> str:
    """``scheme://host:port`` of a URL; a UsageError for anything but http(s) with a host."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise errors.UsageError(
            f"--dast needs an http:// or https:// URL, not `{url}`",
            hint="name the running app, e.g. --dast http://127.0.0.1:8081",
        )
    return f"{parsed.scheme}://{parsed.netloc}"


class DastScanner:
    """The baseline checks against ``ScanContext.dast_url``."""

    name = "dast"

    def scan(self, context: interface.ScanContext) -> interface.ScanResult:
        started = time.perf_counter()
        if not context.dast_url:
            return interface.ScanResult(
                scanner=self.name,
                tool="shipyard-dast",
                version="1",
                rules=RULES,
                findings=(),
                ran=False,
                notices=[interface.Notice("no URL given (--dast URL)")],
            )
        origin = origin_of(context.dast_url)
        found = checks.Checks(self.name, RULES)
        budget = _Budget(context.dast_max_requests, context.dast_time_budget)
        notices: list[interface.Notice] = []
        with httpx.Client(follow_redirects=False, trust_env=False, verify=True) as client:
            probe = _Probe(origin, client, budget)
            home = probe.send("GET", "/")
            if home is None:
                raise interface.ScanError(
                    f"the app at {origin} did not answer",
                    hint="start the app first, and check the URL and port",
                )
            _check_home(found, origin, home)
            for check in _CHECKS:
                if budget.spent:
                    notices.append(
                        interface.Notice(
                            f"request or time budget spent before {check.__name__.strip('_')}",
                            "warning",
                        )
                    )
                    break
                check(found, probe)
        notices.append(interface.Notice(f"{probe.sent} requests to {origin}"))
        return interface.ScanResult(
            scanner=self.name,
            tool="shipyard-dast",
            version="1",
            rules=RULES,
            findings=found.found,
            notices=notices,
            seconds=time.perf_counter() - started,
        )


def _check_home(found: checks.Checks, origin: str, response: httpx.Response) -> None:
    url = origin + "/"
    headers = response.headers
    csp = headers.get("content-security-policy", "")
    wanted = {
        "Content-Security-Policy": bool(csp),
        "X-Content-Type-Options": headers.get("x-content-type-options", "").lower() == "nosniff",
        "X-Frame-Options": "x-frame-options" in headers or "frame-ancestors" in csp,
        "Referrer-Policy": "referrer-policy" in headers,
    }
    if origin.startswith("https://"):
        wanted["Strict-Transport-Security"] = "strict-transport-security" in headers
    for name, present in wanted.items():
        if not present:
            found.report(
                "dast/missing-security-header", url, 1, f"`{name}` is missing", key=f"header:{name}"
            )
    for name in ("server", "x-powered-by", "x-aspnet-version"):
        value = headers.get(name)
        if value and (name != "server" or _VERSIONED.search(value)):
            found.report(
                "dast/version-banner",
                url,
                1,
                f"`{name}: {value}` names its version",
                key=f"banner:{name}",
            )
    for cookie in headers.get_list("set-cookie"):
        _check_cookie(found, origin, url, cookie)


def _check_cookie(found: checks.Checks, origin: str, url: str, cookie: str) -> None:
    name = cookie.split("=", 1)[0].strip()
    attributes = {part.strip().split("=", 1)[0].lower() for part in cookie.split(";")[1:]}
    missing = [flag for flag in ("httponly", "samesite") if flag not in attributes]
    if origin.startswith("https://") and "secure" not in attributes:
        missing.append("secure")
    if missing:
        found.report(
            "dast/cookie-flags",
            url,
            1,
            f"cookie `{name}` lacks {', '.join(missing)}",
            key=f"cookie:{name}",
        )


def _exposed_files(found: checks.Checks, probe: _Probe) -> None:
    git = probe.send("GET", "/.git/HEAD")
    if git is not None and git.status_code == 200 and git.text.startswith("ref: "):
        found.report(
            "dast/exposed-git", probe.origin + "/.git/HEAD", 1, "`/.git/HEAD` is served", key="git"
        )
    env = probe.send("GET", "/.env")
    if (
        env is not None
        and env.status_code == 200
        and re.search(r"(?m)^[A-Z_][A-Z0-9_]*=", env.text)
    ):
        found.report("dast/exposed-env", probe.origin + "/.env", 1, "`/.env` is served", key="env")


def _listings(found: checks.Checks, probe: _Probe) -> None:
    for path in ("/", "/static/", "/uploads/", "/files/", "/assets/"):
        response = probe.send("GET", path)
        if response is not None and response.status_code == 200 and _LISTINGS.search(response.text):
            found.report(
                "dast/directory-listing",
                probe.origin + path,
                1,
                f"`{path}` lists its files",
                key=f"listing:{path}",
            )
            return


def _open_redirects(found: checks.Checks, probe: _Probe) -> None:
    target = f"https://{_PROBE_HOST}/"
    for parameter in _REDIRECT_PARAMETERS:
        for path in ("/", "/login", "/logout"):
            query = urllib.parse.urlencode({parameter: target})
            response = probe.send("GET", f"{path}?{query}")
            if response is None:
                continue
            location = response.headers.get("location", "")
            if (
                300 <= response.status_code < 400
                and _PROBE_HOST
                in urllib.parse.urlsplit(urllib.parse.urljoin(probe.origin + path, location)).netloc
            ):
                found.report(
                    "dast/open-redirect",
                    probe.origin + path,
                    1,
                    f"`{path}?{parameter}=` redirects to any site",
                    key=f"redirect:{parameter}",
                )
                return
            if response.status_code == 404:
                break  # no such path: the other parameters will not make it exist


def _trace(found: checks.Checks, probe: _Probe) -> None:
    response = probe.send("TRACE", "/")
    if response is not None and response.status_code == 200 and "TRACE / HTTP" in response.text:
        found.report(
            "dast/trace-enabled", probe.origin + "/", 1, "TRACE / is echoed back", key="trace"
        )


def _error_pages(found: checks.Checks, probe: _Probe) -> None:
    token = secrets.token_hex(4)
    for path in (f"/shipyard-dast-{token}%ff", f"/?id=%27{token}", f"/shipyard-dast-{token}/..%2f"):
        response = probe.send("GET", path)
        if response is not None and _TRACES.search(response.text):
            found.report(
                "dast/stack-trace",
                probe.origin + path.split("?")[0],
                1,
                f"the error page of `{path}` shows a stack trace",
                key="stack-trace",
            )
            return


_CHECKS: tuple[Callable[[checks.Checks, _Probe], None], ...] = (
    _exposed_files,
    _trace,
    _error_pages,
    _listings,
    _open_redirects,
)
