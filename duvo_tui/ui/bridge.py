"""Service events as Textual messages.

The service calls its subscribers on the asyncio loop it was started on; the app starts it on its own loop,
so the callback only posts a message (never touches widgets). Bursts of replaceable events collapse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from duvo_tui.service.events import Event

__all__ = ["ServiceEvent"]


class ServiceEvent(Message):
    """One service event, delivered to the app."""

    def __init__(self, service_event: Event) -> None:
        super().__init__()
        self.service_event = service_event

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ServiceEvent) and self.service_event.can_replace(message.service_event)
