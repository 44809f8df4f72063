"""The emulator's in-memory world: options, keys and teams, agents, runs, human requests, sandboxes.

Everything here belongs to the server's event loop, except the fault controls
(``inject_rate_limit``, ``fail_next``, ``forbid``), which tests call from their own thread.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import random
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_TEAM_ID",
    "DEFAULT_WEBHOOK_SECRET",
    "Agent",
    "EmulatorOptions",
    "EmulatorState",
    "HumanRequestRecord",
    "RunRecord",
    "SandboxRecord",
    "User",
    "iso",
]

DEFAULT_API_KEY = "dv_demo_4f7c2a9e1b8d6035c7e2a91f4b"
"""The key printed when none is given (35 characters, like a real one)."""

DEFAULT_TEAM_ID = "7d3c9a52-1f0e-4b6a-9c84-2e5d1a0b7f31"
DEFAULT_WEBHOOK_SECRET = "whsec_duvo_emulator_demo"
_NAMESPACE = uuid.UUID("0b6a4d0e-6c1e-4f57-9a43-3f0c5d6e8a21")
_REQUEST_LOG = 200_000
"""The most API requests remembered by :meth:`EmulatorState.requests_between` (the oldest are forgotten)."""


def iso(ts: float | None) -> str | None:
    """An ISO 8601 UTC timestamp with milliseconds and a ``Z``, or None."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class EmulatorOptions:
    """How the emulator behaves; mirrors the ``duvo-tui emulator`` options."""

    api_keys: list[str] = field(default_factory=lambda: [DEFAULT_API_KEY])
    admin_keys: list[str] = field(default_factory=list)
    """Keys of a superadmin in the first team: ``GET /v1/runs`` lists every run, and every run is theirs to read."""
    team_id: str = DEFAULT_TEAM_ID
    seed: int = 0
    speed: float = 1.0
    rate_limit: int = 300
    rate_window: float = 60.0
    fault_rate: float = 0.0
    latency_ms: int = 0
    webhook_secret: str = DEFAULT_WEBHOOK_SECRET
    webhook_backoff: float = 0.5
    """Seconds before the first webhook retry; doubles each time (5 attempts)."""
    upload_url_ttl: float = 900.0
    sandbox_ttl: float = 24 * 3600.0
    max_direct_upload: int = 10 * 1024 * 1024
    chatty_messages: int = 3200
    login_wait: float = 60.0
    """Scenario seconds before a login request counts as signed in from the web app."""
    data_dir: Path | None = None
    """Where sandbox files live; a fresh temporary directory when None (removed on close)."""


@dataclass(frozen=True)
class Agent:
    """A scripted agent (an Assignment): a fixed uuid, a readable name and the scenario it plays.

    ``key`` names it in tests and ``duvo-tui emulator --print-agents``; two agents may play one scenario.
    """

    id: str
    name: str
    scenario: str
    build_id: str
    human_in_the_loop: bool
    key: str = ""
    folder: str | None = None
    pinned: bool = False


@dataclass(frozen=True)
class User:
    """The person an API key belongs to: the runs it starts are theirs, and ``/v1/runs`` lists only those."""

    id: str
    name: str
    email: str
    team_id: str
    admin: bool = False

    def profile_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "email": self.email, "teamId": self.team_id}


_PEOPLE = ("Maya Chen", "Tomás Rivera", "Priya Nair", "Jonas Berg", "Amara Okafor", "Lena Fischer")


def _person(index: int, key: str, team_id: str, admin: bool = False) -> User:
    name = "Sam Admin" if admin else _PEOPLE[index % len(_PEOPLE)]
    if not admin and index >= len(_PEOPLE):
        name = f"{name} {index // len(_PEOPLE) + 1}"
    local = ".".join(name.lower().replace("á", "a").split())
    return User(
        id=str(uuid.uuid5(_NAMESPACE, f"user-{key}")),
        name=name,
        email=f"{local}@northwind.example",
        team_id=team_id,
        admin=admin,
    )


@dataclass
class HumanRequestRecord:
    """A request a run is waiting on (or was)."""

    id: str
    run_id: str
    type: str
    title: str
    description: str | None
    created_at: float
    questions: list[dict[str, Any]] | None = None
    response: str | None = None
    responded_at: float | None = None
    answer: asyncio.Future | None = None

    def pending_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "created_at": iso(self.created_at),
            "type": self.type,
        }
        if self.questions is not None:
            body["questions"] = self.questions
        return body

    def result_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "run_id": self.run_id,
            "title": self.title,
            "description": self.description,
            "response": self.response,
            "responded_at": iso(self.responded_at),
            "created_at": iso(self.created_at),
        }


