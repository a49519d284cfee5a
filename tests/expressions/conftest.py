"""Shows the corpus pass count at the end of a test run, without ``-s``."""

from __future__ import annotations

import pytest

from tests.expressions import corpus


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in corpus.SUMMARY:
        terminalreporter.write_line(line)
