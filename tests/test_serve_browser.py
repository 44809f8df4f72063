"""``duvo-tui serve --demo`` in a real browser (Playwright driving the system's Chromium).

A wrong token is refused; the printed address logs in and shows the dashboard; the demo's payment approval is
answered from the browser with the keyboard, and the emulator holds that one answer. Skipped, with the reason
printed, where Playwright or Chromium is missing (``.ci/run`` installs both). Set DUVO_TUI_WRITE_SCREENSHOTS=1
to refresh ``screenshots/serve-browser.png`` from this test.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyte
import pytest

from tests.serve_support import ROOT, Served, start_serve

CHROMIUM = os.environ.get("DUVO_TUI_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

if sync_playwright is None:
    pytestmark = pytest.mark.skip(reason="Playwright is not installed (pip install -e '.[test]')")
elif not Path(CHROMIUM).exists():
    pytestmark = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")
else:
    pytestmark = pytest.mark.timeout(300)

ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|[@-Z\\-_])")


class Screen:
    """What the server sent the page's terminal: as a stream of text (escape sequences removed), to see what a key
    drew, and as the screen a terminal shows (a VT emulator fed the same bytes, sized as the page sized it), to read
    what is on it now: a count that changes may be redrawn one cell at a time, so the stream alone can miss it."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.text = ""
        self._terminal = pyte.Screen(80, 24)
        self.last_frame_at = time.monotonic()
        self._bytes = pyte.ByteStream(self._terminal)

    def feed(self, payload: bytes | str) -> None:
        self.last_frame_at = time.monotonic()
        if isinstance(payload, bytes):
            self.text += ESCAPES.sub("", self._decoder.decode(payload))
            self._bytes.feed(payload)

    def sent(self, payload: bytes | str) -> None:
        """The page tells the server its terminal's size in columns and rows: ``["resize", {width, height}]``."""
        if isinstance(payload, str) and payload.startswith('["resize"'):
            size = json.loads(payload)[1]
            self._terminal.resize(lines=int(size["height"]), columns=int(size["width"]))

    def since(self, mark: int) -> str:
        return self.text[mark:]

    @property
    def shown(self) -> str:
        """The terminal's screen now, one line per row."""
        return "\n".join(line.rstrip() for line in self._terminal.display)


def wait_for_text(page: Page, screen: Screen, text: str, *, since: int = 0, limit: float = 60.0) -> None:
    """Until ``text`` was drawn after ``since`` (or, from the start, is on the screen now)."""
    deadline = time.monotonic() + limit
    while text not in screen.since(since) and not (since == 0 and text in screen.shown):
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} never reached the browser; its screen shows:\n{screen.shown}")
        page.wait_for_timeout(100)  # lets Playwright deliver the websocket frames


REQUEST_HEAD = re.compile(r"◆ (Approval|\d+ question\(s\)) ·")


def shown_request(page: Page, screen: Screen, *, since: int, limit: float = 20.0) -> str:
    """The kind of request the form shows after a key ("Approval" or "N question(s)"): the last form head the
    server drew since ``since``, once it has drawn one and half a second passed without another."""
    wait_for_text(page, screen, "◆ ", since=since, limit=limit)
    deadline = time.monotonic() + limit
    heads: list[str] = []
    while time.monotonic() < deadline:
        found = REQUEST_HEAD.findall(screen.since(since))
        if found and found == heads:
            return found[-1]
        heads = found
        page.wait_for_timeout(500)
    raise AssertionError(f"no request form was drawn; the screen shows:\n{screen.shown}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    handle = start_serve(["--demo", "--speed", "8"], tmp_path_factory.mktemp("serve-home"))
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert sync_playwright is not None
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


def test_a_wrong_token_is_refused(served: Served, browser: Browser) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        response = page.goto(served.base + "?token=" + "x" * 43)
        assert response is not None and response.status == 403
        assert "token is wrong" in page.inner_text("#error")
        assert context.cookies() == []
        assert page.locator("#terminal").count() == 0
    finally:
        context.close()


def test_the_printed_address_opens_the_dashboard_and_an_approval_is_answered_with_keys(
    served: Served, browser: Browser, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 760})
    screen = Screen()
    try:
        page = context.new_page()
        page.on("websocket", lambda websocket: websocket.on("framereceived", screen.feed))
        page.on("websocket", lambda websocket: websocket.on("framesent", screen.sent))
        page.goto(served.url)
        # The token was swapped for a cookie the page's scripts cannot read, and left the address bar.
        assert page.url == served.base
        (cookie,) = context.cookies()
        assert (cookie["name"], cookie["httpOnly"], cookie["sameSite"]) == ("duvo_tui_session", True, "Strict")
        wait_for_text(page, screen, "Runs", limit=90)  # a busy CI host takes its time to start a dashboard
        page.wait_for_selector("body.-first-byte")
        page.click("#terminal")

        # The demo's payment run asks for an approval and its report run asks questions; once both wait,
        # n moves between them: press it until the request pane shows the approval.
        try:
            wait_for_text(page, screen, "◆ 2 waiting", limit=90)
        except AssertionError as error:
            silent = time.monotonic() - screen.last_frame_at
            raise AssertionError(f"{error}\nno frame for {silent:.0f} s; the server:\n{served.story()}") from None
        for _ in range(6):
            mark = len(screen.text)
            page.keyboard.press("n")
            if shown_request(page, screen, since=mark) != "Approval":
                continue
            # The form has the focus once the key hints offer "a Approve" (before that, a adds a run).
            try:
                wait_for_text(page, screen, "a Approve", since=mark, limit=20)
            except AssertionError:
                continue
            mark = len(screen.text)
            page.keyboard.press("a")
            try:
                wait_for_text(page, screen, "Press y to APPROVE", since=mark, limit=10)
                break
            except AssertionError:
                for _ in range(2):  # whatever the key opened instead: close it
                    page.keyboard.press("Escape")
                    page.wait_for_timeout(700)
        else:
            raise AssertionError(f"n and a never reached the approval's confirmation; the screen:\n{screen.shown}")
        mark = len(screen.text)
        page.keyboard.press("y")
        wait_for_text(page, screen, "✓ Approved", since=mark)
        page.wait_for_timeout(500)
        shot = tmp_path / "serve-browser.png"
        page.screenshot(path=str(shot))
        if os.environ.get("DUVO_TUI_WRITE_SCREENSHOTS"):
            shutil.copyfile(shot, ROOT / "screenshots" / "serve-browser.png")
    finally:
        context.close()

    # The emulator (shared by every session of the demo) holds the answer, once: an approval, acted on once.
    assert served.demo_api is not None
    from duvo_tui.emulator.state import DEFAULT_API_KEY, DEFAULT_TEAM_ID

    headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    with httpx.Client(base_url=served.demo_api, headers=headers, timeout=10) as api:
        listing = api.get(f"/v2/teams/{DEFAULT_TEAM_ID}/runs", params={"limit": 100}).json()
        (approval,) = [run for run in listing["data"] if "invoices" in (run["title"] or "").lower()]
        deadline = time.monotonic() + 60
        while True:
            detail = api.get(f"/v1/runs/{approval['id']}").json()
            texts = [
                m.get("text_content") or ""
                for m in api.get(f"/v1/runs/{approval['id']}/messages", params={"limit": 50}).json()["messages"]
            ]
            if any("sent." in t for t in texts) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert detail["pending_human_request"] is None
        assert sum("Approved. Sending the payment now." in t for t in texts) == 1, texts
        assert not any("I will not pay" in t for t in texts)
