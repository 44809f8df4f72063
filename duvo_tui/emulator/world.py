"""The emulator's world: its state with the scenarios' agents, and the faults a test can cause from any thread.

:class:`EmulatorState` is the data the routes and the run driver share; this subclass sits above both, so the
state itself never reaches up into the driver or the scenarios.
"""

from __future__ import annotations

from duvo_tui.emulator.run_driver import answer_request, delete_run, interrupt_run
from duvo_tui.emulator.scenarios import build_agents
from duvo_tui.emulator.state import EmulatorOptions, EmulatorState

__all__ = ["World"]


class World(EmulatorState):
    """The state of a serving emulator: the scenario agents, plus faults on demand (callable from any thread)."""

    def __init__(self, options: EmulatorOptions | None = None) -> None:
        super().__init__(options, agents=build_agents())

    def interrupt(self, run_id: str) -> None:
        """Interrupt a run as the platform would (status ``interrupted``)."""
        self.call(interrupt_run, self, run_id)

    def complete_login(self, run_id: str) -> None:
        """Sign in for a run's pending login request, as a person would in the web app."""

        def sign_in() -> None:
            run = self.runs[run_id]
            if run.pending is not None and run.pending.type == "login":
                answer_request(self, run, run.pending, True, "signed in from the web app")

        self.call(sign_in)

    def delete_run(self, run_id: str) -> None:
        """Make a run vanish: ``GET /v1/runs/{id}`` then answers ``{"run": null}``."""
        self.call(delete_run, self, run_id)