@dataclass
class RunRecord:
    """One run and everything it has said."""

    id: str
    agent: Agent
    team_id: str
    run_number: int
    title: str
    status: str
    created_at: float
    updated_at: float
    user_id: str | None = None
    source: str = "api"
    sandbox_id: str | None = None
    webhook_url: str | None = None
    initial_message: str | None = None
    started_at: float | None = None
    completed_at: float | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    pending: HumanRequestRecord | None = None
    requests: dict[str, HumanRequestRecord] = field(default_factory=dict)
    task: asyncio.Task | None = None
    deleted: bool = False

    def run_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "agent_id": self.agent.id,
            "build_id": self.agent.build_id,
            "status": self.status,
            "source": self.source,
            "sandbox_id": self.sandbox_id,
            "started_at": iso(self.started_at),
            "completed_at": iso(self.completed_at),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "human_in_the_loop_enabled": self.agent.human_in_the_loop,
        }

    def team_row_json(self) -> dict[str, Any]:
        # The v2 listing's status enum has no "stopped"/"needs_attention": a stopped run is listed as interrupted.
        status = {"stopped": "interrupted", "needs_attention": "running"}.get(self.status, self.status)
        return {
            "id": self.id,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "started_at": iso(self.started_at),
            "completed_at": iso(self.completed_at),
            "status": status,
            "source": self.source,
            "title": self.title,
            "run_number": self.run_number,
            "agent_id": self.agent.id,
            "agent_name": self.agent.name,
            "build_id": self.agent.build_id,
            "user_id": self.user_id,
            "case_queue_item_id": None,
            "case_queue_id": None,
            "case_queue_name": None,
            "case_title": None,
            "postponed_to": None,
            "submitted_prompt_count": sum(1 for m in self.messages if m["role"] == "user"),
        }


@dataclass
class SandboxRecord:
    """A sandbox: its files live under ``root`` (which stands for ``/workspace``)."""

    id: str
    team_id: str
    root: Path
    created_at: float
    expires_at: float

    def expired(self, now: float | None = None) -> bool:
        return (now if now is not None else time.time()) >= self.expires_at


