"""The service layer: background loops and local state between the API and the screens."""

from __future__ import annotations

from typing import Any

__all__ = ["DuvoService", "ServiceSettings", "TrackedRun"]


def __getattr__(name: str) -> Any:
    # Loaded on first use, so that importing service.events (the UI does) stays cheap.
    if name in ("DuvoService", "ServiceSettings"):
        from duvo_tui.service import service

        return getattr(service, name)
    if name == "TrackedRun":
        from duvo_tui.service.store import TrackedRun

        return TrackedRun
    raise AttributeError(name)
