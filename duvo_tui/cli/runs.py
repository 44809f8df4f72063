"""``duvo-tui runs start/get/list/messages/say/respond/stop``."""

from __future__ import annotations

import argparse
import contextlib
from typing import TYPE_CHECKING, Any

from duvo_tui.api.status import RunStatus

if TYPE_CHECKING:
    from duvo_tui.api.client import DuvoClient
    from duvo_tui.api.models import HumanRequest, Run, RunDetail
    from duvo_tui.config import Profile

__all__ = ["register"]

STATUSES = tuple(status.value for status in RunStatus.documented())


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``runs`` and its subcommands."""
    runs = subparsers.add_parser("runs", help="start, inspect, answer and stop runs", description="Work with runs.")
    sub = runs.add_subparsers(title="runs commands", dest="runs_command", metavar="COMMAND", required=True)

    start = sub.add_parser("start", help="start a run of an agent", description="Start a run of an agent (assignment).")
    start.add_argument(
        "agent",
        metavar="AGENT",
        help="the Assignment: its name (or enough of it to be unique), uuid, or alias from the profile's [agents]",
    )
    start.add_argument("--message", metavar="TEXT", help="the first message to the agent")
    start.add_argument("--sandbox", metavar="ID", help="a sandbox id to give the run")
    start.add_argument("--webhook-url", metavar="URL", help="where the server posts the run's events")
    start.set_defaults(handler=_start)

    get = sub.add_parser("get", help="show a run and its pending human request", description="Show one run.")
    get.add_argument("run_id", metavar="RUN_ID")
    get.set_defaults(handler=_get)

    list_ = sub.add_parser(
        "list",
        help="list runs",
        description="List the key's runs (GET /v1/runs; the team's listing when the profile has a team_id), "
        "newest first, with each run's Assignment and title.",
    )
    list_.add_argument("--status", metavar="S", choices=STATUSES, help="only runs in this status")
    list_.set_defaults(handler=_list)

    messages = sub.add_parser("messages", help="print a run's messages", description="Print a run's messages.")
    messages.add_argument("run_id", metavar="RUN_ID")
    messages.add_argument(
        "--follow", "-f", action="store_true", help="keep printing new messages until the run finishes"
    )
    messages.set_defaults(handler=_messages)

    say = sub.add_parser("say", help="post a message to a run", description="Post a message to a run.")
    say.add_argument("run_id", metavar="RUN_ID")
    say.add_argument("text", metavar="TEXT")
    say.set_defaults(handler=_say)

    respond = sub.add_parser(
        "respond",
        help="answer a run's human request",
        description=(
            "Answer the run's pending human request: --approve or --deny an approval, or --answer each question "
            "(QUESTION is the question's text, its header or its number; several labels of a multi-select "
            "question are separated by commas)."
        ),
    )
    respond.add_argument("run_id", metavar="RUN_ID")
    choice = respond.add_mutually_exclusive_group(required=True)
    choice.add_argument("--approve", action="store_true", help="approve the request")
    choice.add_argument("--deny", action="store_true", help="deny the request")
    choice.add_argument(
        "--answer", action="append", metavar="QUESTION=ANSWER", help="answer one question (repeat for each)"
    )
    respond.set_defaults(handler=_respond)

    stop = sub.add_parser("stop", help="stop a run", description="Stop a run (a no-op when it is not running).")
    stop.add_argument("run_id", metavar="RUN_ID")
    stop.set_defaults(handler=_stop)


# --- handlers ------------------------------------------------------------------------------------------------


def _connect(args: argparse.Namespace, change: str | None = None) -> Profile:
    from duvo_tui.cli.context import load_profile, require_writable

    profile = load_profile(args)
    if change:
        require_writable(profile, change)
    return profile


def _run_id(args: argparse.Namespace) -> str:
    from duvo_tui.cli.context import parse_uuid

    return parse_uuid(args.run_id, "RUN_ID")


def _fail(message: str) -> int:
    import sys

    from duvo_tui.cli.secrets import scrub
    from duvo_tui.text import clean_line

    print(f"duvo-tui: error: {scrub(clean_line(message))}", file=sys.stderr)
    return 1


def _start(args: argparse.Namespace) -> int:
    from duvo_tui.cli.context import open_client, run_async
    from duvo_tui.cli.output import emit_json

    profile = _connect(args, "start")

    async def go() -> Run:
        async with open_client(profile) as client:
            agent_id = await _resolve_agent(client, profile, args.agent)
            run = await client.start_run(
                agent_id, message=args.message, sandbox_id=args.sandbox, webhook_url=args.webhook_url
            )
            from duvo_tui.cli.local_state import remember

            remember(profile, client, run)
            return run

    run = run_async(go())
    if args.json:
        emit_json(run)
    else:
        print(f"Started run {run.id} ({run.status})")
        print(f"Follow it with: duvo-tui runs messages {run.id} --follow")
    return 0


async def _resolve_agent(client: DuvoClient, profile: Profile, text: str) -> str:
    """An alias or uuid as is; a name through the API's list of Assignments (UsageError when none or several)."""
    from duvo_tui.cli.account import assignment_choices
    from duvo_tui.cli.context import UsageError
    from duvo_tui.config import ConfigError
    from duvo_tui.service.assignments import AmbiguousAssignment, UnknownAssignment, resolve

    try:
        return profile.resolve_agent(text)
    except ConfigError:
        pass  # not an alias or a uuid: a name
    try:
        return resolve(text, await assignment_choices(client, profile))
    except (AmbiguousAssignment, UnknownAssignment) as error:
        raise UsageError(str(error)) from None


