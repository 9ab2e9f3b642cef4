"""``ccsim whatif``: a local web page to change a scenario's inputs and compare the variant
with the base on common random numbers (:mod:`ccsim.whatif.server`)."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from ccsim.cli.options import (
    add,
    add_command,
    int_at_least,
    jobs,
    option,
    output_path,
    percent_or_share,
)

__all__ = ["add_parser", "max_replications", "port", "precision", "whatif"]

#: The most replications ``--max-replications`` may ask for: a page is for questions
#: answered in minutes; a larger study is an experiment file.
MAX_WHATIF_REPLICATIONS = 1000


def precision(text: str) -> float:
    """``--precision``: the half-width asked of the paired differences, relative to the base
    (``10%`` or ``0.1``), in (0, 1)."""
    value = percent_or_share(text)
    if not 0 < value < 1:
        raise ValueError(f"must be between 0% and 100% of the base, got {text!r}")
    return value


def port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError(f"a port is 0 to 65535, got {value}")
    return value


def max_replications(text: str) -> int:
    value = int_at_least(5)(text)  # the stopping rule's first batch is 5 replications
    if value > MAX_WHATIF_REPLICATIONS:
        raise ValueError(f"at most {MAX_WHATIF_REPLICATIONS} on the page, got {value:,}")
    return value


def add_parser(commands) -> None:
    parser = add_command(
        commands,
        "whatif",
        "a what-if page in the browser: change a scenario's inputs, run, see each difference",
        "Starts a local web page (http://127.0.0.1, a free port, printed and opened) with the\n"
        "scenario's key inputs as a form. Run simulates the base and the variant on common\n"
        "random numbers until the paired differences are known to --precision, and shows each\n"
        "KPI for both, the difference with its 95% interval, the service level through the\n"
        "week and the cost. Every run is kept in its own folder under --out; Save variant\n"
        "writes the variant's scenario file and the experiment file that reproduces it.\n"
        "Ctrl-C stops the server and cancels a running comparison.",
        "  ccsim whatif configs/planner/voice_week.yaml\n"
        "  ccsim whatif configs/planner/chat_week.yaml --jobs 2 --precision 5%\n"
        "  ccsim whatif configs/example.yaml --no-browser --port 8050",
    )
    parser.set_defaults(handler=whatif)
    add(parser, "scenario", type=Path, help="the base scenario's YAML file")
    add(
        parser,
        "--port",
        type=option(port, "--port"),
        default=0,
        help="the port on 127.0.0.1; 0: a free one",
    )
    add(
        parser,
        "--no-browser",
        action="store_true",
        help="print the address, open no browser (without a desktop none is opened anyway)",
    )
    add(parser, "--seed", type=option(int_at_least(0), "--seed"), default=2026, help="root seed")
    add(
        parser,
        "--jobs",
        type=option(jobs, "--jobs"),
        default=1,
        help="worker processes of each comparison, at most 4 per core; -1: all cores",
    )
    add(
        parser,
        "--out",
        type=option(output_path, "--out"),
        help="where each run's folder goes (default results/whatif/<scenario name>)",
    )
    add(
        parser,
        "--max-replications",
        type=option(max_replications, "--max-replications"),
        default=40,
        help="the most replications a comparison runs, 5 to 1000",
    )
    add(
        parser,
        "--precision",
        type=option(precision, "--precision"),
        default=0.1,
        help="stop when every paired difference's 95%% half-width is within this share of "
        "the base's value (10%% or 0.1)",
    )


def whatif(args) -> int:
    from ccsim.whatif.server import Settings, serve

    out = args.out or Path("results") / "whatif" / args.scenario.stem
    settings = Settings(
        scenario=args.scenario,
        out=out,
        seed=args.seed,
        jobs=args.jobs,
        max_replications=args.max_replications,
        relative_half_width=args.precision,
    )

    def announce(url: str) -> None:
        print(f"ccsim whatif: {url} (Ctrl-C stops the server)", flush=True)

    # Ctrl-C and SIGTERM (an interrupt here) end the server: werkzeug's loop takes the
    # interrupt itself and returns, an interrupt outside it comes here; either way the
    # running comparison has been cancelled.
    with contextlib.suppress(KeyboardInterrupt):
        serve(settings, port=args.port, open_browser=not args.no_browser, announce=announce)
    print(f"ccsim whatif: stopped; the runs are in {out}", file=sys.stderr)
    return 0
