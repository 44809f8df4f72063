"""Announcing a new request: toast, bell and desktop-notification escapes, as configured."""

from __future__ import annotations

import pytest

from duvo_tui.ui.chrome.notify import Notifier, NotifySettings, desktop_sequence, detect_desktop_protocol


class FakeApp:
    """Records what a notifier asks of the app (no terminal)."""

    is_headless = False

    def __init__(self) -> None:
        self.toasts: list[dict] = []
        self.notifications: list = []
        self.written: list[str] = []
        self._driver = self

    def post_message(self, message) -> None:
        notification = message.notification
        self.toasts.append(
            {"message": notification.message, "title": notification.title, "markup": notification.markup}
        )
        self.notifications.append(notification)

    def write(self, data: str) -> None:
        self.written.append(data)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TERM_PROGRAM": "iTerm.app"}, "osc9"),
        ({"TERM_PROGRAM": "WezTerm"}, "osc9"),
        ({"TERM": "xterm-kitty"}, "osc9"),
        ({"WT_SESSION": "abc"}, "osc9"),
        ({"VTE_VERSION": "7600", "TERM": "xterm-256color"}, "osc777"),
        ({"TERM": "foot"}, "osc777"),
        ({"TERM": "xterm-256color", "SSH_CONNECTION": "1.2.3.4 5 6.7.8.9 22"}, None),
        ({}, None),
    ],
)
def test_desktop_protocol_is_only_used_for_recognised_terminals(env, expected):
    assert detect_desktop_protocol(env) == expected


def test_settings_from_the_environment():
    assert NotifySettings.from_env({}).bell is True
    assert NotifySettings.from_env({}).desktop == "auto"
    off = NotifySettings.from_env({"DUVO_TUI_BELL": "0", "DUVO_TUI_DESKTOP_NOTIFY": "off"})
    assert (off.bell, off.desktop) == (False, "off")
    assert NotifySettings.from_env({"DUVO_TUI_DESKTOP_NOTIFY": "osc777"}).desktop == "osc777"
    assert NotifySettings.from_env({"DUVO_TUI_DESKTOP_NOTIFY": "rm -rf"}).desktop == "auto"


def test_server_text_cannot_escape_the_notification_sequence():
    title = "Pay\x1b]52;c;aGk=\x07 now; \x9c\x1b\\ [b]x[/b]"
    sequence = desktop_sequence("osc777", "duvo-tui: Agent;x", title)
    body = sequence[len("\x1b]777;notify;") : -2]
    assert sequence.endswith("\x1b\\") and "\x1b" not in body and "\x07" not in body and "\x9c" not in body
    assert body.count(";") == 1  # only the separator between title and body
    assert "[b]x[/b]" in body
    osc9 = desktop_sequence("osc9", "t", "b")
    assert osc9 == "\x1b]9;t: b\x1b\\"
    with pytest.raises(ValueError):
        desktop_sequence("osc1337", "t", "b")


def test_announce_uses_toast_bell_and_escape_as_configured():
    app = FakeApp()
    notifier = Notifier(NotifySettings(bell=True, desktop="auto"), env={"TERM_PROGRAM": "ghostty"})
    notifier.announce(app, "Invoice [@click=app.quit]Approver[/]", "Approve €5?")
    assert app.toasts[0]["markup"] is False
    assert "Invoice [@click=app.quit]Approver[/] asks: Approve €5?" in app.toasts[0]["message"]
    assert app.written[0] == "\a" and app.written[1].startswith("\x1b]9;duvo-tui: Invoice")

    quiet = FakeApp()
    Notifier(NotifySettings(bell=False, desktop="auto"), env={"SSH_TTY": "/dev/pts/1"}).announce(quiet, "A", "T")
    assert quiet.written == [] and len(quiet.toasts) == 1

    forced = FakeApp()
    Notifier(NotifySettings(bell=False, desktop="osc777"), env={}).announce(forced, "A", "T")
    assert forced.written == ["\x1b]777;notify;duvo-tui: A;T\x1b\\"]


def test_a_request_arriving_while_the_last_announcement_shows_replaces_it_with_one_naming_both():
    app = FakeApp()
    notifier = Notifier(NotifySettings(bell=False, desktop="off"), env={})
    notifier.announce(app, "reports", "A few questions")
    notifier.announce(app, "invoices", "Approve €5?")
    first, second = app.notifications
    assert first.has_expired and not second.has_expired  # the first leaves the screen as the second arrives
    assert second.title == "2 runs wait for you"
    assert second.message.splitlines()[:2] == ["reports asks: A few questions", "invoices asks: Approve €5?"]
    assert first.title != second.title  # never the same text twice

    for n in range(3):
        notifier.announce(app, f"run{n}", "T")
    last = app.notifications[-1]
    assert last.title == "5 runs wait for you" and last.message.startswith("… and 2 more")
    assert sum(not n.has_expired for n in app.notifications) == 1


def test_an_announcement_after_the_last_one_went_starts_afresh():
    app = FakeApp()
    notifier = Notifier(NotifySettings(bell=False, desktop="off"), env={})
    notifier.announce(app, "reports", "A few questions")
    app.notifications[0].timeout = 0  # it has left the screen
    notifier.announce(app, "invoices", "Approve €5?")
    assert app.notifications[1].title == "A run waits for you"
    assert app.notifications[1].message == "invoices asks: Approve €5?  (n: answer it)"
