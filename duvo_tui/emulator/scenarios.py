"""The scripted agents the emulator offers, one per scenario.

- ``approval`` (Invoice Approver): reads the sandbox, proposes a payment and asks for approval;
  approve -> sends the payment and completes; deny -> takes the fallback path (a draft for finance), completes.
- ``questions`` (Report Planner): asks three questions at once (single choice with described options,
  multi-select, free text), then echoes the answers in what it writes and completes.
- ``fails`` (Data Importer): its import tool errors twice; the run ends ``failed``.
- ``chatty`` (Log Analyst): thousands of messages (``chatty_messages`` option, default 3200), tool calls with
  large arguments, emitted in fast bursts; completes.
- ``quick`` (Quick Check): a greeting, one tool call, done in about two seconds.

Times are scenario seconds (divided by ``speed``); content depends only on ``seed`` and the run's inputs.
"""

from __future__ import annotations

from duvo_tui.emulator.run_driver import RunContext, ScenarioFailed
from duvo_tui.emulator.state import Agent

__all__ = ["SCENARIOS", "build_agents", "script_for"]

_AGENTS = (
    ("approval", "a1b2c3d4-0001-4a00-8000-00000000a001", "Invoice Approver", True),
    ("questions", "a1b2c3d4-0002-4a00-8000-00000000a002", "Report Planner", True),
    ("fails", "a1b2c3d4-0003-4a00-8000-00000000a003", "Data Importer", False),
    ("chatty", "a1b2c3d4-0004-4a00-8000-00000000a004", "Log Analyst", False),
    ("quick", "a1b2c3d4-0005-4a00-8000-00000000a005", "Quick Check", False),
)
SCENARIOS = tuple(key for key, *_ in _AGENTS)

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
        Agent(id=uid, name=name, scenario=key, build_id=uid[:-4] + "b" + uid[-3:], human_in_the_loop=hitl)
        for key, uid, name, hitl in _AGENTS
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


_SCRIPTS = {"approval": approval, "questions": questions, "fails": fails, "chatty": chatty, "quick": quick}


def script_for(scenario: str):
    """The coroutine function playing ``scenario``."""
    return _SCRIPTS[scenario]
