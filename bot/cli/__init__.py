"""The `roasbot` command line: parsing (`parser`), the sub-commands (`commands`), the console
(`console`) and what they share (`context`). Errors come out as one line (`--debug` shows the
traceback), because the people running this are marketers and ops folks, not the authors."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence

from bot.cli.context import one_line
from bot.cli.parser import build_parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = logging.StreamHandler()
    # Tracebacks belong in a server's log; on the terminal they are shown with --debug only.
    keep = args.debug or args.command in ("serve", "scheduler")
    handler.setFormatter(
        (logging.Formatter if keep else _OneLine)("%(levelname)s %(name)s: %(message)s")
    )
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, handlers=[handler])
    func: Callable = args.func
    try:
        return func(args)
    except KeyboardInterrupt:
        print("roasbot: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for the user; the traceback with --debug
        if args.debug:
            raise
        print(f"roasbot: error: {one_line(exc)}", file=sys.stderr)
        return 1


class _OneLine(logging.Formatter):
    """Log records without their tracebacks: the message says what happened."""

    def format(self, record: logging.LogRecord) -> str:
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return super().format(record)
