"""Draft answers on disk: per request, atomic, owner-only, tolerant of damaged files."""

from __future__ import annotations

import json

from duvo_tui.service.drafts import Draft, DraftStore, QuestionDraft
from duvo_tui.service.responder import idempotency_key_for


def test_a_draft_round_trips_and_is_private(isolated_home):
    store = DraftStore()
    draft = Draft(run_id="r1", request_id="q1", answers={"Which?": QuestionDraft(chosen=["A"], text="more")})
    store.save(draft)
    path = store.path_for("q1")
    assert path.parent == isolated_home / "state" / "drafts"
    assert path.stat().st_mode & 0o777 == 0o600
    loaded = DraftStore().load("q1")
    assert loaded is not None
    assert loaded.answers["Which?"].chosen == ["A"] and loaded.answers["Which?"].text == "more"
    assert loaded.idempotency_key == draft.idempotency_key
    store.delete("q1")
    assert store.load("q1") is None
    store.delete("q1")  # deleting twice is fine


def test_server_ids_cannot_name_a_path(isolated_home):
    store = DraftStore()
    for hostile in ("../../etc/passwd", "/abs", "a\x00b", "x" * 5000):
        path = store.path_for(hostile)
        assert path.parent == store.root and "/" not in path.name and len(path.name) < 60
        store.save(Draft(run_id="r", request_id=hostile))
        assert store.load(hostile) is not None


def test_damaged_or_foreign_files_read_as_no_draft(isolated_home):
    store = DraftStore()
    store.root.mkdir(parents=True)
    store.path_for("broken").write_text("{not json")
    store.path_for("list").write_text("[1, 2]")
    store.path_for("other").write_text(json.dumps(Draft(run_id="r", request_id="someone-else").to_json()))
    assert store.load("broken") is None
    assert store.load("list") is None
    assert store.load("other") is None  # a file that names another request is not this one's draft
    odd = {"run_id": "r", "request_id": "odd", "approved": "yes", "answers": {"q": {"chosen": [1, "B"], "text": 3}}}
    store.path_for("odd").write_text(json.dumps(odd))
    loaded = store.load("odd")
    assert loaded is not None and loaded.approved is None
    assert loaded.answers["q"].chosen == ["B"] and loaded.answers["q"].text == ""
    # Oldest change first: "odd" has no time (0), the other one was made just now.
    assert [d.request_id for d in store.all()] == ["odd", "someone-else"]


def test_the_key_is_stable_for_one_answer_and_changes_with_it():
    salt = "6f1c8a52-1f0e-4b6a-9a7e-0c1d2e3f4a5b"
    same = idempotency_key_for(salt, None, {"Q": "A"})
    assert same == idempotency_key_for(salt, None, {"Q": "A"})
    assert same != idempotency_key_for(salt, None, {"Q": "B"})
    assert idempotency_key_for(salt, True, None) != idempotency_key_for(salt, False, None)
    assert idempotency_key_for("not-a-uuid", True, None) == idempotency_key_for("not-a-uuid", True, None)
