"""The dashboard depends on one Protocol of the service; the real service and every stand-in implement it."""

from __future__ import annotations

import pytest

from duvo_tui.api.client import DuvoClient
from duvo_tui.bench.idle import IdleService
from duvo_tui.bench.stream import SyntheticService
from duvo_tui.service.facade import DashboardService
from duvo_tui.service.responder import Submission
from duvo_tui.service.service import DuvoService
from tests.feed_service import FeedService
from tests.test_hostile_dashboard import EmulatorFeed

PROTOCOL_MEMBERS = [
    name for name in vars(DashboardService) if not name.startswith("_") and name not in ("drafts",)
] + ["drafts"]


def stand_ins() -> list[object]:
    client = DuvoClient("http://127.0.0.1:9", "dv_test_key")
    return [
        DuvoService(client, state_dir=None),
        FeedService(),
        EmulatorFeed(client, "team"),
        IdleService(2, 1.0),
        SyntheticService(2, 1.0),
    ]


@pytest.mark.parametrize("service", stand_ins(), ids=lambda s: type(s).__name__)
def test_the_service_and_its_stand_ins_implement_the_dashboards_protocol(service):
    assert isinstance(service, DashboardService)
    missing = [name for name in PROTOCOL_MEMBERS if not hasattr(service, name)]
    assert missing == []


async def test_a_stand_in_that_only_shows_refuses_an_answer_with_one_outcome():
    outcome = await FeedService().respond(Submission("run-1", "request-1", approved=True))
    assert outcome.kind == "refused" and not outcome.ok and "nothing was sent" in outcome.message