def _get(args: argparse.Namespace) -> int:
    from duvo_tui.cli.context import open_client, run_async
    from duvo_tui.cli.output import emit_json

    run_id = _run_id(args)
    profile = _connect(args)

    async def go() -> RunDetail:
        async with open_client(profile) as client:
            return await client.get_run(run_id, urgent=True)

    detail = run_async(go())
    if detail.run is None:
        return _fail(f"run {run_id} no longer exists")
    if args.json:
        emit_json(detail)
    else:
        _print_detail(detail, profile)
    return 0


def _list(args: argparse.Namespace) -> int:
    from duvo_tui.cli.run_list import list_runs

    return list_runs(args, _connect(args))


def _messages(args: argparse.Namespace) -> int:
    from duvo_tui.cli.context import open_client, run_async
    from duvo_tui.cli.output import emit_json, emit_json_line, format_message

    run_id = _run_id(args)
    profile = _connect(args)

    async def read_all(client: DuvoClient, offset: int, on_message: Any) -> tuple[int, int]:
        """Pass every message from ``offset`` on to ``on_message(index, message)``; (new offset, total)."""
        total = offset
        while True:
            page = await client.list_messages(run_id, limit=50, offset=offset, urgent=True)
            total = page.total
            for index, message in enumerate(page.messages, start=offset):
                on_message(index, message)
            offset += len(page.messages)
            if not page.messages or offset >= page.total:
                return offset, total

    if not args.follow:
        collected: list[Any] = []

        async def once() -> int:
            async with open_client(profile) as client:
                _, total = await read_all(client, 0, lambda _index, message: collected.append(message))
                return total

        total = run_async(once())
        if args.json:
            emit_json({"run_id": run_id, "total": total, "messages": collected})
        else:
            for message in collected:
                print(format_message(message))
        return 0

    printed = 0  # messages shown so far: the index of the next one
    notice: list[HumanRequest] = []  # a request seen but not yet announced

    def announce_now() -> None:
        if notice:
            request = notice.pop()
            print(f"… waiting for a person: {_request_summary(request)}", flush=True)
            print(f"  answer with: duvo-tui runs respond {run_id} {_respond_hint(request)}", flush=True)

    def show(index: int, message: Any) -> None:
        """Print message ``index`` if it is the next one: each message once, in order, whoever read it.

        A request waiting to be announced is announced before the first message written after it.
        """
        nonlocal printed
        if index != printed:
            return
        asked_at = notice[0].created_at if notice else None
        if asked_at is not None and message.timestamp is not None and message.timestamp > asked_at:
            announce_now()
        if args.json:
            emit_json_line(message)
        else:
            print(format_message(message), flush=True)
        printed += 1

    async def follow() -> int:
        import asyncio

        from duvo_tui.service import events as ev
        from duvo_tui.service.service import DuvoService, ServiceSettings

        done = asyncio.Event()
        failure: list[str] = []
        announcing: set[asyncio.Task[None]] = set()

        async def announce(client: DuvoClient, request: HumanRequest) -> None:
            # The request is seen with the run, often before its messages: print those first, so the
            # notice comes after the conversation that led to it.
            notice[:] = [request]
            with contextlib.suppress(Exception):  # the notice matters more than the catch-up
                await read_all(client, printed, show)
            announce_now()

        def on_event(event: ev.Event) -> None:
            if isinstance(event, ev.MessagesAppended) and event.run_id == run_id:
                for index, message in enumerate(event.messages, start=event.start):
                    show(index, message)
            elif isinstance(event, ev.HumanRequestAppeared) and event.request.run_id == run_id:
                if not args.json:
                    task = asyncio.ensure_future(announce(client, event.request))
                    announcing.add(task)
                    task.add_done_callback(announcing.discard)
            elif isinstance(event, ev.RunChanged) and event.run.id == run_id and event.run.status.is_finished:
                done.set()
            elif isinstance(event, ev.RunRemoved) and event.run_id == run_id:
                failure.append(f"run {run_id} no longer exists")
                done.set()
            elif isinstance(event, ev.AuthFailed):
                failure.append(event.message)
                done.set()

        async with open_client(profile) as client:
            service = DuvoService(client, settings=ServiceSettings.from_profile(profile), state_dir=None)
            service.subscribe(on_event)
            await service.start()
            try:
                run = await service.track(run_id)
                service.focus(run_id)
                if not run.status.is_finished:
                    await done.wait()
            finally:
                await service.close()
                if announcing:
                    await asyncio.gather(*announcing, return_exceptions=True)
            if failure:
                return _fail(failure[0])
            # Once the status is final every message it produced is readable: catch up on any not yet shown.
            await read_all(client, printed, show)
            tracked = service.run(run_id)
            status = tracked.run.status if tracked is not None else run.status
        if not args.json:
            print(f"… run {status}", flush=True)
        return 0

    try:
        return run_async(follow())
    except KeyboardInterrupt:
        return 0


