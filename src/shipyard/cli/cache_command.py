"""``shipyard cache ls | prune | clear``: look at the cache store and make it smaller.

The store lives at ``$SHIPYARD_HOME/cache``. ``ls`` lists the named entries (namespace, key, size,
last use in UTC); ``prune`` evicts the least recently used entries until the store fits a size
(``--max-size``, else ``$SHIPYARD_CACHE_MAX_SIZE``, else 10G) and deletes blobs no entry needs;
``clear`` removes everything, after asking on a terminal, or with ``--yes``.
"""

from __future__ import annotations

import sys
import time

import click

from shipyard.cache import entries, eviction, settings
from shipyard.core import errors


@click.group("cache")
def cache() -> None:
    """Inspect and prune the cache."""


@cache.command("ls")
def ls() -> None:
    """List cache entries: namespace, key, size and last use (UTC)."""
    root = settings.default_root()
    found = entries.CacheIndex(root).list() if root.is_dir() else []
    if not found:
        click.echo(f"no cache entries in {root}")
        return
    rows = [
        (entry.namespace, entry.key, settings.format_size(entry.size), _utc(entry.last_used))
        for entry in found
    ]
    header = ("NAMESPACE", "KEY", "SIZE", "LAST USED")
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(3)]
    for namespace, key, size, used in [header, *rows]:
        click.echo(
            f"{namespace:<{widths[0]}}  {key:<{widths[1]}}  {size:>{widths[2]}}  {used}".rstrip()
        )
    total = settings.format_size(sum(entry.size for entry in found))
    click.echo(f"{_count(len(found), 'entry', 'entries')}, {total}")


@cache.command("prune")
@click.option(
    "--max-size",
    metavar="SIZE",
    help="Largest size to keep, e.g. 500M or 2G [default: $SHIPYARD_CACHE_MAX_SIZE, else 10G].",
)
def prune(max_size: str | None) -> None:
    """Evict least recently used entries to fit SIZE; delete blobs no entry needs."""
    cap = (
        settings.max_bytes_from_env()
        if max_size is None
        else settings.parse_size(max_size, source="--max-size")
    )
    root = settings.default_root()
    if not root.is_dir():
        click.echo(f"no cache in {root}")
        return
    report = entries.CacheIndex(root).prune(cap)
    for entry in report.broken:
        click.echo(f"removed broken entry {entry.namespace} {entry.key} (a blob is missing)")
    for entry in report.evicted:
        size = settings.format_size(entry.size)
        click.echo(
            f"evicted {entry.namespace} {entry.key} ({size}, last used {_utc(entry.last_used)})"
        )
    click.echo(
        f"evicted {_count(len(report.evicted), 'entry', 'entries')}, "
        f"deleted {_count(report.blobs_deleted, 'blob', 'blobs')}, "
        f"freed {settings.format_size(report.bytes_freed)}; "
        f"{_count(report.entries_kept, 'entry', 'entries')} "
        f"({settings.format_size(report.bytes_kept)}) kept under {settings.format_size(cap)}"
    )
    if report.blobs_spared:
        click.echo(
            f"kept {_count(report.blobs_spared, 'unused blob', 'unused blobs')} "
            f"({settings.format_size(report.bytes_spared)}) used in the last "
            f"{eviction.GRACE_SECONDS // 60} minutes, in case a save in progress needs them"
        )


@cache.command("clear")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def clear(yes: bool) -> None:
    """Remove every cache entry and blob."""
    root = settings.default_root()
    if not yes:
        if not sys.stdin.isatty():
            raise errors.UsageError(
                f"refusing to clear the cache in {root} without confirmation",
                hint="pass --yes to clear it (there is no terminal to ask on)",
            )
        click.confirm(f"Remove every cache entry and blob in {root}?", abort=True)
    removed = entries.CacheIndex(root).clear() if root.is_dir() else 0
    click.echo(f"cleared {_count(removed, 'entry', 'entries')} from {root}")


def _utc(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(timestamp))


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"
