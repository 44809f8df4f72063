"""The dashboard's top line: profile, base URL, connection state and the rate-budget gauge."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from duvo_tui.text import clean_line

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from duvo_tui.service import events as ev

__all__ = ["BudgetPicture", "DashboardHeader", "budget_gauge"]


@dataclass(frozen=True)
class BudgetPicture:
    """What the gauge shows (see :class:`duvo_tui.service.events.BudgetChanged`)."""

    used: int = 0
    limit: int = 0
    resets_in: float = 0.0
    paused_for: float = 0.0
    processes: int = 1
    recent: int = 0
    """Requests this dashboard sent in the last ``window`` seconds: a sliding count, it falls when quiet."""
    window: float = 60.0
    server_remaining: int | None = None
    """What the server says is left in its window; None when it has not said (or the window ended)."""
    server_resets_in: float | None = None
    others: int = 0
    """Requests on the same key the server counted that this dashboard did not send."""

    @property
    def key_used(self) -> int:
        """How much of the key is spent as far as anyone knows: our count, or the server's when higher."""
        server = self.limit - self.server_remaining if self.server_remaining is not None else 0
        return max(self.recent, server)


def _window_words(seconds: float) -> str:
    # The window is learned from whole-second headers, so a minute may be seen as 61 or 62 seconds.
    return "last min" if 57 <= seconds <= 63 else f"last {round(seconds)}s"


def budget_gauge(budget: BudgetPicture, cells: int = 8) -> tuple[str, list[str]]:
    """(bar, words) for the budget: ``▮▯▯▯▯▯▯▯`` and the words most important first, e.g.
    ``["12/300 last min", "+40 by others", "server 248 left, resets 23s"]``.

    The bar is how much of the key is spent (ours, or the server's count when another program pushes it
    higher); the first words are our own requests in the last window, which fall when we are quiet.
    """
    if budget.limit <= 0:
        return "", ["budget ?"]
    filled = min(cells, round(cells * budget.key_used / budget.limit))
    bar = "▮" * filled + "▯" * (cells - filled)
    words = [f"{budget.recent}/{budget.limit} {_window_words(budget.window)}"]
    if budget.paused_for > 0:
        words.append(f"paused {max(1, round(budget.paused_for))}s")
    if budget.others > 0:
        words.append(f"+{budget.others} by others")
    if budget.server_remaining is not None:
        server = f"server {budget.server_remaining} left"
        if budget.server_resets_in is not None:
            server += f", resets {max(0, round(budget.server_resets_in))}s"
        words.append(server)
    if budget.processes > 1:
        words.append(f"{budget.processes} procs")
    return bar, words