def _say(args: argparse.Namespace) -> int:
    from duvo_tui.cli.context import open_client, run_async
    from duvo_tui.cli.output import emit_json

    run_id = _run_id(args)
    profile = _connect(args, "post")
    if not args.text.strip():
        from duvo_tui.cli.context import UsageError

        raise UsageError("TEXT is empty")

    async def go() -> Any:
        async with open_client(profile) as client:
            return await client.post_message(run_id, args.text)

    message = run_async(go())
    if args.json:
        emit_json(message)
    else:
        print(f"Posted message {message.id or '(no id)'} to run {run_id}")
    return 0


def _respond(args: argparse.Namespace) -> int:
    from duvo_tui.cli.context import UsageError, open_client, run_async
    from duvo_tui.cli.output import emit_json

    run_id = _run_id(args)
    profile = _connect(args, "respond")

    async def go() -> Any:
        from duvo_tui.cli.local_state import local_service
        from duvo_tui.service.responder import Submission

        async with open_client(profile) as client:
            detail = await client.get_run(run_id, urgent=True)
            if detail.run is None:
                return f"run {run_id} no longer exists"
            request = detail.pending_human_request
            if request is None:
                return f"run {run_id} is not waiting for a person (status: {detail.run.status})"
            if not request.is_answerable:
                from duvo_tui.api.models import WEB_APP_ONLY

                return f"the request {request.title!r} is a {request.type!r} request: {WEB_APP_ONLY}"
            if request.is_approval:
                if args.answer:
                    raise UsageError(f"the request {request.title!r} asks for approval: use --approve or --deny")
                submission = Submission(run_id, request.id, approved=bool(args.approve))
                return request, await _answered(local_service(profile, client), submission), None
            if not args.answer:
                raise UsageError(f"the request {request.title!r} asks questions: answer each with --answer")
            import sys

            from duvo_tui.cli.answers import build_answers
            from duvo_tui.text import clean_line

            notes: list[str] = []
            answers = build_answers(request, args.answer, notes)
            for note in notes:
                print(f"duvo-tui: note: {clean_line(note, 300)}", file=sys.stderr)
            submission = Submission(run_id, request.id, answers=answers)
            return request, await _answered(local_service(profile, client), submission), answers

    outcome = run_async(go())
    if isinstance(outcome, str):
        return _fail(outcome)
    request, result, answers = outcome
    if isinstance(result, str):
        return _fail(result)
    if args.json:
        emit_json(result)
    else:
        _print_answered(request, run_id, answers, approved=bool(args.approve))
    return 0