class EmulatorState:
    """All the emulator knows. One per server; survives ``restart()``."""

    def __init__(self, options: EmulatorOptions | None = None, agents: Iterable[Agent] = ()) -> None:
        self.options = options or EmulatorOptions()
        if not self.options.api_keys:
            self.options.api_keys = [DEFAULT_API_KEY]
        # The first key belongs to team_id; every further key to a team of its own (so 403 can be seen).
        # Each key is one person's; admin keys are superadmins of the first team.
        self.key_teams: dict[str, str] = {}
        self.key_users: dict[str, User] = {}
        for index, key in enumerate(self.options.api_keys):
            team = self.options.team_id if index == 0 else str(uuid.uuid5(_NAMESPACE, f"team-{index}-{key}"))
            self.key_teams[key] = team
            self.key_users[key] = _person(index, key, team)
        for key in self.options.admin_keys:
            if key not in self.key_users:
                self.key_teams[key] = self.options.team_id
                self.key_users[key] = _person(0, key, self.options.team_id, admin=True)
        self.agents: dict[str, Agent] = {a.id: a for a in agents}
        self.runs: dict[str, RunRecord] = {}
        self.sandboxes: dict[str, SandboxRecord] = {}
        self.idempotency: dict[tuple[str, str, str, str], Any] = {}
        self.webhook_deliveries: list[dict[str, Any]] = []
        self._own_dir = self.options.data_dir is None
        self.data_dir = Path(self.options.data_dir or tempfile.mkdtemp(prefix="duvo-emulator-"))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.signing_key = random.Random(f"sign:{self.options.seed}").randbytes(32) + uuid.uuid4().bytes
        self.fault_rng = random.Random(f"faults:{self.options.seed}")
        self._run_numbers = itertools.count(1)
        self._agent_counts: dict[str, int] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.background: set[asyncio.Task] = set()
        self._lock = threading.Lock()
        self._rate_limited_until = 0.0
        self._fail_next: list[int] = []
        self._forbidden: set[str] = set()
        self._limit_next: list[float] = []
        self._requests: collections.deque[tuple[float, str, str]] = collections.deque(maxlen=_REQUEST_LOG)

    # --- lookups ---------------------------------------------------------------------------
    @property
    def teams(self) -> set[str]:
        return set(self.key_teams.values())

    def agent_by_scenario(self, scenario: str) -> Agent:
        return next(a for a in self.agents.values() if a.scenario == scenario)

    def scenario_agents(self) -> dict[str, str]:
        """Agent key (the scenario's name, or e.g. ``approval_legacy``) -> agent uuid."""
        return {a.key or a.scenario: a.id for a in self.agents.values()}

    def agent_by_key(self, key: str) -> Agent:
        return next(a for a in self.agents.values() if (a.key or a.scenario) == key)

    def new_run(
        self,
        agent: Agent,
        team_id: str,
        *,
        user_id: str | None = None,
        title: str = "",
        status: str = "pending",
        created_at: float | None = None,
        **details: Any,
    ) -> tuple[RunRecord, int]:
        """A new run of ``agent``, numbered and kept (its script is the caller's to start): the run, and its number
        among the agent's own runs (for seeding). ``details`` are further :class:`RunRecord` fields."""
        number, nth = self.next_run_number(agent)
        now = time.time() if created_at is None else created_at
        run = RunRecord(
            id=str(uuid.uuid4()),
            agent=agent,
            team_id=team_id,
            run_number=number,
            title=title or f"{agent.name} #{number}",
            status=status,
            created_at=now,
            updated_at=now,
            user_id=user_id,
            **details,
        )
        self.runs[run.id] = run
        return run, nth

    def next_run_number(self, agent: Agent) -> tuple[int, int]:
        """The team-wide run number and this agent's own count (for seeding)."""
        count = self._agent_counts.get(agent.id, 0) + 1
        self._agent_counts[agent.id] = count
        return next(self._run_numbers), count

    # --- fault controls (safe to call from any thread) ---------------------------------------
    def inject_rate_limit(self, retry_after: float = 2.0) -> None:
        """Answer every API request with 429 for the next ``retry_after`` seconds."""
        with self._lock:
            self._rate_limited_until = time.time() + retry_after

    def rate_limited_for(self) -> float:
        """Seconds left of an injected 429 period (0 when none)."""
        return max(0.0, self._rate_limited_until - time.time())

    def limit_next(self, n: int = 1, retry_after: float = 1.0) -> None:
        """Answer the next ``n`` API requests with 429 and ``retry_after`` (however late they arrive)."""
        with self._lock:
            self._limit_next.extend([retry_after] * n)

    def take_forced_limit(self) -> float:
        """The retry-after of the next 429 asked for by :meth:`limit_next` (0 when none)."""
        with self._lock:
            return self._limit_next.pop(0) if self._limit_next else 0.0

    def fail_next(self, n: int = 1, status: int = 502) -> None:
        """Answer the next ``n`` API requests with ``status`` (a transient server error)."""
        with self._lock:
            self._fail_next.extend([status] * n)

    def take_forced_failure(self) -> int | None:
        with self._lock:
            return self._fail_next.pop(0) if self._fail_next else None

    def forbid(self, *paths: str) -> None:
        """Answer every request to each of ``paths`` (exact paths, such as ``/v1/profile``) with 403
        ``insufficient_scope``, as for a key created by someone without that permission."""
        with self._lock:
            self._forbidden.update(paths)

    def is_forbidden(self, path: str) -> bool:
        with self._lock:
            return path in self._forbidden

    def clear_faults(self) -> None:
        with self._lock:
            self._forbidden.clear()
            self._fail_next.clear()
            self._limit_next.clear()
            self._rate_limited_until = 0.0

    # --- the request log (safe to call from any thread) ----------------------------------------
    def count_request(self, method: str, path: str, now: float | None = None) -> None:
        """Remember one API request (every one that reaches the rate limit, refused or not)."""
        with self._lock:
            self._requests.append((time.time() if now is None else now, method, path))

    def requests_between(self, since: float, until: float | None = None) -> list[tuple[float, str, str]]:
        """The API requests received between two wall-clock times: ``(time, method, path)``, oldest first."""
        end = time.time() if until is None else until
        with self._lock:
            return [entry for entry in self._requests if since <= entry[0] <= end]

    # --- thread bridge -----------------------------------------------------------------------
    def call(self, fn: Any, *args: Any, timeout: float = 10.0) -> Any:
        """Run ``fn(*args)`` (sync or async) on the server's loop from another thread; return its result."""
        if self.loop is None:
            raise RuntimeError("the emulator is not running")

        async def invoke() -> Any:
            result = fn(*args)
            if asyncio.iscoroutine(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(invoke(), self.loop).result(timeout)

    def spawn(self, coro: Any) -> asyncio.Task:
        """Start a background task on the running loop and keep a reference until it ends."""
        task = asyncio.get_running_loop().create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    async def shutdown(self) -> None:
        """Cancel every run task and pending delivery."""
        tasks = [t for t in self.background if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def remove_files(self) -> None:
        """Delete the sandbox files (only when the directory was created by this state)."""
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
