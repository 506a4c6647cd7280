"""What `crane` accepts on its command line, and how it refuses the rest."""

from __future__ import annotations

import argparse
from typing import NoReturn

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for `yes | head -1`


class Refused(Exception):
    """A request-level problem: one line on stderr, nothing stored, exit 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one clear line, not a usage dump
        raise Refused(f"{self.prog}: {message}")


def parser() -> Parser:
    parser = Parser(prog="crane", description="Crane: plain-word requests → tool steps.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    def with_db(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument(
            "--db", help="SQLite file or postgresql:// URL (default: $CRANE_DB, else ./crane.db)"
        )
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

    usage = with_db(commands.add_parser("usage", help="runs, tokens and cost per user per day"))
    usage.add_argument("--user", help="only this user")
    usage.add_argument("--workspace", help="only this workspace (Slack team id)")
    usage.add_argument("--days", type=int, default=7, help="UTC days back, today included")
    usage.add_argument("--json", action="store_true")

    db = commands.add_parser("db", help="the database")
    db_sub = db.add_subparsers(dest="db_command", required=True, parser_class=Parser)
    with_db(db_sub.add_parser("upgrade", help="apply pending schema migrations, then exit"))

    tools = commands.add_parser("tools", help="every tool, built-in or from an MCP server")
    tools.add_argument("--json", action="store_true")

    serve = commands.add_parser("serve", help="the Slack/HTTP server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    return parser


def refuse_undecodable(args: argparse.Namespace) -> None:
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
