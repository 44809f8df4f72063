"""The dashboard's top line: profile, base URL, connection state and the rate-budget gauge."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from duvo_tui.text import clean_line

__all__ = ["BudgetPicture", "DashboardHeader", "budget_gauge"]


@dataclass(frozen=True)
class BudgetPicture:
    """What the gauge shows."""

    used: int = 0
    limit: int = 0
    resets_in: float = 0.0
    paused_for: float = 0.0
    processes: int = 1


def budget_gauge(budget: BudgetPicture, cells: int = 8) -> tuple[str, str]:
    """(bar, words) for the budget: ``▮▮▮▯▯▯▯▯`` and ``45/300 · resets 23s``."""
    if budget.limit <= 0:
        return "", "budget ?"
    filled = min(cells, round(cells * budget.used / budget.limit))
    bar = "▮" * filled + "▯" * (cells - filled)
    words = f"{budget.used}/{budget.limit} · resets {max(0, round(budget.resets_in))}s"
    if budget.paused_for > 0:
        words += f" · paused {round(budget.paused_for)}s"
    if budget.processes > 1:
        words += f" · {budget.processes} procs"
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

    def render(self) -> Text:
        width = self.size.width or 120
        state = self.connection
        symbol = {"connected": "●", "connecting": "◌", "disconnected": "✗", "auth failed": "✗"}.get(state, "?")
        state_style = {"connected": "bold green", "disconnected": "bold red", "auth failed": "bold red"}.get(state, "")
        bar, words = budget_gauge(self.budget)
        budget_ratio = self.budget.used / self.budget.limit if self.budget.limit else 0.0
        bar_style = "red" if budget_ratio > 0.9 else ("yellow" if budget_ratio > 0.7 else "green")
        parts: list[tuple[str, str]] = [
            (" duvo-tui ", "bold reverse"),
            (" " + self.profile, f"bold {self.profile_color}".strip()),
            ("  " + self.base_url, "dim"),
            (f"  {symbol} {state}", state_style),
        ]
        if self.read_only:
            parts.insert(2, (" READ-ONLY ", "bold reverse red"))
        if self.waiting:
            parts.append((f"  ◆ {self.waiting} waiting", "bold yellow"))
        debug_style = "bold yellow"
        if self.debug_log:
            parts.append((f"  debug log {self.debug_log}", debug_style))
        tail = [(" budget ", "dim"), (bar, bar_style), (" " + words + " ", "")]
        tail_len = sum(len(t) for t, _ in tail)
        # When there is not room for everything: drop the URL, show only the debug log's file name, drop the
        # profile name, then show only that a debug log is written.
        name = self.debug_log.rsplit("/", 1)[-1]
        shrink = [(3 if self.read_only else 2, ("", ""))]
        if self.debug_log:
            shrink.append((len(parts) - 1, (f"  debug log …/{name}", debug_style)))
        shrink.append((1, ("", "")))
        if self.debug_log:
            shrink.append((len(parts) - 1, ("  DEBUG", debug_style)))
        for index, replacement in shrink:
            if sum(len(t) for t, _ in parts) + tail_len <= width:
                break
            parts[index] = replacement
        if sum(len(t) for t, _ in parts) + tail_len > width:
            tail = [(" " + words.split(" · ")[0] + " ", "")]
            tail_len = sum(len(t) for t, _ in tail)
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        for part, style in parts:
            text.append(part, style)
        gap = max(1, width - text.cell_len - tail_len)
        text.append(" " * gap)
        for part, style in tail:
            text.append(part, style)
        return text
