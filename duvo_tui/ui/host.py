"""What the panes ask of the app they live in: the service, the profile, a clock and a voice.

The dashboard app implements :class:`Host`; the screen hands it to each pane when it composes them, so no pane
module refers back to the app's class (and a test can give a pane any object with these few members).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from duvo_tui.config import Profile
    from duvo_tui.service.facade import DashboardService

__all__ = ["Host", "profile_name"]


class Host(Protocol):
    """The dashboard app as its panes see it."""

    @property
    def service(self) -> DashboardService:
        """The one facade below the screen (it exists before any pane is asked to act)."""
        ...

    @property
    def profile(self) -> Profile | None: ...

    @property
    def read_only(self) -> bool:
        """The profile (or the service's key) may not change anything."""
        ...

    @property
    def clock(self) -> Callable[[], datetime]:
        """"Now" for ages and the inbox (tests freeze it)."""
        ...

    def say(
        self, message: str, *, title: str = "", severity: SeverityLevel = "information", timeout: float = 4
    ) -> None:
        """A notification whose text is shown literally. ``title``: a short phrase, all a one-line notification
        (80x24) shows, read whole there; ``message`` holds the details, shown below it where there is room. A
        message that fits one line needs no title."""
        ...

    def refuse_if_read_only(self, what: str) -> bool:
        """True (and said why) when the profile is read-only: ``what`` is not done."""
        ...

    def show_waiting(self, count: int) -> None:
        """``count`` runs wait for a person now: the window title and the keys on offer follow."""
        ...


def profile_name(profile: Profile | None) -> str:
    """The profile's name, ``default`` without one."""
    return (profile.name if profile is not None else "") or "default"
