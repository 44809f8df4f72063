"""Browser sessions of ``duvo-tui serve`` on one key stay under the key's limit together: one budget for all.

The real server in a subprocess, ten websocket clients (each one a dashboard process, as a browser tab is),
and the emulator's limiter recording every decision; ``python -m duvo_tui.bench serve`` is the same
measurement with its figures printed.
"""

from __future__ import annotations

import pytest

from duvo_tui.bench.serve import measure

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def test_four_sessions_on_one_key_never_exceed_its_limit_together() -> None:
    # 3 requests per 4 s: four dashboards starting together want several times that at once (each sends its
    # first requests right after its first frame, and more every second after that when nothing holds it back).
    # Four are enough to overrun the limit many times over; each more costs a dashboard process's start.
    limit = 3
    result = measure(sessions=4, limit=limit, window=4.0, duration=6.0)
    assert result["sessions_drawn"] == 4, result  # every tab got its own dashboard on screen
    assert result["refused_429"] == 0, result
    assert result["max_in_one_window"] <= limit, result
    assert result["requests"] > limit, result  # they kept working past one window's worth, within the limit


def test_a_process_that_has_not_heard_from_the_server_keeps_the_reserve_as_a_share_of_the_known_limit(tmp_path):
    from duvo_tui.api.shared_budget import SharedBudgetFile

    shared = SharedBudgetFile(tmp_path / "budget.json", wall_clock=lambda: 1000.0)
    shared.record_limits(4, 6.0)  # what serve learned before starting any dashboard
    # A fresh dashboard still assumes the default 300 a minute and keeps 30 of it for urgent requests: against
    # the key's real 4 that reserve would leave it one request a window. It gets the 4, less 10 % of 4 (none).
    waits = [shared.try_take(300, 60.0, keep=30, learned=False, window_learned=False)[0] for _ in range(5)]
    assert waits[:4] == [0.0, 0.0, 0.0, 0.0]
    assert waits[4] > 0


def test_a_process_that_learned_a_short_window_does_not_shorten_the_shared_one(tmp_path):
    from duvo_tui.api.shared_budget import SharedBudgetFile

    now = [1000.0]
    shared = SharedBudgetFile(tmp_path / "budget.json", wall_clock=lambda: now[0])
    shared.record_limits(4, 6.0)
    # A dashboard whose first answer came 1.5 s before the server's reset believes the window is 1.5 s long.
    assert [shared.try_take(4, 1.5, learned=True, window_learned=True)[0] for _ in range(4)] == [0.0] * 4
    now[0] += 2.5  # past that short window, but well inside the server's 6 s one
    wait, _ = shared.try_take(4, 1.5, learned=True, window_learned=True)
    assert wait > 3.0
