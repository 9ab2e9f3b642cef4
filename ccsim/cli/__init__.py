"""Command line: ccsim run, experiment, report, erlang, staff, fit, forecast, schema and whatif.

One module per command defines its parser (``add_parser``) and its handler; :mod:`.options`
holds what they share. Bad input ends with one line on stderr naming the file, line, column
and field (or the option) and exit status 2, before any simulation when the output folder
cannot be written or another run holds it. No table is written unless the whole run
succeeded, and the tables of a run are committed together with their manifest
(:mod:`ccsim.experiment.folder`).

Start-up is kept short (``ccsim --help``, ``--version`` and ``erlang`` answer in a fraction
of a second): pandas, scipy, the simulator, the experiment runner and the planning modules
are imported inside the commands that use them, never at the top of a command's module.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import warnings

from ccsim.cli import erlang, experiment, fit, forecast, report, run, schema, staff, whatif
from ccsim.cli.options import EXIT_USAGE, Parser
from ccsim.model.errors import UserError
from ccsim.version import __version__

__all__ = ["build_parser", "main"]

_DESCRIPTION = """\
ccsim: discrete-event simulation of contact centres, checked against Erlang B/C/A.

Durations need a unit (20s, 4.5min, 8h, 1d, or compound: 2h30min, 1h 30min) and
rates what they are per (600/h, 45/min, 100/30min), in files and in options alike."""

_EPILOG = """\
commands, most used first:
  ccsim erlang --rate 600/h --aht 4.5min --patience 90s --target 80/20s
  ccsim run configs/example.yaml --reps 20
  ccsim experiment experiments/operating_models.yaml --jobs -1
  ccsim report results/operating_models
  ccsim staff configs/example.yaml --target 80/20s
  ccsim fit contacts.csv --out fitted.yaml
  ccsim forecast history.csv --weeks 4
  ccsim schema --out ccsim.schema.json
  ccsim whatif configs/planner/voice_week.yaml

'ccsim COMMAND --help' shows each command's options; docs/planner.md walks through two
planning questions end to end, with the commands and with the what-if page."""

#: The commands in the order ``ccsim --help`` lists them.
_COMMANDS = (run, experiment, report, erlang, staff, schema, fit, forecast, whatif)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command; each sets ``handler``, the function that runs it."""
    parser = Parser(prog="ccsim", description=_DESCRIPTION, epilog=_EPILOG)
    parser.add_argument(
        "--version", action="version", version=f"ccsim {__version__}", help="print the version"
    )
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=Parser, metavar="COMMAND"
    )
    for command in _COMMANDS:
        command.add_parser(commands)
    return parser


class _Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an interrupt so that workers are stopped and files closed."""


def _terminate(signum, frame) -> None:
    raise _Terminated


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "erlang" and (problem := erlang.usage_error(args)):
        parser.error(problem)
    if threading.current_thread() is not threading.main_thread():  # signals need the main one
        return _dispatch(args)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _dispatch(args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _dispatch(args) -> int:
    # Library warnings (numpy's "invalid value encountered", scipy's convergence notes) are
    # held until the command ends and printed after its output; dropped when it ends in one
    # line of ours (they would precede and bury it) or is interrupted.
    with warnings.catch_warnings(record=True) as held:
        warnings.simplefilter("default")
        status = _handle(args)
    if status not in (EXIT_USAGE, 130, 128 + signal.SIGTERM):
        for message in _distinct(held):
            print(f"ccsim: warning: {message}", file=sys.stderr)
    return status


def _distinct(held) -> list[str]:
    seen: dict[str, None] = {}
    for warning in held:
        seen.setdefault(f"{warning.message} ({warning.category.__name__})", None)
    return list(seen)


def _handle(args) -> int:
    try:
        return args.handler(args)
    except UserError as exc:
        print(f"ccsim: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (RecursionError, MemoryError) as exc:
        # Input too big or too deep for what the loaders check (they refuse what they
        # know of): still one line, not a traceback.
        what = "nested too deeply" if isinstance(exc, RecursionError) else "too large for memory"
        print(f"ccsim: the input is {what} ({type(exc).__name__})", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # output piped into `head` and the like: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt as exc:
        status = 128 + signal.SIGTERM if isinstance(exc, _Terminated) else 130
        if args.command == "experiment":
            print(
                "ccsim: interrupted; finished blocks are saved: run the same command again to "
                "continue",
                file=sys.stderr,
            )
        else:
            print("ccsim: interrupted; nothing was written", file=sys.stderr)
        return status
