"""`crane` — ask, chat, todos, runs (and serve, from the Slack side)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from core.plan import Run, RunEvent, Scope
    from core.runtime import Crane

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for `yes | head -1`


class Refused(Exception):
    """A request-level problem: one line on stderr, nothing stored, exit 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one clear line, not a usage dump
        raise Refused(f"{self.prog}: {message}")


def _parser() -> Parser:
    parser = Parser(prog="crane", description="Crane: plain-word requests → tool steps.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    def with_db(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument("--db", help="SQLite file (default: $CRANE_DB, else ./crane.db)")
        return sub

    ask = with_db(commands.add_parser("ask", help="run one request"))
    ask.add_argument("text")
    ask.add_argument("--user", default="local")
    ask.add_argument("--thread", help="conversation id, so follow-ups resolve")
    ask.add_argument("--json", action="store_true", help="print the run record as JSON")

    chat = with_db(commands.add_parser("chat", help="an interactive conversation"))
    chat.add_argument("--user", default="local")
    chat.add_argument("--thread", help="conversation id (default: a new one)")

    todos = with_db(commands.add_parser("todos", help="list your todos"))
    todos.add_argument("--user", default="local")
    todos.add_argument("--all", action="store_true", help="include done todos")
    todos.add_argument("--json", action="store_true")

    runs = with_db(commands.add_parser("runs", help="past runs, newest first"))
    runs.add_argument("--limit", type=int, default=20)
    runs.add_argument("--json", action="store_true")
    runs_sub = runs.add_subparsers(dest="runs_command", parser_class=Parser)
    # SUPPRESS: otherwise the sub-command's defaults overwrite `runs --db X --json show ID`.
    show = runs_sub.add_parser("show", help="one run")
    show.add_argument("--db", default=argparse.SUPPRESS, help="SQLite file")
    show.add_argument("id")
    show.add_argument("--json", action="store_true", default=argparse.SUPPRESS)

    serve = commands.add_parser("serve", help="the Slack/HTTP server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        _refuse_undecodable(args)
        return _dispatch(args)
    except Refused as refused:
        print(str(refused), file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # stdout closed early: exit quietly, like other Unix tools
        _stdout_gone()
        return EXIT_BROKEN_PIPE


def _stdout_gone() -> None:
    # Python flushes stdout again at exit; point it at /dev/null so that flush cannot fail.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _refuse_undecodable(args: argparse.Namespace) -> None:
    """Bytes that are not UTF-8 reach argv as lone surrogates, which SQLite cannot store or
    look up: refuse them as bad input (the request text is checked by clean_request, and
    --db is a file name, where any bytes are fine)."""
    for name, value in vars(args).items():
        if name in ("text", "db") or not isinstance(value, str):
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            label = "the run id" if name == "id" else f"--{name}"
            raise Refused(f"crane: {label} is not valid text (it is not UTF-8)") from None


class _OneLine(logging.Formatter):
    """Terminal logs: one line each; tracebacks belong in the server's logs, not here."""

    def format(self, record: logging.LogRecord) -> str:
        return f"crane: {record.getMessage()}"


def _terminal_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine())
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)


def _dispatch(args: argparse.Namespace) -> int:
    from core.errors import CraneError, InvalidInput, NotFound

    if args.command == "serve":
        from server import serve

        return serve(args.host, args.port)
    _terminal_logging()
    try:
        return COMMANDS[args.command](args)
    except InvalidInput as error:
        raise Refused(f"crane: {error}") from error
    except (NotFound, CraneError) as error:
        print(f"crane: {error}", file=sys.stderr)
        return EXIT_FAILED


# C0 and C1 control characters but new line and tab: a title or request holding "\x1b[2J" must
# not drive the terminal of whoever lists it (`crane runs` shows every user's requests).
_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)] if c not in (9, 10)}


def shown(text: str) -> str:
    """Text for a terminal: control characters made visible as \\xNN; JSON output is unchanged."""
    return text.translate(_CONTROLS)


