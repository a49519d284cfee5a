"""``actions/cache``, ``actions/cache/restore`` and ``actions/cache/save`` (v4 semantics) on
Shipyard's content-addressed store.

``key`` names an entry; ``restore-keys`` are prefixes tried in order when the key misses, each
taking the newest entry that starts with it. ``path`` lines are @actions/glob patterns (``~`` is
the home directory); an entry only matches a request for the same paths, as GitHub versions
caches by their paths. Entries are scoped like GitHub's: a run reads the caches of its own ref
first, then those of the default branch, and saves into its own ref's scope.
``actions/cache`` restores in its step and saves in a post step when the job succeeded and the
key missed. Files inside the workspace are stored relative to it (the workspace moves between
runs); other paths are stored as they are.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

from shipyard.cache import entries, snapshots
from shipyard.cache import errors as cache_errors
from shipyard.core.frozen import frozen
from shipyard.pipeline.actions import _glob, _inputs, _process, interface

KEY_LIMIT = 512
"""GitHub refuses keys longer than 512 characters and keys containing a comma."""


@frozen
class CacheRequest:
    key: str
    paths: str
    restore_keys: tuple[str, ...]
    version: str


def _request(call: interface.ActionCall, *, key_input: str = "key") -> CacheRequest:
    key = call.input(key_input).strip()
    if not key:
        raise interface.ActionFailed(
            f"Input required and not supplied: {key_input}", hint="set `with: key: ...`"
        )
    restore_keys = tuple(_inputs.lines(call, "restore-keys"))
    for candidate in (key, *restore_keys):
        if len(candidate) > KEY_LIMIT:
            raise interface.ActionFailed(
                f"Key Validation Error: {candidate[:40]}... cannot be larger than 512 characters."
            )
        if "," in candidate:
            raise interface.ActionFailed(
                f"Key Validation Error: {candidate} cannot contain commas."
            )
    paths = call.input("path").strip()
    if not paths:
        raise interface.ActionFailed(
            "Input required and not supplied: path", hint="list the files or directories to cache"
        )
    version = hashlib.sha256("\n".join([*paths.splitlines(), "shipyard-1"]).encode()).hexdigest()
    return CacheRequest(key, paths, restore_keys, version[:16])


def _scopes(call: interface.ActionCall) -> tuple[str, ...]:
    repository = call.repository.name
    own = f"actions-cache/{repository}/{call.repository.ref}"
    default = f"actions-cache/{repository}/refs/heads/main"
    return (own,) if own == default else (own, default)


def _index(call: interface.ActionCall) -> entries.CacheIndex:
    if call.cache_root is None:
        raise interface.ActionFailed("the cache is not available in this run")
    return entries.CacheIndex(call.cache_root)


def _find(
    index: entries.CacheIndex, call: interface.ActionCall, request: CacheRequest
) -> tuple[entries.CacheEntry | None, bool]:
    """The entry to restore and whether it is an exact hit (GitHub's lookup order)."""
    for scope in _scopes(call):
        exact = index.get(scope, f"{request.version}/{request.key}")
        if exact is not None:
            return exact, True
    for prefix in request.restore_keys:
        for scope in _scopes(call):
            found = index.find_prefix(scope, f"{request.version}/{prefix}")
            if found:
                chosen = index.get(scope, found[0].key) or found[0]
                return chosen, False
    return None, False


async def restore(
    call: interface.ActionCall, io: interface.ActionIO, request: CacheRequest, *, lookup_only: bool
) -> tuple[str | None, bool]:
    """Restore the best entry; returns (the matched key or None, exact hit)."""
    index = _index(call)
    entry, exact = await asyncio.to_thread(_find, index, call, request)
    if entry is None:
        io.log("Cache not found for input keys: " + ", ".join([request.key, *request.restore_keys]))
        return None, False
    matched = entry.key.split("/", 1)[1]
    if lookup_only:
        io.log(f"Cache found and can be restored from key: {matched}")
        return matched, exact
    parts = entry.metadata if isinstance(entry.metadata, dict) else {}
    try:
        for place, digest in parts.items():
            target = call.workspace if place == "workspace" else Path("/")
            await asyncio.to_thread(snapshots.restore_tree, index.store, digest, target)
    except (cache_errors.CacheError, OSError) as error:
        io.warning(f"Failed to restore: {error}")
        return None, False
    io.log(f"Cache restored from key: {matched}")
    return matched, exact


async def save(call: interface.ActionCall, io: interface.ActionIO, request: CacheRequest) -> None:
    """Save the paths under the key in this ref's scope; an existing key is left alone."""
    index = _index(call)
    scope = _scopes(call)[0]
    name = f"{request.version}/{request.key}"
    if index.get(scope, name) is not None:
        io.log(f"Cache hit occurred on the primary key {request.key}, not saving cache.")
        return
    try:
        patterns = _glob.parse(request.paths, cwd=call.workspace, home=_process.home(call.env))
    except _glob.PatternError as error:
        raise interface.ActionFailed(f"input `path`: {error}") from None
    found = await asyncio.to_thread(_glob.find, patterns, include_hidden=True)
    if not found:
        io.warning(
            "Path Validation Error: Path(s) specified in the action for caching do(es) not "
            "exist, hence no cache is being saved."
        )
        return
    inside = [p for p in found if _within(p, call.workspace)]
    outside = [p for p in found if not _within(p, call.workspace)]
    parts: dict[str, str] = {}
    size = 0
    for place, base, paths in (
        ("workspace", call.workspace, inside),
        ("root", Path("/"), outside),
    ):
        if paths:
            snapshot = await asyncio.to_thread(snapshots.save_tree, index.store, base, paths)
            parts[place] = snapshot.digest
            size += snapshot.size
    first = next(iter(parts.values()))
    await asyncio.to_thread(
        index.put, scope, name, first, size, metadata=parts, refs=list(parts.values())
    )
    await asyncio.to_thread(index.enforce_cap)
    io.log(f"Cache saved with key: {request.key} ({size} bytes)")


def _within(path: Path, directory: Path) -> bool:
    try:
        Path(os.path.abspath(path)).relative_to(os.path.abspath(directory))
    except ValueError:
        return False
    return True


class Cache:
    """``actions/cache``: restore now, save after the job when the key missed."""

    names: tuple[str, ...] = ("actions/cache",)

    async def run(self, call: interface.ActionCall, io: interface.ActionIO) -> None:
        request = _request(call)
        lookup_only = _inputs.boolean(call, "lookup-only", False)
        matched, exact = await restore(call, io, request, lookup_only=lookup_only)
        io.set_output("cache-hit", "true" if exact else "false")
        if matched is None and _inputs.boolean(call, "fail-on-cache-miss", False):
            raise interface.ActionFailed(
                "Failed to restore cache entry. Exiting as fail-on-cache-miss is set. "
                f"Input key: {request.key}"
            )
        if exact:
            return

        async def save_after_job(post_io: interface.ActionIO) -> None:
            await save(call, post_io, request)

        io.add_post_step(f"Cache {request.key}", save_after_job, if_success=True)


class CacheRestore:
    """``actions/cache/restore``: restore only."""

    names: tuple[str, ...] = ("actions/cache/restore",)

    async def run(self, call: interface.ActionCall, io: interface.ActionIO) -> None:
        request = _request(call)
        lookup_only = _inputs.boolean(call, "lookup-only", False)
        matched, exact = await restore(call, io, request, lookup_only=lookup_only)
        io.set_output("cache-hit", "true" if exact else "false")
        io.set_output("cache-primary-key", request.key)
        io.set_output("cache-matched-key", matched or "")
        if matched is None and _inputs.boolean(call, "fail-on-cache-miss", False):
            raise interface.ActionFailed(
                "Failed to restore cache entry. Exiting as fail-on-cache-miss is set. "
                f"Input key: {request.key}"
            )


class CacheSave:
    """``actions/cache/save``: save now, whatever happened before."""

    names: tuple[str, ...] = ("actions/cache/save",)

    async def run(self, call: interface.ActionCall, io: interface.ActionIO) -> None:
        await save(call, io, _request(call))
