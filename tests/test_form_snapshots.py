"""SVG snapshots of the question form at 80x24 and 120x40, answered part way: the second and third questions in
view (the pane scrolled to them), with fixed data so every run draws the same."""

from __future__ import annotations

import pytest

from duvo_tui.api.models import HumanRequest, Run
from duvo_tui.config import Profile
from duvo_tui.ui.app import make_app
from tests.feed_service import FeedService, wait_until

RUN_ID = "5e1f0000-0000-4000-8000-0000000000aa"
REQUEST = HumanRequest.from_json(
    {
        "id": "5e1f0000-0000-4000-8000-0000000000bb",
        "run_id": RUN_ID,
        "type": "question",
        "title": "A few questions about the report",
        "description": "I need these to shape it.",
        "questions": [
            {
                "header": "Region",
                "question": "Which region should the report cover?",
                "options": [
                    {"label": "EMEA", "description": "Europe, the Middle East and Africa"},
                    {"label": "Americas", "description": "North and South America"},
                    {"label": "APAC", "description": "Asia and the Pacific"},
                ],
            },
            {
                "header": "Formats",
                "question": "Which formats do you want?",
                "multi_select": True,
                "options": [{"label": "PDF"}, {"label": "CSV"}, {"label": "Slides", "description": "A short deck"}],
            },
            {"header": "Notes", "question": "Anything else the report should mention?", "options": []},
        ],
    }
)


class WaitingService(FeedService):
    """One run, waiting on the request above."""

    def pending_requests(self):
        return [REQUEST]


def form_app():
    run = Run(id=RUN_ID, agent_id="a1b2c3d4-0002-4a00-8000-00000000a002", status="waiting", title="Quarterly report")
    return make_app(WaitingService([run]), Profile(name="snapshot", base_url="http://127.0.0.1:8787"))


async def answer_part_way(pilot) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: app.service_started and RUN_ID in app.screen_dashboard.requests)
    await pilot.press("n")
    await pilot.pause(1.0)  # the description (markdown) is laid out before the form scrolls
    await pilot.press("3", "1", "2", "enter", "n", "o", "n", "e")
    # Back to the formats question: the notes stay in view, and no blinking text cursor makes the picture vary.
    await pilot.press("shift+tab")
    await pilot.pause(0.3)
    app.clear_notifications()
    await pilot.pause(0.5)
    # The picture starts at the second question whatever the timing of the scrolls on the way (the tests in
    # test_hitl_screen.py check those): the same lines every run.
    pane = app.screen_dashboard.query_one("#human-request-pane")
    second = list(pane.query("QuestionBlock"))[1]
    pane.scroll_to(y=second.virtual_region.y, animate=False)
    await pilot.pause(0.3)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_question_form_with_the_later_questions_in_view(size, snap_compare):
    assert REQUEST is not None and REQUEST.questions[1].multi_select
    assert snap_compare(form_app(), terminal_size=size, run_before=answer_part_way)
