"""The one vocabulary of run statuses: every status the API documents has a meaning, others are kept as they came."""

from __future__ import annotations

import json

import pytest

from duvo_tui.api.models import Run
from duvo_tui.api.status import MEANINGS, Phase, RunStatus

API_STATUSES = [
    "not_started", "pending", "starting", "running", "waiting",
    "completed", "failed", "interrupted", "stopped", "needs_attention",
]  # fmt: skip


def test_every_status_the_api_documents_is_a_member_with_a_meaning():
    assert [s.value for s in RunStatus.documented()] == API_STATUSES
    for value in API_STATUSES:
        status = RunStatus(value)
        assert status.is_known
        assert status in MEANINGS
        assert status.meaning.phase is not Phase.UNKNOWN


def test_what_each_status_means():
    assert {s.value for s in RunStatus.documented() if s.is_active} == {"not_started", "pending", "starting", "running"}
    assert {s.value for s in RunStatus.documented() if s.is_persons_turn} == {"waiting", "needs_attention"}
    finished = {"completed", "failed", "interrupted", "stopped"}
    assert {s.value for s in RunStatus.documented() if s.is_finished} == finished
    assert {s.value for s in RunStatus.documented() if s.is_resumable} == {"waiting", "completed", "interrupted"}


def test_the_names_a_person_reads_are_the_web_apps():
    assert RunStatus.RUNNING.label == "Running"
    assert RunStatus.NEEDS_ATTENTION.label == "Needs input"
    assert RunStatus.COMPLETED.label == "Completed"
    assert RunStatus.FAILED.label == "Failed"
    assert RunStatus.STOPPED.label == "Stopped"
    assert RunStatus.INTERRUPTED.label == "Interrupted"


@pytest.mark.parametrize("value", ["paused", "NEEDS-REVIEW", "queued"])
def test_an_undocumented_status_is_kept_as_it_came(value):
    status = RunStatus(value)
    assert isinstance(status, RunStatus)
    assert status == value and str(status) == value and f"{status}" == value
    assert json.dumps({"status": status}) == json.dumps({"status": value})
    assert not status.is_known
    assert status.meaning.phase is Phase.UNKNOWN
    assert status.label == value
    assert not (status.is_active or status.is_persons_turn or status.is_finished or status.is_resumable)


def test_a_run_reads_its_status_through_the_vocabulary():
    assert Run.from_json({"id": "r", "status": "interrupted"}).status is RunStatus.INTERRUPTED
    assert Run.from_json({"id": "r", "status": "brand_new"}).status == "brand_new"
    assert Run.from_json({"id": "r"}).status is RunStatus.UNKNOWN
    assert Run.from_json({"id": "r", "status": ""}).status is RunStatus.UNKNOWN
    assert Run.from_json({"id": "r", "status": 7}).status == "7"
    # Built by hand (tests, ``dataclasses.replace``) with a plain string: still a RunStatus.
    assert Run(id="r", status="stopped").status is RunStatus.STOPPED
    assert Run(id="r", status="gone").status.meaning.phase is Phase.UNKNOWN


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_run_list_shows_each_status_by_its_name(size):
    """One pane at a time (80x24): symbol and name; the four-pane grid (120x40) leaves room for the symbol only."""
    from duvo_tui.config import Profile
    from duvo_tui.ui.app import make_app
    from tests.feed_service import FeedService, wait_until
    from tests.test_hostile_dashboard import screen_lines

    shown = ["running", "needs_attention", "interrupted", "stopped", "completed", "odd_new_status"]
    runs = [
        Run(id=f"5e1f0000-0000-4000-8000-00000000000{i}", status=status, title=f"job {i}")
        for i, status in enumerate(shown)
    ]
    app = make_app(FeedService(runs), Profile(name="t"))
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        await wait_until(pilot, lambda: any("job 5" in line for line in screen_lines(app)))
        rows = {line.split("job ")[1][0]: line for line in screen_lines(app) if "job " in line}
        expected = ["▶ Running", "! Needs input", "↯ Interrupted", "■ Stopped", "✓ Completed", "· odd_new_st…"]
        for i, look in enumerate(expected):
            # Word and symbol at every width (the border is heavy when the list has focus).
            assert rows[str(i)][1:].startswith(f" {look}"), rows[str(i)]
