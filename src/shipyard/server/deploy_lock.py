"""An environment's deploy lock as deploys use it: refuse, queue, renew, and say who holds it.

One change at a time per environment (the store's ``deploy_locks`` row). A second deploy is
refused with the holder and since when, unless it queues (``--wait``). A deploy that has ended
but is still stopping older warm releases, or the expiry of a warm release, holds the lock only
for a moment: a new deploy waits for it instead of being refused.
"""

from __future__ import annotations

import asyncio
import re
import time

from shipyard.store import database, deploys, records

LOCK_TTL = 15 * 60.0
LOCK_RENEW = 60.0
SETTLE_GRACE = 30.0
"""Seconds a new deploy waits for one that has ended to finish stopping older warm releases."""
CLEAN_UP = ":clean-up"
"""The suffix of the lock holder that stops an expired warm release."""


def settling(store: database.Store, holder: str) -> bool:
    """Whether the lock's holder is only tidying up: a finished deploy, or a warm expiry."""
    if holder.endswith(CLEAN_UP):
        return True
    found = re.search(r":deploy-(\d+)$", holder)
    if found is None:
        return False
    record = deploys.get(store, int(found.group(1)))
    return record is not None and not record.active


def active_of(store: database.Store, environment: str) -> deploys.DeployRecord | None:
    """The deploy changing the environment now (running or paused), if any."""
    found = deploys.active(store, environment)
    return next((r for r in found if r.status in ("running", "paused")), None)


async def refuse_if_busy(store: database.Store, environment: str) -> None:
    """Raise ``Conflict`` while another change holds the environment (after waiting out a
    clean-up)."""
    from shipyard.server.controller import Conflict

    loop = asyncio.get_running_loop()
    grace = loop.time() + SETTLE_GRACE
    while True:
        found = await asyncio.to_thread(records.lock_info, store, environment)
        if found is None:
            return
        if loop.time() >= grace or not await asyncio.to_thread(settling, store, found[0]):
            active = await asyncio.to_thread(active_of, store, environment)
            raise Conflict(
                busy_message(environment, found, active),
                hint="wait for it to finish, or queue behind it: `--wait`",
            )
        await asyncio.sleep(0.05)


async def acquire(store: database.Store, environment: str, holder: str, *, wait: bool) -> bool:
    """Take the lock; with ``wait``, until it is free; else only past a clean-up."""
    loop = asyncio.get_running_loop()
    grace = loop.time() + SETTLE_GRACE
    while True:
        taken = await asyncio.to_thread(records.acquire_lock, store, environment, holder, LOCK_TTL)
        if taken:
            return True
        if not wait:
            found = await asyncio.to_thread(records.lock_info, store, environment)
            tidying = found is not None and await asyncio.to_thread(settling, store, found[0])
            if not tidying or loop.time() >= grace:
                return False
        await asyncio.sleep(0.2 if wait else 0.05)


async def renew(store: database.Store, environment: str, holder: str) -> None:
    """Keep the lock while a long deploy (a canary waiting for ``promote``) runs."""
    while True:
        await asyncio.sleep(LOCK_RENEW)
        await asyncio.to_thread(records.acquire_lock, store, environment, holder, LOCK_TTL)


def busy_message(
    environment: str, lock: tuple[str, float], active: deploys.DeployRecord | None
) -> str:
    _, since = lock
    stamp = time.strftime("%H:%M:%S", time.localtime(since))
    ago = max(0.0, time.time() - since)
    who = "another change (`shipyard up` or `down`)"
    if active is not None:
        who = f"deploy {active.id} of release {active.release_id} by {active.actor or 'someone'}"
    return f"environment `{environment}` is being changed by {who}, since {stamp} ({ago:.0f} s ago)"
