"""The first request: who the key belongs to (``GET /v1/profile``), and so whether the server can be reached.

Its outcome is what the dashboard's header says first: connected (with the person's name and team, when the key
may read them), the key refused (401, or 403 for a key that may read neither its profile nor runs), or the server
unreachable (with the next try's countdown). It never stays "connecting" longer than one request's timeout. While
unreachable it tries again, slower and slower.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from duvo_tui.api.account import Profile
from duvo_tui.api.errors import AuthError, DuvoError, ForbiddenError, NetworkError
from duvo_tui.service import events as ev

if TYPE_CHECKING:
    from duvo_tui.api.client import DuvoClient

__all__ = ["RETRY_DELAYS", "identify", "identify_again"]

log = logging.getLogger(__name__)

RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
"""Seconds before each new try while the server cannot be reached (the last repeats)."""


async def _who(client: DuvoClient, can_read_runs: Callable[[], Awaitable[object]] | None) -> Profile | None:
    """The key's profile; None when the key may not read it (403) but can read runs. Raises what failed."""
    try:
        return await client.get_profile(urgent=True, retries=0)
    except ForbiddenError:
        if can_read_runs is None:
            raise
    # A key inherits its creator's permissions: one may lack the right to say who it is and still read runs,
    # which is what the dashboard needs. Only a key that can read neither is refused.
    await can_read_runs()
    log.info("this key may not read its profile (403), but it reads runs")
    return None


async def identify(
    client: DuvoClient,
    emit: Callable[[ev.Event], None],
    *,
    on_auth_failed: Callable[[], bool],
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    can_read_runs: Callable[[], Awaitable[object]] | None = None,
) -> Profile | None:
    """Ask who the key is until the server answers; emit ``Connected``, ``AuthFailed`` or ``ConnectionLost``.

    ``on_auth_failed()`` is called on a 401 and returns True when the refusal is news (it has not been said
    already by the poller); the event is emitted only then. On a 403 ``can_read_runs()`` (one request of the
    run listing, raising when it is refused) decides: runs readable -> connected, without a name; else the
    key has no access (``AuthFailed`` with status 403). Returns the profile (None when refused, or when the
    server answered without one).
    """
    attempt = 0
    while True:
        try:
            profile = await _who(client, can_read_runs)
        except AuthError as error:
            if on_auth_failed():
                emit(ev.AuthFailed(str(error), status=401))
            return None
        except ForbiddenError as error:
            emit(ev.AuthFailed(str(error), status=403))
            return None
        except NetworkError as error:
            delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
            attempt += 1
            emit(ev.ConnectionLost(error.message, attempt=attempt, retry_in=delay))
            await sleep(delay)
            continue
        except DuvoError as error:
            # The server answered (a 404 from one without /v1/profile, a 5xx): it is there, it just did not say who.
            log.info("the profile could not be read: %s", error)
            emit(ev.Connected())
            return None
        if profile is None:
            emit(ev.Connected())
            return None
        emit(ev.Connected(name=profile.name, email=profile.email, team_id=profile.team_id))
        return profile


async def identify_again(
    client: DuvoClient,
    emit: Callable[[ev.Event], None],
    can_read_runs: Callable[[], Awaitable[object]] | None = None,
) -> tuple[Profile | None, bool]:
    """:func:`identify` when a person asks to try a refused key again: (the profile, whether it was refused
    again with a 401). The refusal is said again: the person asked."""
    refused = False

    def watch(event: ev.Event) -> None:
        nonlocal refused
        refused = refused or (isinstance(event, ev.AuthFailed) and event.status == 401)
        emit(event)

    profile = await identify(client, watch, on_auth_failed=lambda: True, can_read_runs=can_read_runs)
    return profile, refused
