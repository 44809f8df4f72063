"""``running_emulator()``: the emulator on a free loopback port for tests, the demo and benchmarks.

with running_emulator(speed=50, rate_limit=1000) as emu:
    client = DuvoClient(emu.base_url, emu.api_key)
    run = await client.start_run(emu.agents["approval"])
    emu.state.fail_next(2, status=502)      # the next two API requests fail
    emu.restart()                            # same port, runs keep going
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from duvo_tui.emulator.state import EmulatorOptions
from duvo_tui.emulator.world import World

__all__ = ["EmulatorHandle", "running_emulator"]


@dataclass
class EmulatorHandle:
    """A running emulator."""

    base_url: str
    api_key: str
    team_id: str
    agents: dict[str, str]
    """Scenario key (approval, questions, fails, chatty, quick) -> agent uuid."""
    state: World
    _server: Any

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def api_keys(self) -> list[str]:
        return list(self.state.options.api_keys)

    def team_of(self, api_key: str) -> str:
        return self.state.key_teams[api_key]

    def stop(self) -> None:
        """Stop serving (the port closes; runs keep their state until the context ends)."""
        self._server.stop_serving()

    def restart(self) -> None:
        """Serve again on the same port (after ``stop()`` or while running)."""
        self._server.restart()


@contextlib.contextmanager
def running_emulator(host: str = "127.0.0.1", port: int = 0, **options: Any) -> Iterator[EmulatorHandle]:
    """Serve the emulator in a background thread; options are :class:`EmulatorOptions` fields."""
    from duvo_tui.emulator.server import BackgroundServer

    state = World(EmulatorOptions(**options))
    server = BackgroundServer(state, host=host, port=port)
    server.start()
    try:
        yield EmulatorHandle(
            base_url=server.base_url,
            api_key=state.options.api_keys[0],
            team_id=state.key_teams[state.options.api_keys[0]],
            agents=state.scenario_agents(),
            state=state,
            _server=server,
        )
    finally:
        server.close()
