"""The first request: who the key belongs to (``GET /v1/profile``), and so whether the server can be reached.

Its outcome is what the dashboard's header says first: connected (with the person's name and team), the key
refused (401/403), or the server unreachable (with the next try's countdown). It never stays "connecting"
longer than one request's timeout. While unreachable it tries again, slower and slower.
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


async def identify(
    client: DuvoClient,
    emit: Callable[[ev.Event], None],
    *,
    on_auth_failed: Callable[[], bool],
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> Profile | None:
    """Ask who the key is until the server answers; emit ``Connected``, ``AuthFailed`` or ``ConnectionLost``.

    ``on_auth_failed()`` is called on a 401 and returns True when the refusal is news (it has not been said
    already by the poller); the event is emitted only then. Returns the profile (None when refused, or when
    the server answered without one).
    """
    attempt = 0
    while True:
        try:
            profile = await client.get_profile(urgent=True, retries=0)
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
        emit(ev.Connected(name=profile.name, email=profile.email, team_id=profile.team_id))
        return profile


async def identify_again(client: DuvoClient, emit: Callable[[ev.Event], None]) -> tuple[Profile | None, bool]:
    """:func:`identify` when a person asks to try a refused key again: (the profile, whether it was refused
    again with a 401). The refusal is said again: the person asked."""
    refused = False

    def watch(event: ev.Event) -> None:
        nonlocal refused
        refused = refused or (isinstance(event, ev.AuthFailed) and event.status == 401)
        emit(event)

    profile = await identify(client, watch, on_auth_failed=lambda: True)
    return profile, refused
