"""Routes for the Assignments (``/v1/agents``, ``/v1/agents/{id}``) and the caller (``/v1/profile``)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from duvo_tui.emulator.endpoint import ApiError, Caller, parse_uuid, query_int
from duvo_tui.emulator.state import Agent, EmulatorState, iso

__all__ = ["get_agent", "get_profile", "list_agents"]

_CREATED = "2026-03-02T09:15:00.000Z"
_UPDATED = "2026-11-20T16:40:12.000Z"
_PINNED = "2026-10-05T08:00:00.000Z"
_AUTHOR = {"id": "5c1f0e7a-93d2-4b8e-a6f4-2d0b9c71e358", "name": "Maya Chen", "email": "maya.chen@northwind.example"}


def _last_run_at(state: EmulatorState, agent: Agent, caller: Caller) -> str | None:
    times = [
        r.created_at
        for r in state.runs.values()
        if r.agent.id == agent.id and not r.deleted and (caller.admin or r.team_id == caller.team_id)
    ]
    return iso(max(times)) if times else None


def _build_json(agent: Agent) -> dict[str, Any]:
    return {
        "id": agent.build_id,
        "copilot_id": agent.build_id[:-4] + "c" + agent.build_id[-3:],
        "agent_id": agent.id,
        "name": agent.name,
        "revision_name": "Current SOP",
        "revision_description": None,
        "config": None,
        "status": "published",
        "revision_number": 3,
        "parent_build_id": None,
        "created_by": _AUTHOR["id"],
        "created_by_name": _AUTHOR["name"],
        "created_at": _UPDATED,
        "updated_at": _UPDATED,
    }


def _agent_fields(agent: Agent, caller: Caller) -> dict[str, Any]:
    """What ``GET /v1/agents/{id}`` and the listing's items share."""
    return {
        "id": agent.id,
        "name": agent.name,
        "slack_enabled": False,
        "microsoft_teams_enabled": False,
        "agentic_memory_enabled": agent.human_in_the_loop,
        "team_id": caller.team_id,
        "thread_id": None,
        "folder_id": agent.folder,
        "automation_id": None,
        "created_at": _CREATED,
        "updated_at": _UPDATED,
        "created_by": dict(_AUTHOR),
        "updated_by": dict(_AUTHOR),
    }


def agent_item_json(state: EmulatorState, agent: Agent, caller: Caller) -> dict[str, Any]:
    """One item of ``GET /v1/agents``."""
    return {
        **_agent_fields(agent, caller),
        "pinned_at": _PINNED if agent.pinned else None,
        "last_run_at": _last_run_at(state, agent, caller),
        "latest_build": _build_json(agent),
        "integration_configs": [],
        "user_triggers": {"slack_mention": False, "slack_channel": False, "teams_mention": False},
        "case_trigger_enabled": False,
        "case_trigger_has_conflict": False,
        "case_trigger_conflicting_agents": [],
        "case_queue_name": None,
    }


async def list_agents(state: EmulatorState, request: Request, caller: Caller) -> Response:
    limit = query_int(request, "limit", 20, 1, 100)
    offset = query_int(request, "offset", 0, 0, 2**53 - 1)
    q = request.query_params
    if q.get("include_schedules", "false") not in ("true", "false"):
        raise ApiError(400, "invalid_request", "include_schedules must be 'true' or 'false'.")
    automation = parse_uuid(q["automation_id"], "automation_id") if "automation_id" in q else None
    # No emulated Assignment belongs to an automation.
    agents = [] if automation else sorted(state.agents.values(), key=lambda a: a.name.lower())
    page = [agent_item_json(state, a, caller) for a in agents[offset : offset + limit]]
    return JSONResponse({"agents": page, "total": len(agents), "limit": limit, "offset": offset})


async def get_agent(state: EmulatorState, request: Request, caller: Caller) -> Response:
    agent = state.agents.get(parse_uuid(request.path_params["agent_id"], "agent_id"))
    if agent is None:
        raise ApiError(404, "not_found", "No agent with this id.")
    return JSONResponse(
        {"agent": _agent_fields(agent, caller), "user_context": {"pinned_at": _PINNED if agent.pinned else None}}
    )


async def get_profile(state: EmulatorState, request: Request, caller: Caller) -> Response:
    if caller.user is None:
        raise ApiError(404, "not_found", "No profile for this key.")
    return JSONResponse({"profile": caller.user.profile_json()})