def dump(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def _crane(args: argparse.Namespace) -> Crane:
    from core.app import build

    if args.db is not None and not args.db.strip():
        raise Refused("crane: --db must name a file")
    return build(db=args.db)


def _scope(user: str) -> Scope:
    from core.plan import Scope

    if not user.strip():
        raise Refused("crane: --user must not be empty")
    return Scope(user_id=user)


def _print_event(event: RunEvent) -> None:
    """Live progress: the plan, then each step as it starts and finishes."""
    if event.type == "run.started":
        steps = event.data["run"]["steps"]
        if steps:
            print("Plan:")
            for step in steps:
                print(f"  {step['index']}. {step['tool']} {json.dumps(step['args'])}")
    elif event.type == "step.started":
        step = event.data["step"]
        print(f"⏳ step {step['index']} {step['tool']} running…", flush=True)
    elif event.type == "step.finished":
        step = event.data["step"]
        if step["status"] == "completed":
            print(f"✅ step {step['index']} {step['tool']}: {shown(step['output'])}", flush=True)
        else:
            tries = f" after {step['attempts']} attempts" if step["attempts"] > 1 else ""
            print(f"❌ step {step['index']} {step['tool']} failed{tries}: {shown(step['error'])}")


class _Live:
    """The progress printer; once stdout is gone (`crane ask … | head -1`) it stops printing
    rather than fail, and log, on every later event. The run itself goes on to the end."""

    def __init__(self) -> None:
        self.closed = False

    def __call__(self, event: RunEvent) -> None:
        if self.closed:
            return
        try:
            _print_event(event)
        except BrokenPipeError:
            self.closed = True


def _ask_once(crane: Crane, scope: Scope, text: str, thread: str | None, live: bool) -> Run:
    unsubscribe = crane.orchestrator.subscribe(_Live()) if live else None
    try:
        return crane.ask(scope, text, thread)
    finally:
        if unsubscribe:
            unsubscribe()


def cmd_ask(args: argparse.Namespace) -> int:
    from core.runtime import clean_request

    text = clean_request(args.text)  # refuse before the database is even opened
    scope = _scope(args.user)
    run = _ask_once(_crane(args), scope, text, args.thread, live=not args.json)
    if args.json:
        dump(run.record())
    else:
        print(shown(run.answer or ""))
    return EXIT_OK if run.status.value == "completed" else EXIT_FAILED


def cmd_chat(args: argparse.Namespace) -> int:
    from core.errors import InvalidInput
    from core.runtime import new_run_id

    crane, scope = _crane(args), _scope(args.user)
    thread = args.thread or f"chat-{new_run_id()}"
    print(f"Crane chat (conversation {thread}). Try: calculate 2+3 · add a todo to buy milk · "
          "list my todos. Ctrl-D to quit.")  # fmt: skip
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
        except InvalidInput as error:
            print(f"crane: {error}")
            continue
        print(f"crane> {shown(run.answer or '')}")


def cmd_todos(args: argparse.Namespace) -> int:
    scope = _scope(args.user)
    found = _crane(args).store.list_todos(scope, include_done=args.all)
    if args.json:
        dump([todo.record() for todo in found])
        return EXIT_OK
    if not found:
        print("No todos." if args.all else "No open todos.")
    for todo in found:
        print(f"#{todo.number} {'[x]' if todo.done else '[ ]'} {shown(todo.title)}")
    return EXIT_OK


def _describe(run: Run) -> str:
    head = f"{run.id}  {run.status.value:<9}  {run.created_at:%Y-%m-%d %H:%M:%S}  {run.text}"
    lines = [head]
    planner = f"    planner: {run.planner}"
    if run.fallback_reason:
        planner += f" (fell back: {run.fallback_reason})"
    if run.usage:
        u = run.usage
        cost = f"${u.cost_usd:.6f}" if u.cost_usd is not None else "cost unknown"
        planner += (f" · {u.model} · {u.prompt_tokens} prompt + {u.completion_tokens} completion"
                    f" tokens ({u.cached_tokens} cached) · {cost}")  # fmt: skip
    lines.append(planner)
    for step in run.steps:
        detail = step.output if step.status.value == "completed" else step.error or ""
        lines.append(f"    {step.index}. {step.tool} {step.status.value}: {detail or ''}")
    return "\n".join(lines)


def cmd_runs(args: argparse.Namespace) -> int:
    if args.runs_command != "show" and not 1 <= args.limit <= 1000:
        raise Refused("crane: --limit must be between 1 and 1000")
    crane = _crane(args)
    if args.runs_command == "show":
        run = crane.store.get_run(args.id)
        if args.json:
            dump(run.record())
        else:
            print(shown(_describe(run)))
            print(f"answer: {shown(run.answer or '')}")
        return EXIT_OK
    found = crane.store.list_runs(limit=args.limit)
    if args.json:
        dump([run.record() for run in found])
    else:
        for run in found:
            print(shown(_describe(run)))
    return EXIT_OK


COMMANDS = {"ask": cmd_ask, "chat": cmd_chat, "todos": cmd_todos, "runs": cmd_runs}


if __name__ == "__main__":
    sys.exit(main())