async def _answered(service: Any, submission: Any) -> Any:
    """The server's reply to ``submission``, sent the way the dashboard sends it (draft, key, retries inside)."""
    outcome = await service.respond(submission)
    if outcome.ok:
        return outcome.result
    if outcome.error is not None:
        raise outcome.error  # the same one line and exit status as any failed call
    return outcome.message


def _stop(args: argparse.Namespace) -> int:
    from duvo_tui.cli.context import open_client, run_async
    from duvo_tui.cli.output import emit_json
    from duvo_tui.text import clean_line

    run_id = _run_id(args)
    profile = _connect(args, "stop")

    async def go() -> Any:
        async with open_client(profile) as client:
            return await client.stop_run(run_id)

    result = run_async(go())
    if args.json:
        emit_json(result)
    elif result.success:
        print(clean_line(result.message) or f"Stopped run {run_id}")
    else:
        print(clean_line(result.message) or f"Run {run_id} was not running; nothing to stop")
    return 0


# --- printing ------------------------------------------------------------------------------------------------


def _request_summary(request: HumanRequest) -> str:
    from duvo_tui.api.models import WEB_APP_ONLY
    from duvo_tui.text import clean_line

    if not request.is_answerable:
        kind = f"{clean_line(request.type, 40)} request: {WEB_APP_ONLY}"
    else:
        kind = "approval" if request.is_approval else f"{len(request.questions)} question(s)"
    return f"{clean_line(request.title, 100) or '(untitled)'} [{kind}]"


def _print_answered(request: HumanRequest, run_id: str, answers: dict[str, str] | None, *, approved: bool) -> None:
    """What was sent, as a person reads it: the verdict, or each question with its answer on a line of its own."""
    from duvo_tui.text import clean_line

    title = clean_line(request.title, 80) or "the request"
    if answers is None:
        print(f"{'Approved' if approved else 'Denied'}: {title} (run {run_id})")
        return
    print(f"Answered: {title} (run {run_id})")
    labels = {q.question: clean_line(q.header or q.question, 40) for q in request.questions}
    width = max((len(labels.get(question, question)) for question in answers), default=0)
    for question, answer in answers.items():
        label = labels.get(question) or clean_line(question, 40)
        print(f"  {label:<{width}}  {clean_line(answer, 200)}")


def _respond_hint(request: HumanRequest) -> str:
    if not request.is_answerable:
        return "(not from here: answer this in the Duvo web app)"
    if request.is_approval:
        return "--approve | --deny"
    return " ".join(f'--answer "{i}=…"' for i in range(1, len(request.questions) + 1))


def _print_detail(detail: RunDetail, profile: Profile) -> None:
    from duvo_tui.cli.output import format_time
    from duvo_tui.text import clean, clean_line

    run = detail.run
    assert run is not None
    alias = next((name for name, agent in profile.agents.items() if agent == run.agent_id), None)
    rows = [
        ("Run", run.id),
        ("Status", run.status),
        ("Agent", f"{run.agent_id} ({run.agent_name or alias})" if run.agent_name or alias else run.agent_id),
        ("Title", run.title),
        ("Sandbox", run.sandbox_id),
        ("Source", run.source),
        ("Created", format_time(run.created_at)),
        ("Started", format_time(run.started_at) if run.started_at else None),
        ("Updated", format_time(run.updated_at) if run.updated_at else None),
        ("Completed", format_time(run.completed_at) if run.completed_at else None),
    ]
    for label, value in rows:
        if value:
            print(f"{label:<10} {clean_line(value, 200)}")
    request = detail.pending_human_request
    if request is None:
        return
    print(f"\nWaiting for a person: {_request_summary(request)}")
    if request.description:
        for line in clean(request.description).splitlines():
            print(f"  {line}")
    for index, question in enumerate(request.questions, 1):
        header = f"[{clean_line(question.header, 40)}] " if question.header else ""
        kind = " (several answers, comma-separated)" if question.multi_select else ""
        kind = kind or (" (free text)" if question.is_free_text else "")
        print(f"  {index}) {header}{clean_line(question.question, 200)}{kind}")
        for option in question.options:
            note = f" — {clean_line(option.description, 120)}" if option.description else ""
            print(f"       - {clean_line(option.label, 80)}{note}")
    if request.is_answerable:
        print(f"Answer with: duvo-tui runs respond {run.id} {_respond_hint(request)}")
    else:
        print("Answer this in the Duvo web app.")
