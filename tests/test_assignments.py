"""Picking an Assignment by what a person types: filtering as they type, and resolving on Enter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from duvo_tui.api.account import Agent
from duvo_tui.service.assignments import AmbiguousAssignment, UnknownAssignment, choices, matching, resolve

AGENTS = [
    Agent(
        "11111111-1111-4111-8111-111111111111",
        "Supplier Invoice Approval",
        last_run_at=datetime(2026, 11, 1, tzinfo=UTC),
    ),
    Agent("22222222-2222-4222-8222-222222222222", "Supplier Invoice Approval (legacy)"),
    Agent("33333333-3333-4333-8333-333333333333", "Daily Health Check", last_run_at=datetime(2026, 11, 28, tzinfo=UTC)),
    Agent("44444444-4444-4444-8444-444444444444", "Quarterly Report Planning"),
]
ALIASES = {"checks": "33333333-3333-4333-8333-333333333333", "old": "99999999-9999-4999-8999-999999999999"}
OPTIONS = choices(AGENTS, ALIASES)


def test_choices_put_the_most_recently_run_first_and_keep_aliases_of_unlisted_ids():
    assert [c.label for c in OPTIONS] == [
        "Daily Health Check",
        "Supplier Invoice Approval",
        "Supplier Invoice Approval (legacy)",
        "Quarterly Report Planning",
        "old",
    ]
    assert OPTIONS[0].alias == "checks"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Daily Health Check", "Supplier Invoice Approval", "Supplier Invoice Approval (legacy)",
              "Quarterly Report Planning", "old"]),
        ("invoice", ["Supplier Invoice Approval", "Supplier Invoice Approval (legacy)"]),
        ("approval supplier", ["Supplier Invoice Approval", "Supplier Invoice Approval (legacy)"]),
        ("supplier invoice approval", ["Supplier Invoice Approval", "Supplier Invoice Approval (legacy)"]),
        ("  QUARTERLY  ", ["Quarterly Report Planning"]),
        ("check", ["Daily Health Check"]),
        ("3333", ["Daily Health Check"]),
        ("payroll", []),
    ],
)  # fmt: skip
def test_matching_filters_by_every_word_best_first(query, expected):
    assert [c.label for c in matching(query, OPTIONS)] == expected


@pytest.mark.parametrize(
    ("typed", "agent_id"),
    [
        ("Supplier Invoice Approval", AGENTS[0].id),
        ("supplier   invoice approval", AGENTS[0].id),
        ("legacy", AGENTS[1].id),
        ("checks", AGENTS[2].id),
        ("old", "99999999-9999-4999-8999-999999999999"),
        ("health", AGENTS[2].id),
        ("AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA", "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"),
    ],
)
def test_resolve_takes_aliases_uuids_exact_and_unique_names(typed, agent_id):
    assert resolve(typed, OPTIONS) == agent_id


def test_resolve_refuses_what_fits_several_naming_them():
    with pytest.raises(AmbiguousAssignment) as caught:
        resolve("invoice", OPTIONS)
    assert [c.agent_id for c in caught.value.candidates] == [AGENTS[0].id, AGENTS[1].id]
    assert "fits 2 Assignments" in str(caught.value) and "(legacy)" in str(caught.value)


@pytest.mark.parametrize("typed", ["", "   ", "payroll"])
def test_resolve_refuses_what_fits_none(typed):
    with pytest.raises(UnknownAssignment):
        resolve(typed, OPTIONS)


def test_two_assignments_with_the_same_name_are_ambiguous():
    twins = choices(
        [
            Agent("a" * 8 + "-0000-4000-8000-000000000001", "Same"),
            Agent("b" * 8 + "-0000-4000-8000-000000000002", "Same"),
        ]
    )
    with pytest.raises(AmbiguousAssignment):
        resolve("same", twins)


def test_runs_started_since_the_listing_bring_the_last_run_up_to_date():
    from duvo_tui.api.models import Run
    from duvo_tui.service.assignments import with_last_runs

    legacy = "22222222-2222-4222-8222-222222222222"
    runs = [
        Run("r1", agent_id=legacy, created_at=datetime(2026, 11, 29, tzinfo=UTC)),
        Run("r2", agent_id=legacy, created_at=datetime(2026, 11, 2, tzinfo=UTC)),  # older: the newest counts
        Run("r3", agent_id="11111111-1111-4111-8111-111111111111", created_at=None),  # no time: ignored
    ]
    updated = with_last_runs(OPTIONS, runs)
    assert updated[0].label == "Supplier Invoice Approval (legacy)"
    assert updated[0].last_run_at == datetime(2026, 11, 29, tzinfo=UTC)
    by_label = {c.label: c.last_run_at for c in updated}
    assert by_label["Supplier Invoice Approval"] == datetime(2026, 11, 1, tzinfo=UTC)
    assert by_label["Quarterly Report Planning"] is None
