"""The `crane` commands: each takes the parsed arguments and returns an exit code.

Core is imported inside the commands, so a refused command line never pays for it.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from cli.args import EXIT_FAILED, EXIT_OK, Refused
from cli.render import Live, describe, dump, shown

if TYPE_CHECKING:
    from core.plan import Run, Scope
    from core.runtime import Crane


_OPENED: list[Crane] = []  # closed by `close_opened` when `main` returns


def close_opened() -> None:
    while _OPENED:
        _OPENED.pop().close()


def _crane(args: argparse.Namespace) -> Crane:
    from core.app import build

    if args.db is not None and not args.db.strip():
        raise Refused("crane: --db must name a file")
    crane = build(db=args.db)
    _OPENED.append(crane)
    return crane


def _scope(user: str) -> Scope:
    from core.plan import Scope

    if not user.strip():
        raise Refused("crane: --user must not be empty")
    return Scope(user_id=user)


def _ask_once(crane: Crane, scope: Scope, text: str, thread: str | None, live: bool) -> Run:
    text, plan = crane.plan(scope, text, thread)  # planned here to show the plan's notes
    notes = {index: step.note for index, step in enumerate(plan.steps, 1) if step.note}
    return crane.ask(scope, text, thread, Live(notes) if live else None, plan)


def cmd_ask(args: argparse.Namespace) -> int:
    from core.requests import clean_request

    text = clean_request(args.text)  # refuse before the database is even opened
    scope = _scope(args.user)
    run = _ask_once(_crane(args), scope, text, args.thread, live=not args.json)
    if args.json:
        dump(run.record())
    else:
        print(shown(run.answer or ""))
    return EXIT_OK if run.status.value == "completed" else EXIT_FAILED


def cmd_chat(args: argparse.Namespace) -> int:
    from core.errors import InvalidInput, LimitReached
    from core.requests import new_run_id

    crane, scope = _crane(args), _scope(args.user)
    thread = args.thread or f"chat-{new_run_id()}"
    tries = " · ".join(tool[0] for tool in crane.examples)
    print(f"Crane chat (conversation {thread}). Try: {tries}. Ctrl-D to quit.")
    while True:
        try:
            text = input("you> ")
        except EOFError:
            print()
            return EXIT_OK
        if not text.strip():
            continue
        try:
            run = _ask_once(crane, scope, text, thread, live=True)
        except (InvalidInput, LimitReached) as error:
            print(f"crane: {error}")
            continue
        print(f"crane> {shown(run.answer or '')}")


def cmd_todos(args: argparse.Namespace) -> int:
    scope = _scope(args.user)
    found = _crane(args).reads.todos(scope, include_done=args.all)
    if args.json:
        dump([todo.record() for todo in found])
        return EXIT_OK
    if not found:
        print("No todos." if args.all else "No open todos.")
    for todo in found:
        print(f"#{todo.number} {'[x]' if todo.done else '[ ]'} {shown(todo.title)}")
    return EXIT_OK


def cmd_runs(args: argparse.Namespace) -> int:
    if args.runs_command != "show" and not 1 <= args.limit <= 1000:
        raise Refused("crane: --limit must be between 1 and 1000")
    crane = _crane(args)
    if args.runs_command == "show":
        run = crane.reads.run(args.id)
        if args.json:
            dump(run.record())
        else:
            print(shown(describe(run)))
            print(f"answer: {shown(run.answer or '')}")
        return EXIT_OK
    found = crane.reads.runs(limit=args.limit)
    if args.json:
        dump([run.record() for run in found])
    else:
        for run in found:
            print(shown(describe(run)))
    return EXIT_OK


def cmd_usage(args: argparse.Namespace) -> int:
    """Usage per user per UTC day, newest first (`{"items": [...]}` with --json)."""
    if not 1 <= args.days <= 366:
        raise Refused("crane: --days must be between 1 and 366")
    for flag in ("user", "workspace"):
        if getattr(args, flag) is not None and not getattr(args, flag).strip():
            raise Refused(f"crane: --{flag} must not be empty")
    found = _crane(args).reads.usage(args.days, args.user, args.workspace)
    if args.json:
        dump({"items": found})
        return EXIT_OK
    if not found:
        print("No usage.")
    for row in found:
        print(f"{row['date']}  {shown(row['user'])}  runs {row['runs']}  steps {row['steps']}  "
              f"tokens {row['prompt_tokens']} in / {row['completion_tokens']} out "
              f"({row['cached_tokens']} cached)  ${row['cost_usd']:.4f}")  # fmt: skip
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    """The server logs its own way (JSON), so it is started before terminal logging is set."""
    from server import serve  # the one place the CLI knows where the server is assembled

    return serve(args.host, args.port)


def cmd_db(args: argparse.Namespace) -> int:
    """`crane db upgrade`: for deploy pipelines, before the new version serves."""
    from core.settings import Settings
    from core.store import describe as database
    from core.store import upgrade

    if args.db is not None and not args.db.strip():
        raise Refused("crane: --db must name a file")
    db = args.db or Settings().db
    for name in upgrade(db):
        print(f"applied {name}")
    print(f"database {database(db)} is up to date")
    return EXIT_OK


def cmd_tools(args: argparse.Namespace) -> int:
    """`crane tools [--json]`: every tool, built-in or from an MCP server (each configured
    server started and listed); exit 1 if a configured server is down."""
    from core.app import toolbox
    from core.settings import Settings

    tools = toolbox(Settings(), start_mcp=False)
    try:
        tools.servers.start(wait=True)
        listing = [tool.listing() for tool in tools.values()]
        status = tools.status()
    finally:
        tools.close()
    if args.json:
        dump({"tools": listing, "mcp": status})
    else:
        for tool in listing:
            approval = "  (needs approval)" if tool["needs_approval"] else ""
            print(shown(f"{tool['name']} [{tool['source']}]{approval}: {tool['description']}"))
            if tool["examples"]:
                print(shown("  e.g. " + " · ".join(tool["examples"])))
    for name, state in status.items():
        if state != "up":
            print(f"crane: MCP server {name} is down", file=sys.stderr)
    return EXIT_OK if all(state == "up" for state in status.values()) else EXIT_FAILED


COMMANDS = {"ask": cmd_ask, "chat": cmd_chat, "todos": cmd_todos, "runs": cmd_runs,
            "usage": cmd_usage, "db": cmd_db, "tools": cmd_tools}  # fmt: skip
