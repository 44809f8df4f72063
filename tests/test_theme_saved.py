"""The dashboard writes the theme to config.toml only when the person picks another one, never on start."""

from __future__ import annotations

import os
import stat

from duvo_tui.api.models import Run
from duvo_tui.config import Profile, load_config, set_theme
from duvo_tui.ui.app import make_app
from tests.feed_service import FeedService, wait_until

CONFIG = '# my dotfile\ntheme = "nord"\n\n[profiles.work]\nbase_url = "https://api.example.com"\n'


def dotfile(tmp_path):
    """A config.toml that is a symlink to a 0644 file in a dotfiles folder, as many people keep it."""
    real = tmp_path / "dotfiles" / "duvo.toml"
    real.parent.mkdir()
    real.write_text(CONFIG)
    real.chmod(0o644)
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    return link, real


async def test_starting_the_dashboard_leaves_the_config_file_alone(tmp_path):
    link, real = dotfile(tmp_path)
    before = os.stat(real)
    saved: list[str] = []

    def save_theme(theme: str) -> None:
        saved.append(theme)
        set_theme(theme, link)

    service = FeedService([Run(id="r1", status="running")])
    app = make_app(service, Profile(name="t"), theme="nord", save_theme=save_theme)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.screen_dashboard.ready)
        await pilot.pause(0.2)
        assert app.theme == "nord"
        assert saved == []
    assert link.is_symlink()
    after = os.stat(real)
    assert (after.st_ino, stat.S_IMODE(after.st_mode)) == (before.st_ino, 0o644)
    assert real.read_text() == CONFIG


async def test_picking_another_theme_is_remembered_once(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    saved: list[str] = []

    def save_theme(theme: str) -> None:
        saved.append(theme)
        set_theme(theme, path)

    app = make_app(FeedService([]), Profile(name="t"), theme="nord", save_theme=save_theme)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.screen_dashboard.ready)
        app.theme = "gruvbox"
        await pilot.pause(0.1)
        app.theme = "gruvbox"  # the same again: nothing new to write
        await pilot.pause(0.1)
    assert saved == ["gruvbox"]
    assert load_config(path).theme == "gruvbox"
    assert "# my dotfile" in path.read_text()


async def test_a_dashboard_without_a_theme_in_its_config_writes_none_on_start(tmp_path):
    saved: list[str] = []
    app = make_app(FeedService([]), Profile(name="t"), save_theme=saved.append)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.screen_dashboard.ready)
        await pilot.pause(0.2)
    assert saved == []
