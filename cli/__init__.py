"""`crane` — ask, chat, todos, runs and serve. Arguments in `cli.args`, the commands in
`cli.commands`, what they print in `cli.render`."""

from __future__ import annotations

import argparse
import sys

from cli.args import (
    EXIT_BROKEN_PIPE,
    EXIT_FAILED,
    EXIT_REFUSED,
    Refused,
    parser,
    refuse_undecodable,
)
from cli.commands import COMMANDS, close_opened, cmd_serve
from cli.render import stdout_gone, terminal_logging


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
        refuse_undecodable(args)
        return _dispatch(args)
    except Refused as refused:
        print(str(refused), file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # stdout closed early: exit quietly, like other Unix tools
        stdout_gone()
        return EXIT_BROKEN_PIPE
    finally:
        close_opened()  # a PostgreSQL pool's threads end here, not at interpreter exit


def _dispatch(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from core.errors import CraneError, InvalidInput, LimitReached, NotFound, Unavailable
    from core.settings import Settings, malformed

    try:
        if args.command == "serve":
            return cmd_serve(args)
        terminal_logging()
        return COMMANDS[args.command](args)
    # bad input, no database at start-up, or a run limit: nothing was stored
    except (InvalidInput, Unavailable, LimitReached) as error:
        raise Refused(f"crane: {error}") from error
    except ValidationError as error:
        if error.title != Settings.__name__:
            raise
        raise Refused(f"crane: {malformed(error)}") from None  # a bad env var: one line, exit 2
    except (NotFound, CraneError) as error:
        print(f"crane: {error}", file=sys.stderr)
        return EXIT_FAILED
