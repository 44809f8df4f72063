"""Models tolerate whatever a server sends."""

from duvo_tui.api.models import Message, MessagePage, RunDetail, parse_timestamp


def test_null_run_gives_none_and_no_request():
    detail = RunDetail.from_json({"run": None})
    assert detail.run is None
    assert detail.pending_human_request is None


def test_unknown_status_and_bad_timestamp_are_kept_without_raising():
    detail = RunDetail.from_json(
        {"run": {"id": "r1", "agent_id": "a", "status": "hibernating", "created_at": "yesterday", "extra": 1}}
    )
    assert detail.run is not None
    assert detail.run.status == "hibernating"
    assert not detail.run.status.is_known
    assert detail.run.created_at is None


def test_timestamp_with_z_parses_to_utc():
    ts = parse_timestamp("2026-11-29T01:02:03Z")
    assert ts is not None and ts.utcoffset().total_seconds() == 0


def test_message_page_total_never_below_what_was_received():
    page = MessagePage.from_json({"messages": [{"id": "m1"}, {"id": "m2"}], "total": -5, "offset": 10, "limit": 50})
    assert page.total == 12


def test_tool_call_with_string_arguments_is_decoded():
    msg = Message.from_json({"id": "m", "tool_call": {"id": "t", "name": "read", "arguments": '{"path": "/x"}'}})
    assert msg is not None and msg.tool_call is not None
    assert msg.tool_call.arguments == {"path": "/x"}
