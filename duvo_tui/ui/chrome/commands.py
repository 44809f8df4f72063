"""What the help screen lists and what the command palette offers: every binding, every action."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from textual.binding import Binding, BindingType

from duvo_tui.ui.dashboard_screen import DashboardScreen
from duvo_tui.ui.runs.run_list import RunList
from duvo_tui.ui.runs.runs_pane import RunsPane
from duvo_tui.ui.sandbox.sandbox_tree import SandboxTree
from duvo_tui.ui.stream.message_stream import MessageStream
from duvo_tui.ui.stream.messages_pane import MessagesPane

__all__ = ["help_sections", "palette_commands"]


def help_sections(app_bindings: Sequence[BindingType]) -> list[tuple[str, list[BindingType]]]:
    """(title, bindings) for the help screen, taken from the classes that define them (the app's are given)."""
    return [
        ("Everywhere", [*app_bindings, *DashboardScreen.BINDINGS]),
        ("Runs pane", [*RunsPane.BINDINGS, *RunList.BINDINGS]),
        ("Messages pane", [*MessagesPane.BINDINGS, *MessageStream.BINDINGS]),
        ("Sandbox pane", [*SandboxTree.BINDINGS, Binding("enter,space", "", "Expand or collapse a folder")]),
        ("Request pane", request_bindings()),
        (
            "Other",
            [
                Binding("ctrl+p", "", "Command palette: every action, and themes"),
                Binding("escape", "", "Close a dialog or a search line"),
            ],
        ),
    ]


def request_bindings() -> list[BindingType]:
    """The request pane's keys: the form's bindings (with ids) and the keys its option lists handle."""
    from duvo_tui.ui.hitl.hitl_form import HumanRequestForm

    return [
        *HumanRequestForm.BINDINGS,
        Binding("y", "", "Confirm an approval or denial (any other key cancels)"),
        Binding("1-9", "", "Pick an option (a multi-select toggles it); the last number is Other"),
        Binding("up,down,k,j", "", "Move between options"),
        Binding("space", "", "Pick or toggle the highlighted option"),
        Binding("enter", "", "Pick and go on to the next question; on the last one, send"),
        Binding("escape", "", "Leave the questions (the draft stays): pane keys work again"),
    ]


def palette_commands(screen: DashboardScreen, show_help: Callable[[], Any]) -> list[tuple[str, str, Callable[[], Any]]]:
    """(title, help, callback) of every dashboard action, for the command palette."""
    stream = screen.query_one(MessageStream)
    pane = screen.query_one(MessagesPane)
    runs_pane = screen.query_one(RunsPane)
    start: Callable[[], Any] = runs_pane.start_run
    tree = screen.query_one(SandboxTree)
    commands: list[tuple[str, str, Callable[[], Any]]] = [
        ("Start a run", "Start a run of an agent (s)", start),
        ("Stop the selected run", "Ask the selected run to stop (x)", runs_pane.stop_selected),
        ("Add a run by id", "Track a run started elsewhere (a)", runs_pane.add_run),
        ("Next waiting run", "Jump to the next run waiting for a person (n)", screen.next_waiting),
        ("Filter runs", "Show only runs containing some text (/ in the runs pane)", runs_pane.action_filter),
        ("Sort runs", "Change the order of the runs (o)", screen.query_one(RunList).action_cycle_sort),
        ("Search messages", "Find text in this run's messages (/ in the messages pane)", pane.action_search),
        ("Post a message", "Write to the selected run (i)", pane.action_compose),
        ("Save transcript", "Save this run's messages to a file (ctrl+s)", pane.action_save),
        ("Copy message", "Copy the selected message (y)", stream.action_copy),
        ("Toggle follow", "Keep the newest message in view (f)", stream.action_toggle_follow),
        ("Toggle timestamps", "Show message times (t)", stream.action_toggle_timestamps),
        ("Toggle wrap", "Wrap long lines (w)", stream.action_toggle_wrap),
        (
            "Refresh sandbox",
            "List the sandbox again (r in the sandbox pane)",
            screen.query_one(SandboxTree).action_reload,
        ),
        (
            "Choose a sandbox",
            "Show a sandbox by id; nothing typed: the selected run's (c in the sandbox pane)",
            tree.action_choose,
        ),
        ("New sandbox", "Make a sandbox and show it (+ in the sandbox pane)", tree.action_create),
        ("Help", "List every key (?)", show_help),
        ("Inbox", "Every request waiting for a person (N)", screen.open_inbox),
    ]
    for number, name in enumerate(("runs", "messages", "sandbox", "human request"), 1):
        commands.append(
            (
                f"Show the {name} pane",
                f"Move to pane {number} ({number})",
                functools.partial(screen.action_show_pane, number - 1),
            )
        )
    return commands
