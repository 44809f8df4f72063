"""``duvo-tui demo`` shows a newcomer every kind of message a run can have: a person's and the agent's text, a
``system`` note, a ``thinking`` message folded under "▸ thought" (enter unfolds it), tool calls, their results and
a tool's error, at 80x24 and 120x40. The demo's own runs, seeded as ``duvo-tui demo`` seeds them."""

from __future__ import annotations

import re

import pytest

from duvo_tui.api.client import DuvoClient
from duvo_tui.config import load_config, resolve_profile
from duvo_tui.demo import DEMO_PROFILE, demo_environment, seed_demo_runs
from duvo_tui.service.service import DuvoService
from duvo_tui.ui.app import make_app
from duvo_tui.ui.stream.message_stream import MessageStream
from tests.feed_service import wait_until
from tests.screen_reading import screen_lines
from tests.test_ui_dashboard import FAST

SIZES = [(80, 24), (120, 40)]
LABELS = ("user", "assistant", "system", "▸ thought", "▸ tool", "▸ result", "▸ error")
SETTLED = ("completed", "failed", "waiting")


def labels_on_screen(app) -> set[str]:
    """The message labels that begin a line of a pane on screen."""
    found = set()
    for line in screen_lines(app):
        for part in re.split(r"[┃│]", line):
            found.update(label for label in LABELS if part.strip().startswith(label + " "))
    return found


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_the_demo_shows_every_kind_of_message(tmp_path, size):
    with demo_environment(speed=50, chatty_messages=60) as env:
        emu = env.emulator
        profile = resolve_profile(load_config(env.config_path), DEMO_PROFILE, env={})
        client = DuvoClient(emu.base_url, emu.api_key)
        service = DuvoService(client, FAST, state_dir=tmp_path / "state")
        app = make_app(service, profile, on_close=client.aclose)
        async with app.run_test(size=size) as pilot:
            await wait_until(pilot, lambda: app.service_started)
            run_ids = await seed_demo_runs(service, client, emu.agents)
            await wait_until(pilot, lambda: all(emu.state.runs[r].status in SETTLED for r in run_ids), within=30)
            runs = app.screen_dashboard.query_one("#run-list")
            stream = app.screen_dashboard.query_one(MessageStream)
            seen: set[str] = set()
            thought_unfolded = False
            for run_id in run_ids:
                total = len(emu.state.runs[run_id].messages)
                if total > 30:
                    continue  # the long log-triage run: the others show every kind between them
                await wait_until(pilot, lambda r=run_id: runs.row(r) is not None)
                runs.select(run_id)
                await pilot.press("2")
                await wait_until(pilot, lambda r=run_id, n=total: stream.run_id == r and stream.message_count == n)
                stream.focus()
                await pilot.press("g")
                for _ in range(total):  # each message in turn, as a person reads down the run
                    await pilot.pause(0.05)
                    seen |= labels_on_screen(app)
                    selected = stream.selected_message()
                    if selected is not None and selected.type == "thinking" and not thought_unfolded:
                        # The start of its second line (the pane wraps the rest).
                        second = (selected.text_content or "").splitlines()[1][:24]
                        assert not any(second in line for line in screen_lines(app)), "folded to one line"
                        await pilot.press("enter")
                        await wait_until(pilot, lambda s=second: any(s in line for line in screen_lines(app)))
                        assert any("▾ thought" in line for line in screen_lines(app))
                        thought_unfolded = True
                    await pilot.press("j")
            assert seen == set(LABELS), f"never shown: {set(LABELS) - seen}"
            assert thought_unfolded