class DashboardHeader(Widget):
    """One line; drops the least useful parts first when the terminal is narrow."""

    DEFAULT_CSS = """
    DashboardHeader {
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    connection: reactive[str] = reactive("connecting")
    """``connecting``, ``connected``, ``disconnected`` or ``auth failed``."""
    account: reactive[str] = reactive("")
    """Once connected: who the key belongs to, ``Maya Chen · team 7d3c9a52`` (empty when the server did not say)."""
    retry_at: reactive[float | None] = reactive(None)
    """While disconnected: when (``time.monotonic()``) the next try goes out; None when not known."""
    auth_status: reactive[int] = reactive(401)
    """The status the key was refused with: 401 (not valid) or 403 (no access)."""
    budget: reactive[BudgetPicture] = reactive(BudgetPicture)
    waiting: reactive[int] = reactive(0)
    """How many runs wait for a person."""
    read_only: reactive[bool] = reactive(False)
    """The profile may not change anything: shown as READ-ONLY."""
    profile_color: reactive[str] = reactive("")
    """The profile's colour (a Rich colour name or #rrggbb), checked by the caller; empty for none."""

    def __init__(self, profile: str, base_url: str, *, debug_log: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.profile = clean_line(profile, 30)
        self.base_url = clean_line(base_url, 60)
        self.debug_log = clean_line(debug_log or "", 200)
        """The ``--debug`` log file's path (empty without ``--debug``): the log goes there, not to the screen."""

    def on_mount(self) -> None:
        # The retry countdown moves once a second; nothing else in the header needs a clock.
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        if self.connection == "disconnected" and self.retry_at is not None:
            self.refresh()

    def _say(
        self, message: str, *, title: str = "", severity: SeverityLevel = "information", timeout: float = 4
    ) -> None:
        """A notification; ``title`` is a short phrase, what a one-line notification (80x24) shows whole."""
        self.notify(clean_line(message, 400), title=title, severity=severity, timeout=timeout, markup=False)

    def take(
        self, event: ev.BudgetChanged | ev.Connected | ev.ConnectionLost | ev.ConnectionRestored | ev.AuthFailed
    ) -> None:
        """What the service says of the budget and the connection: shown here, and said when it changes."""
        from duvo_tui.service import events as ev

        match event:
            case ev.BudgetChanged():
                self.budget = BudgetPicture(
                    used=event.used,
                    limit=event.limit,
                    resets_in=event.resets_in,
                    paused_for=event.paused_for,
                    processes=event.processes,
                    recent=event.recent,
                    window=event.window,
                    server_remaining=event.server_remaining,
                    server_resets_in=event.server_resets_in,
                    others=event.others,
                )
                if self.connection == "connecting":
                    self.connection = "connected"
            case ev.Connected():
                who = clean_line(event.name or event.email or "", 40)
                team = f"team {clean_line(event.team_id)[:8]}" if event.team_id else ""
                self.account = " · ".join(part for part in (who, team) if part)
                if self.connection != "auth failed":
                    self.retry_at = None
                    self.connection = "connected"
            case ev.ConnectionLost():
                if self.connection != "disconnected":
                    self._say(
                        f"{event.reason.rstrip('.')}. Retrying by itself.",
                        title="Cannot reach the server",
                        severity="warning",
                    )
                self.retry_at = time.monotonic() + event.retry_in if event.retry_in > 0 else None
                self.connection = "disconnected"
            case ev.ConnectionRestored():
                self.retry_at = None
                self.connection = "connected"
                self._say("Connected again")
            case ev.AuthFailed():
                self.auth_status = event.status
                self.connection = "auth failed"
                fix = (
                    "Set DUVO_API_KEY (or the profile's api_key in config.toml) to a valid key and start again. "
                    "Nothing is polled meanwhile; r tries the key again."
                    if event.status == 401
                    else "It is valid, but made by someone without access to these runs: use a key made by "
                    "someone with access (DUVO_API_KEY, or the profile's api_key in config.toml), and start again."
                )
                title = "The API key was refused" if event.status == 401 else "The API key may not read runs"
                self._say(f"{event.message.rstrip('.')}. {fix}", title=title, severity="error", timeout=20)

    def connection_words(self) -> str:
        """What the header says of the connection: one phrase, no word twice."""
        state = self.connection
        if state == "connected":
            return f"● {self.account}" if self.account else "● connected"
        if state == "disconnected":
            if self.retry_at is None:
                return "✗ unreachable · retrying"
            left = max(0, math.ceil(self.retry_at - time.monotonic()))
            return f"✗ unreachable · retry in {left}s" if left else "✗ unreachable · retrying now"
        if state == "auth failed":
            if self.auth_status == 403:
                return "✗ key may not read runs (403): use another key"
            return "✗ key refused (401): check DUVO_API_KEY"
        return "◌ connecting"

    def render(self) -> Text:
        width = self.size.width or 120
        state = self.connection
        state_style = {"connected": "bold green", "disconnected": "bold red", "auth failed": "bold red"}.get(state, "")
        parts: list[tuple[str, str]] = [
            (" duvo-tui ", "bold reverse"),
            (" " + self.profile, f"bold {self.profile_color}".strip()),
            ("  " + self.base_url, "dim"),
            ("  " + self.connection_words(), state_style),
        ]
        if self.read_only:
            parts.insert(2, (" READ-ONLY ", "bold reverse red"))
        if self.waiting:
            parts.append((f"  ◆ {self.waiting} waiting", "bold yellow"))
        debug_style = "bold yellow"
        if self.debug_log:
            parts.append((f"  debug log {self.debug_log}", debug_style))
        tails, essential = self._budget_tails()
        tail_len = sum(len(t) for t, _ in tails[0])
        # When there is not room for everything: drop the URL (for the whole gauge); then, while the gauge's
        # essential words (our count, a pause, others on the key) do not fit, show only the debug log's file
        # name, drop the profile name, show only that a debug log is written. The gauge shows what fits.
        name = self.debug_log.rsplit("/", 1)[-1]
        shrink = [(3 if self.read_only else 2, ("", ""))]
        whole_gauge = 1  # the first steps give way to the whole gauge; the others only to its essential words
        if self.connection == "connected" and " · team " in self.account:
            whole_gauge = 2
            # Then the team gives way: the person's name says enough that the key works.
            short = "● " + self.account.split(" · team ")[0]
            shrink.append((4 if self.read_only else 3, ("  " + short, state_style)))
        if self.debug_log:
            shrink.append((len(parts) - 1, (f"  debug log …/{name}", debug_style)))
        shrink.append((1, ("", "")))
        if self.debug_log:
            shrink.append((len(parts) - 1, ("  DEBUG", debug_style)))
        for step, (index, replacement) in enumerate(shrink):
            # The URL gives way to the whole gauge; the rest only to its essential words.
            wanted = tail_len if step < whole_gauge else sum(len(t) for t, _ in tails[essential])
            if sum(len(t) for t, _ in parts) + wanted <= width:
                break
            parts[index] = replacement
        for tail in tails:
            tail_len = sum(len(t) for t, _ in tail)
            if sum(len(t) for t, _ in parts) + tail_len <= width:
                break
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        for part, style in parts:
            text.append(part, style)
        gap = max(1, width - text.cell_len - tail_len)
        text.append(" " * gap)
        for part, style in tail:
            text.append(part, style)
        return text

    def _budget_tails(self) -> tuple[list[list[tuple[str, str]]], int]:
        """The gauge from fullest to shortest (all its words with label and bar, then fewer words, then the
        bare count), and the index of the shortest that still has the essential words (count, pause, others)."""
        budget = self.budget
        bar, words = budget_gauge(budget)
        if not bar:  # no limit known yet: one short phrase, not "budget" twice
            return [[(" budget ? ", "dim")]], 0
        ratio = budget.key_used / budget.limit if budget.limit else 0.0
        bar_style = "red" if ratio > 0.9 else ("yellow" if ratio > 0.7 else "green")
        styles = {"paused": "bold red", "+": "bold yellow"}

        def styled(word: str) -> tuple[str, str]:
            return word, next((style for start, style in styles.items() if word.startswith(start)), "")

        tails: list[list[tuple[str, str]]] = []
        for keep in range(len(words), 0, -1):
            shown: list[tuple[str, str]] = [(" ", "")]
            for index, word in enumerate(words[:keep]):
                shown += [(" · ", "dim")] if index else []
                shown.append(styled(word))
            shown.append((" ", ""))
            tails.append([(" budget ", "dim"), (bar, bar_style), *shown])
        count = words[0].split(" ")[0]
        tails.append([(" " + count + " ", "")])
        essential_words = 1 + (budget.paused_for > 0) + (budget.others > 0)
        return tails, len(words) - essential_words
