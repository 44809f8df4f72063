"""The scripted agents (Assignments) the emulator offers, each playing one scenario.

- ``approval`` (Supplier Invoice Approval): reads the sandbox, thinks it over (a ``thinking`` message),
  proposes a payment and asks for approval; approve -> sends the payment and completes; deny -> takes the
  fallback path (a draft for finance), completes. ``approval_legacy`` (Supplier Invoice Approval (legacy))
  plays the same scenario: two Assignments whose names share words, as real teams have.
- ``questions`` (Quarterly Report Planning): a ``system`` message, then three questions at once (single
  choice with described options, multi-select, free text); echoes the answers in what it writes, completes.
- ``fails`` (Warehouse Data Import): its import tool errors twice; the run ends ``failed``.
- ``chatty`` (Production Log Triage): thousands of messages (``chatty_messages`` option, default 3200), tool
  calls with large arguments, emitted in fast bursts; completes.
- ``quick`` (Daily Health Check): a greeting, one tool call, done in about two seconds.
- ``login`` (CRM Contact Sync): raises a login request (a person signs in to the CRM in the Duvo web app; the
  API cannot answer it), waits ``login_wait`` scenario seconds for that sign-in, then syncs and completes.

Times are scenario seconds (divided by ``speed``); content depends only on ``seed`` and the run's inputs.
"""

from __future__ import annotations

import uuid

from duvo_tui.emulator.run_driver import RunContext, ScenarioFailed
from duvo_tui.emulator.state import Agent

__all__ = ["SCENARIOS", "build_agents", "script_for"]

_AGENTS = (
    # key, scenario, uuid, name, human in the loop, folder, pinned
    (
        "approval",
        "approval",
        "587f88b6-7b93-4e22-957a-ebc4f7cba0f9",
        "Supplier Invoice Approval",
        True,
        "Finance",
        True,
    ),
    ("questions", "questions", "5af944c2-0645-47e4-ba7f-56eb557eddf7", "Quarterly Report Planning", True, None, False),
    ("fails", "fails", "a0c6342e-31ec-4738-bf37-6e11af58f476", "Warehouse Data Import", False, "Data", False),
    ("chatty", "chatty", "8dc0202f-980b-4cc6-8af9-e4c5c0bdffce", "Production Log Triage", False, "Engineering", False),
    ("quick", "quick", "2fab30c5-aece-4d91-aaa4-2148f7c6f597", "Daily Health Check", False, None, True),
    ("login", "login", "c9b2ec0f-0803-4e47-8ca4-449d0422fc51", "CRM Contact Sync", True, "Sales", False),
    (
        "approval_legacy",
        "approval",
        "6b8b4344-d4f4-4d18-91d6-cb0ae9495d2a",
        "Supplier Invoice Approval (legacy)",
        True,
        "Finance",
        False,
    ),
)
_BUILDS = uuid.UUID("9e3d6a10-4c2b-4f1e-8a7d-5b0c2e9f1a36")
SCENARIOS = tuple(dict.fromkeys(scenario for _key, scenario, *_ in _AGENTS))

REGION_QUESTION = "Which region should the report cover?"
FORMAT_QUESTION = "Which formats do you want?"
NOTES_QUESTION = "Anything else the report should mention?"
QUESTIONS = [
    {
        "question": REGION_QUESTION,
        "header": "Region",
        "options": [
            {"label": "EMEA", "description": "Europe, the Middle East and Africa"},
            {"label": "Americas", "description": "North and South America"},
            {"label": "APAC", "description": "Asia and the Pacific"},
        ],
        "multi_select": False,
    },
    {
        "question": FORMAT_QUESTION,
        "header": "Formats",
        "options": [{"label": "PDF"}, {"label": "CSV"}, {"label": "Slides", "description": "A short deck"}],
        "multi_select": True,
    },
    {"question": NOTES_QUESTION, "header": "Notes"},
]


def build_agents() -> list[Agent]:
    return [
        Agent(
            id=uid,
            name=name,
            scenario=scenario,
            build_id=str(uuid.uuid5(_BUILDS, uid)),
            human_in_the_loop=hitl,
            key=key,
            folder=folder,
            pinned=pinned,
        )
        for key, scenario, uid, name, hitl, folder, pinned in _AGENTS
    ]


async def _survey(ctx: RunContext) -> list[str]:
    """List and read the sandbox's files, mentioning them by name; returns their names."""
    files = ctx.files()
    await ctx.tool("list_files", {"path": "/workspace"}, result=[{"path": p, "size_bytes": s} for p, s in files])
    names = [p.rsplit("/", 1)[-1] for p, _ in files]
    if not files:
        ctx.say("The sandbox has no files, so I'll work from the instructions alone.")
        return names
    for path, size in files[:3]:
        text = ctx.read(path, 300)
        if "\x00" in text or "\ufffd" in text:
            text = f"<binary file, {size} bytes>"
        await ctx.tool("read_file", {"path": path}, result=text, delay=0.3)
        ctx.say(f"Read {path.rsplit('/', 1)[-1]} ({size} bytes).")
    ctx.say(f"I found {len(files)} file(s) in the sandbox: {', '.join(names)}.")
    return names


