"""Remappable keys: the ``[keys]`` table overrides bindings by id; unknown ids and clashes are reported."""

from __future__ import annotations

from duvo_tui.config import Profile
from duvo_tui.ui.app import make_app
from duvo_tui.ui.chrome.help_screen import HelpScreen
from duvo_tui.ui.chrome.keymap import all_bindings, keymap_problems
from duvo_tui.ui.dialogs import ConfirmScreen, StartRunScreen
from tests.feed_service import FeedService, wait_until


def test_every_binding_has_an_id_and_ids_are_unique():
    bindings = all_bindings()
    assert len(bindings) > 20
    missing = [b for b in bindings if not b.id]
    assert missing == []
    ids = [b.id for b in bindings]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_destructive_actions_avoid_ctrl_letter_keys():
    destructive = [b for b in all_bindings() if b.action in ("stop_run", "quit")]
    assert destructive
    for binding in destructive:
        assert not any(key.startswith("ctrl+") for key in binding.keys), binding


def test_unknown_ids_empty_keys_and_clashes_are_named():
    problems = keymap_problems({"app.stop_run": "q", "no.such": "z", "app.help": "", "app.add_run": "f2"})
    assert any("no.such" in p and "no binding" in p for p in problems)
    assert any("app.help" in p and "no key" in p for p in problems)
    assert any("app.stop_run" in p and "'q'" in p and "app.quit" in p for p in problems)
    assert not any("app.add_run" in p for p in problems)


def test_a_pane_key_clashing_with_a_global_key_is_a_clash():
    problems = keymap_problems({"runs.filter": "s"})
    assert problems and "app.start_run" in problems[0]


def test_a_key_used_only_inside_a_dialog_is_no_clash():
    # h moves between the buttons of the confirm dialog only; y is also "copy" in the message stream.
    assert keymap_problems({"app.add_run": "h"}) == []
    assert keymap_problems({"app.add_run": "y"}) != []


async def test_override_by_id_works_and_the_old_key_is_free():
    app = make_app(FeedService(), Profile(name="t"), keymap={"app.help": "f1", "app.start_run": "f2"})
    assert app.keymap_problems == []
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, StartRunScreen))


async def test_clash_and_unknown_id_are_reported_on_start():
    app = make_app(FeedService(), Profile(name="t"), keymap={"app.stop_run": "q", "app.nonsense": "z"})
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        await wait_until(pilot, lambda: len(app._notifications) >= 2)
        messages = [n.message for n in app._notifications]
        assert any("app.nonsense" in m for m in messages)
        assert any("app.stop_run" in m and "app.quit" in m for m in messages)


async def test_stopping_asks_with_no_as_the_default():
    from rich.text import Text

    answers: list[bool] = []
    app = make_app(FeedService(), Profile(name="t"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        app.push_screen(ConfirmScreen(Text("Stop?"), yes="Stop"), answers.append)
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("enter")
        await wait_until(pilot, lambda: answers)
    assert answers == [False]
