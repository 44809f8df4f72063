"""Shared pieces of the client tests (no tests here): a recording mock server and a fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from duvo_tui.api.budget import RateBudget
from duvo_tui.api.client import DuvoClient

API_KEY = "dv_Secret7Key0123456789abcdefghijklm"
BASE_URL = "https://api.example.test"


class FakeTime:
    """A clock that moves only when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def wall(self) -> float:
        return 1_800_000_000.0 + (self.now - 1000.0)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


@dataclass
class Recorder:
    """Answers requests from a list of responses (the last one repeats) and keeps every request."""

    responses: list[httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]]
    requests: list[httpx.Request] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    clock: FakeTime | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.bodies.append(request.read())
        if self.clock is not None:
            self.times.append(self.clock())
        answer = self.responses[min(len(self.requests) - 1, len(self.responses) - 1)]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer) and not isinstance(answer, httpx.Response):
            return answer(request)
        return answer

    @property
    def idempotency_keys(self) -> list[str | None]:
        return [r.headers.get("idempotency-key") for r in self.requests]


def make_client(recorder: Recorder, clock: FakeTime | None = None, **options) -> DuvoClient:
    """A client on ``recorder`` whose budget and backoff run on a fake clock (no real waiting)."""
    clock = clock or recorder.clock or FakeTime()
    recorder.clock = clock
    budget = RateBudget(clock=clock, wall_clock=clock.wall, sleep=clock.sleep)
    options.setdefault("sleep", clock.sleep)
    return DuvoClient(
        options.pop("base_url", BASE_URL),
        options.pop("api_key", API_KEY),
        budget=budget,
        transport=httpx.MockTransport(recorder),
        **options,
    )


def json_response(status: int, body: object, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)
