"""How often runs are polled: the intervals a person sets (``[poll]`` in ``config.toml``), defined once.

The config reads and writes them, the scheduler plans with them; nothing renames them on the way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["PollSettings"]

FASTEST = 0.2
"""Seconds: no run is polled more often than this, whatever a config says."""


@dataclass
class PollSettings:
    """How often runs are polled (seconds). The service adapts between ``min_interval`` and ``max_interval``."""

    interval: float = 2.0
    """Seconds between polls of an active run."""
    min_interval: float = 1.0
    """Never poll one run more often than this, even when it is focused."""
    max_interval: float = 30.0
    """Quiet and finished runs are polled at most this rarely."""
    sweep_interval: float = 2.0
    """Seconds between two listing requests while a run moves, something changed lately or you press keys."""
    idle_sweep_interval: float = 12.0
    """Seconds between two listing requests once nothing has moved, changed or been pressed for ``quiet_after``."""
    quiet_after: float = 20.0
    """Seconds of quiet before the listing is swept at ``idle_sweep_interval``."""
    idle_interval: float = 60.0
    """A run at rest (finished, or waiting for a person) is looked at by itself this often, even the one in view."""

    def ordered(self) -> PollSettings:
        """These intervals with each bound kept: ``min_interval`` at least :data:`FASTEST`, then
        ``min_interval <= interval <= max_interval <= idle_interval`` and ``sweep_interval <= idle_sweep_interval``
        (a value below its bound is raised to it)."""
        fastest = max(FASTEST, self.min_interval)
        active = max(fastest, self.interval)
        slowest = max(active, self.max_interval)
        return replace(
            self,
            min_interval=fastest,
            interval=active,
            max_interval=slowest,
            idle_interval=max(slowest, self.idle_interval),
            idle_sweep_interval=max(self.sweep_interval, self.idle_sweep_interval),
        )