async def approval(ctx: RunContext) -> None:
    ctx.say(f"Starting on: {ctx.user_message or 'this month’s invoices'}.")
    await ctx.pause(0.5)
    names = await _survey(ctx)
    vendor = ctx.rng.choice(["Acme Supplies", "Northwind Traders", "Globex GmbH"])
    amount = ctx.rng.randrange(200, 9000)
    basis = ", ".join(names) if names else "the request"
    ctx.think(
        f"The documents point to {vendor}. The amount, €{amount}, is above the €150 auto-approve limit in the SOP,\n"
        "so a person has to approve it before anything is paid. Check the vendor is on the approved list,\n"
        "then propose the payment and wait."
    )
    ctx.say(f"Based on {basis}, I prepared a payment of €{amount} to {vendor}.")
    await ctx.pause(0.5)
    approved = await ctx.ask_approval(
        f"Approve payment of €{amount} to {vendor}?",
        f"Invoice total €{amount}, vendor {vendor}. Source: {basis}.",
    )
    if approved:
        ctx.say("Approved. Sending the payment now.")
        await ctx.tool("send_payment", {"vendor": vendor, "amount_eur": amount}, result={"status": "sent"})
        ctx.say(f"Payment of €{amount} to {vendor} sent.")
    else:
        ctx.say("Understood, I will not pay. Taking the fallback path: a draft for the finance team instead.")
        await ctx.tool("create_draft", {"to": "finance", "subject": f"Held: {vendor} €{amount}"}, result={"ok": True})
        ctx.say(f"Draft about the held payment to {vendor} saved for review. No money was sent.")
    await ctx.pause(0.3)


async def questions(ctx: RunContext) -> None:
    ctx.note("Assignment loaded: Quarterly Report Planning, revision 3 (Current SOP).")
    ctx.say(f"Planning the report: {ctx.user_message or 'quarterly summary'}.")
    await ctx.pause(0.5)
    names = await _survey(ctx)
    answers = await ctx.ask_questions("A few questions about the report", "I need these to shape it.", QUESTIONS)
    region = answers.get(REGION_QUESTION, "(none)")
    formats = answers.get(FORMAT_QUESTION, "(none)")
    notes = answers.get(NOTES_QUESTION, "(none)")
    ctx.say(f"Thanks. Region: {region}. Formats: {formats}. Notes: {notes}.")
    await ctx.tool(
        "write_report",
        {"region": region, "formats": [f.strip() for f in formats.split(",") if f.strip()], "sources": names},
        result={"pages": ctx.rng.randrange(3, 12)},
    )
    ctx.say(f"The {region} report is ready in {formats}.")


async def fails(ctx: RunContext) -> None:
    ctx.say("Importing the sandbox data into the warehouse.")
    names = await _survey(ctx)
    target = names[0] if names else "records.csv"
    for attempt in (1, 2):
        await ctx.tool(
            "import_rows",
            {"file": target, "table": "staging.imports", "attempt": attempt},
            error="ConnectionError: warehouse refused the connection (timeout after 30 s)",
        )
        await ctx.pause(0.5)
    raise ScenarioFailed(f"could not import {target}: the warehouse is unreachable")


async def chatty(ctx: RunContext) -> None:
    total = max(10, ctx.state.options.chatty_messages)
    ctx.say(f"Analysing logs: {ctx.user_message or 'all services, last 24 hours'}.")
    await _survey(ctx)
    services = ["api", "billing", "auth", "search", "worker"]
    produced = len(ctx.run.messages)
    step = 0
    while produced < total - 1:
        step += 1
        service = ctx.rng.choice(services)
        rows = [
            {
                "ts": f"2026-11-28T{h % 24:02d}:{ctx.rng.randrange(60):02d}:00Z",
                "level": "ERROR",
                "line": f"GET /v1/items/{ctx.rng.randrange(10**6)} -> 502 upstream timeout after 30000 ms",
            }
            for h in range(400 if step % 25 == 0 else 24)  # now and then a really large argument
        ]
        await ctx.tool(
            "query_logs", {"service": service, "step": step, "filters": rows}, result={"matches": step * 7}, delay=0
        )
        ctx.say(f"Step {step}: {service} shows {ctx.rng.randrange(1, 99)} errors in this slice.")
        produced += 3
        if step % 10 == 0:
            await ctx.pause(0.1)
    ctx.say(f"Finished: {step} slices analysed.")


async def quick(ctx: RunContext) -> None:
    ctx.say("Hello! Running a quick check.")
    await ctx.tool("ping", {"target": "duvo"}, result={"ok": True, "ms": ctx.rng.randrange(5, 50)})
    ctx.say("All good.")


async def login(ctx: RunContext) -> None:
    ctx.say(f"Syncing CRM contacts: {ctx.user_message or 'new sign-ups from the last week'}.")
    await ctx.pause(0.3)
    ctx.think("The CRM session has expired. Without it I cannot read or write contacts, so ask for a sign-in.")
    await ctx.ask_login(
        "Sign in to Salesforce",
        "The CRM connection needs a fresh sign-in before contacts can be synced. Sign in from the Duvo web app.",
    )
    ctx.note("Salesforce connection restored by a sign-in in the web app.")
    count = ctx.rng.randrange(12, 80)
    await ctx.tool("sync_contacts", {"since_days": 7}, result={"created": count, "updated": count // 3})
    ctx.say(f"Synced {count} new contacts and updated {count // 3}.")


_SCRIPTS = {
    "approval": approval,
    "questions": questions,
    "fails": fails,
    "chatty": chatty,
    "quick": quick,
    "login": login,
}


def script_for(scenario: str):
    """The coroutine function playing ``scenario``."""
    return _SCRIPTS[scenario]
