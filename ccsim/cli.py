"""Command line: ccsim run, experiment, report, erlang, staff, fit, forecast and schema.

Bad input ends with one line on stderr naming the file, line, column and field (or the
option) and exit status 2, before any simulation when the output folder cannot be written
or another run holds it. No table is written unless the whole run succeeded, and the tables
of a run are committed together with their manifest (:mod:`ccsim.experiment.folder`).

Start-up is kept short (``ccsim --help``, ``--version`` and ``erlang`` answer in a fraction
of a second): pandas, scipy, the simulator, the experiment runner and the planning modules
are imported inside the commands that use them, never at the top of this module.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import threading
import time
from pathlib import Path

from ccsim.model.errors import UserError
from ccsim.model.units import UNIT_SECONDS, format_duration, parse_duration, parse_rate
from ccsim.version import __version__

__all__ = ["main"]

EXIT_USAGE = 2

_DESCRIPTION = """\
ccsim: discrete-event simulation of contact centres, checked against Erlang B/C/A.

Durations need a unit (20s, 4.5min, 8h, 1d) and rates what they are per (600/h,
45/min, 100/30min), in files and in options alike."""

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

'ccsim COMMAND --help' shows each command's options; docs/planner.md walks through two
planning questions end to end."""

#: ``ccsim staff --method`` (:data:`ccsim.planning.staffing.METHODS`), written out here so
#: that building the parser does not import the planning modules.
STAFFING_METHODS = ("erlang-c", "erlang-a", "simulation")

#: ``ccsim experiment --backend`` (:data:`ccsim.experiment.backends.BACKENDS`).
BACKENDS = ("loky", "dask")


def parse_target(text: str):
    """``ccsim staff --target``: :func:`ccsim.planning.staffing.parse_target`, loaded when used."""
    from ccsim.planning.staffing import parse_target as parse

    return parse(text)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (no usage dump), exit status 2, and
    keeps the line breaks of descriptions and examples."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def _option(parse, what: str):
    def convert(text: str):
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{what}: {exc}") from None

    return convert


def _int_at_least(minimum: int):
    def convert(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise ValueError(f"must be at least {minimum}, got {value}")
        return value

    return convert


_positive_int, _non_negative_int = _int_at_least(1), _int_at_least(0)


def _jobs(text: str) -> int:
    value = int(text)
    if value == 0 or value < -1:
        raise ValueError("must be a positive number of workers, or -1 for all cores")
    return value


#: ``ccsim erlang --agents``: the most agents in a row (Erlang B's recursion is linear in
#: them) and the most rows, so that a typo such as 1-10000000000 is an error, not a hang.
_MAX_ERLANG_AGENTS = 100_000
_MAX_ERLANG_ROWS = 200
#: The domain where the formulas are evaluated reliably and fast. Offered loads beyond the
#: largest need more agents than a table may list; patience beyond 10,000 handle times is no
#: abandonment to speak of (use Erlang C) and makes the Erlang A series slow (its terms grow
#: with n x patience / aht); below 1/10,000 of one, nobody waits at all.
_ERLANG_LOADS = (1e-6, 1e6)
_PATIENCE_RATIO = 1e4


def _agent_counts(text: str) -> list[int]:
    """``14``, ``12,14,16`` or a range ``12-16``."""
    counts: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        first, last = int(low), int(high or low)
        if first < 1 or last < first:
            raise ValueError(f"expected agents like 14, 12,14 or 12-16, got {text!r}")
        if last > _MAX_ERLANG_AGENTS:
            raise ValueError(f"at most {_MAX_ERLANG_AGENTS:,} agents, got {last:,}")
        if len(counts) + last - first + 1 > _MAX_ERLANG_ROWS:
            raise ValueError(f"at most {_MAX_ERLANG_ROWS:,} agent counts in one table")
        counts.extend(range(first, last + 1))
    return counts


def _service_target(text: str) -> tuple[float, float]:
    """``80/20s`` (or ``80%/20s``): (0.8, 20.0), the share and the threshold in seconds."""
    share, slash, threshold = str(text).partition("/")
    if not slash:
        raise ValueError(f"expected a target like 80/20s (80% within 20 seconds), got {text!r}")
    percent = float(share.strip().rstrip("%"))
    if not 0 < percent <= 100:
        raise ValueError(f"the share must be in (0, 100] percent, got {text!r}")
    return percent / 100, _duration(threshold.strip())


def _shrinkage(text: str) -> float:
    """``30%`` or ``0.3``: a share of paid time off the phones, in [0, 1)."""
    value = float(text.strip().rstrip("%")) / (100 if text.strip().endswith("%") else 1)
    if not 0 <= value < 1:
        raise ValueError(f"must be in [0, 1) (or 0% to 99%), got {text!r}")
    return value


def _add(parser, *names, help: str, **options) -> None:  # noqa: A002 - argparse's word
    """An option whose help ends with its default, when it has one worth saying."""
    default = options.get("default")
    if default not in (None, False) and "default" not in help:
        help += " (default %(default)s)"
    parser.add_argument(*names, help=help, **options)


def _command(commands, name: str, summary: str, description: str, examples: str):
    return commands.add_parser(
        name,
        help=summary,
        description=f"{summary}.\n\n{description}" if description else f"{summary}.",
        epilog="examples:\n" + examples,
    )


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ccsim", description=_DESCRIPTION, epilog=_EPILOG)
    parser.add_argument(
        "--version", action="version", version=f"ccsim {__version__}", help="print the version"
    )
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, metavar="COMMAND"
    )

    run = _command(
        commands,
        "run",
        "run replications of one scenario file",
        "Prints each channel's KPIs that apply to the scenario, with 95% confidence intervals,\n"
        "in the units the file uses; writes replications.csv, intervals.csv, summary.csv.",
        "  ccsim run configs/example.yaml\n"
        "  ccsim run configs/example.yaml --reps 100 --jobs -1 --plot --out results/example",
    )
    _add(run, "config", type=Path, help="scenario YAML file, e.g. configs/example.yaml")
    _add(
        run,
        "--reps",
        type=_option(_positive_int, "--reps"),
        default=20,
        help="number of replications (independent days or weeks)",
    )
    _add(
        run,
        "--seed",
        type=_option(_non_negative_int, "--seed"),
        default=0,
        help="master seed: the same seed gives the same numbers",
    )
    _add(
        run,
        "--jobs",
        type=_option(_jobs, "--jobs"),
        default=1,
        help="worker processes; -1: all cores",
    )
    _add(run, "--out", type=Path, help="output folder (default results/<scenario name>)")
    _add(run, "--plot", action="store_true", help="also write OUT/run.html with figures")
    _add(
        run,
        "--record-contacts",
        action="store_true",
        help="also write OUT/contacts.csv, one row per contact (input for 'ccsim fit')",
    )
    _add(
        run,
        "--no-progress",
        action="store_true",
        help="no progress bar or progress lines (default: a bar on a terminal, a line every "
        "10 s elsewhere)",
    )

    experiment = _command(
        commands,
        "experiment",
        "run or resume an experiment file (scenarios, replications, common random numbers)",
        "Scenario variants of one base file, compared to a baseline replication by replication.\n"
        "Interrupted runs resume where they stopped: run the same command again.",
        "  ccsim experiment experiments/operating_models.yaml --jobs -1\n"
        "  ccsim experiment experiments/overflow.yaml --reps 10 --no-report",
    )
    _add(experiment, "file", type=Path, help="experiment YAML file, e.g. experiments/overflow.yaml")
    _add(
        experiment,
        "--reps",
        type=_option(_positive_int, "--reps"),
        help=(
            "a fixed number of replications, replacing the file's (and its stopping rule); "
            "also the most the frontier and the sensitivity run"
        ),
    )
    _add(
        experiment,
        "--jobs",
        type=_option(_jobs, "--jobs"),
        default=1,
        help="worker processes; -1: all cores",
    )
    _add(experiment, "--out", type=Path, help="output folder (default results/<experiment name>)")
    _add(
        experiment,
        "--backend",
        choices=BACKENDS,
        default="loky",
        help="where replications run: loky (this machine) or dask (a cluster)",
    )
    _add(
        experiment,
        "--scheduler",
        help="Dask scheduler address with --backend dask, e.g. tcp://host:8786",
    )
    _add(
        experiment,
        "--no-progress",
        action="store_true",
        help="no progress bar or progress lines (default: a bar on a terminal, a line every "
        "10 s elsewhere)",
    )
    _add(experiment, "--no-report", action="store_true", help="do not render OUT/report.html")

    report = _command(
        commands,
        "report",
        "render DIR/report.html (an experiment) or DIR/run.html (a run)",
        "",
        "  ccsim report results/operating_models",
    )
    _add(report, "dir", type=Path, help="an experiment's or a run's output folder")

    erlang = _command(
        commands,
        "erlang",
        "exact M/M/n (Erlang C) or M/M/n+M (Erlang A) figures, or the agents a target needs",
        "Steady state, Poisson arrivals, exponential handle times (and patience with\n"
        "--patience). Give --agents for a table, --target to find the fewest agents that\n"
        "meet it (marked <= in the table), or both.",
        "  ccsim erlang --rate 600/h --aht 4.5min --patience 90s --target 80/20s\n"
        "  ccsim erlang --rate 600/h --aht 4.5min --target 80/20s --max-occupancy 0.85 "
        "--shrinkage 30%\n"
        "  ccsim erlang --rate 10/min --aht 180s --agents 28-36 --service-levels",
    )
    _add(
        erlang,
        "--rate",
        required=True,
        type=_option(parse_rate, "--rate"),
        help="arrival rate with its period: 600/h, 10/min, 100/30min",
    )
    _add(
        erlang,
        "--aht",
        required=True,
        type=_option(_positive_duration, "--aht"),
        help="mean handle time with its unit: 270s, 4.5min",
    )
    _add(
        erlang,
        "--agents",
        type=_option(_agent_counts, "--agents"),
        help="agents on the phones: 40, 38,40,42 or a range 36-44 (default: around the "
        "--target's answer)",
    )
    _add(
        erlang,
        "--target",
        type=_option(_service_target, "--target"),
        help="service level to meet: 80/20s = 80%% answered within 20 s (sets the threshold)",
    )
    _add(
        erlang,
        "--threshold",
        type=_option(_duration, "--threshold"),
        help="service-level threshold without a --target: 20s, 1min (default 20s)",
    )
    _add(
        erlang,
        "--patience",
        type=_option(_positive_duration, "--patience"),
        help="mean patience (exponential): 90s, 3min; gives Erlang A (default: nobody "
        "abandons, Erlang C)",
    )
    _add(
        erlang,
        "--max-occupancy",
        type=_option(_share, "--max-occupancy"),
        help="with --target: also keep occupancy at most this, e.g. 0.85",
    )
    _add(
        erlang,
        "--shrinkage",
        type=_option(_shrinkage, "--shrinkage"),
        help="with --target: share of paid time off the phones, 30%% or 0.3: agents to "
        "schedule = on the phones / (1 - shrinkage)",
    )
    _add(
        erlang,
        "--service-levels",
        action="store_true",
        help="also show the three service-level definitions side by side",
    )

    staff = commands.add_parser(
        "staff", help="agents required per interval, and the cheapest shifts that cover them"
    )
    staff.add_argument("config", type=Path, help="scenario YAML file")
    staff.add_argument(
        "--target",
        type=_option(parse_target, "--target"),
        help="e.g. 80/20s: 80%% within 20 s (default: each channel's service_level)",
    )
    staff.add_argument(
        "--max-occupancy",
        type=_option(_share, "--max-occupancy"),
        help="e.g. 0.85 (search: on voice and chat; with email filling idle time, 0.95)",
    )
    staff.add_argument(
        "--method",
        choices=[*STAFFING_METHODS, "search"],
        default="erlang-c",
        help="search: staff the whole scenario at least cost, judged by simulation",
    )
    staff.add_argument("--channel", action="append", help="plan this channel only (repeatable)")
    staff.add_argument(
        "--rule",
        choices=("lower_bound", "estimate"),
        default="lower_bound",
        help="simulation: an interval meets the target by the lower end of its confidence "
        "interval (default) or by its estimate",
    )
    staff.add_argument(
        "--reps",
        type=_option(_int_at_least(2), "--reps"),
        default=20,
        help="replications per simulation (default 20)",
    )
    staff.add_argument("--seed", type=_option(_non_negative_int, "--seed"), default=0)
    staff.add_argument(
        "--confidence", type=_option(_open_share, "--confidence"), default=0.95, help="of bands"
    )
    staff.add_argument("--jobs", type=_option(_jobs, "--jobs"), default=1, help="-1: all cores")
    staff.add_argument(
        "--out", type=Path, help="output directory (default results/<name>-staffing)"
    )
    staff.add_argument(
        "--shift-lengths",
        type=_option(_durations, "--shift-lengths"),
        default=[8.5 * 3600, 4 * 3600],
        help="generated templates, for sites without shifts (default 8.5h,4h)",
    )
    staff.add_argument(
        "--shift-step",
        type=_option(_positive_duration, "--shift-step"),
        default=1800.0,
        help="between generated shift starts (default 30min)",
    )
    staff.add_argument(
        "--min-headcount", type=_option(_non_negative_int, "--min-headcount"), default=0
    )
    staff.add_argument(
        "--max-headcount", type=_option(_non_negative_int, "--max-headcount"), help="per shift"
    )
    staff.add_argument(
        "--time-limit",
        type=_option(_positive_duration, "--time-limit"),
        default=60.0,
        help="for the integer program (default 60s)",
    )
    search = staff.add_argument_group("search (--method search; docs/staffing.md)")
    search.add_argument(
        "--model", type=Path, help="write the staffed model here, extending CONFIG (a .yaml file)"
    )
    search.add_argument(
        "--full-time",
        type=_option(_durations, "--full-time"),
        default=[8.5 * 3600],
        help="full-time shift lengths (default 8.5h)",
    )
    search.add_argument(
        "--part-time",
        type=_option(_optional_durations, "--part-time"),
        default=[4 * 3600, 6 * 3600],
        help="part-time shift lengths (default 4h,6h; 'none' for none)",
    )
    search.add_argument(
        "--part-time-share",
        type=_option(_share_bounds, "--part-time-share"),
        default=(0.0, 0.5),
        help="lowest,highest share of a site's paid hours on part time (default 0,0.5)",
    )
    search.add_argument(
        "--tours", action="store_true", help="weekly tours of 5 days (days off chosen)"
    )
    search.add_argument("--days-off", choices=("consecutive", "any"), default="consecutive")
    search.add_argument(
        "--interval-floor",
        type=_option(_share, "--interval-floor"),
        default=0.15,
        help="intervals must reach the target less this (default 0.15: 15 points)",
    )
    search.add_argument(
        "--interval-share",
        type=_option(_share, "--interval-share"),
        default=0.95,
        help="share of intervals with demand that must reach the floor (default 0.95)",
    )
    search.add_argument("--max-rounds", type=_option(_int_at_least(1), "--max-rounds"), default=12)
    search.add_argument(
        "--mip-gap",
        type=_option(_share, "--mip-gap"),
        default=0.01,
        help="integer program: stop within this of its lower bound (default 0.01)",
    )
    search.add_argument(
        "--max-trim",
        type=_option(_non_negative_int, "--max-trim"),
        help="most simulations for trimming (default: until no shift can be removed)",
    )
    search.add_argument(
        "--frontier",
        action="store_true",
        help="also sweep 0.85x to 1.15x of the plan's headcounts into frontier.csv",
    )
    schema = _command(
        commands,
        "schema",
        "write the JSON Schema of scenario and experiment files, for editors",
        "Editors that read JSON Schema (VS Code's YAML extension, PyCharm) then complete\n"
        "keys and flag mistakes as you type; see the README for the one line that links it.",
        "  ccsim schema --out ccsim.schema.json\n"
        "  ccsim schema --kind experiment --out ccsim-experiment.schema.json",
    )
    _add(
        schema,
        "--kind",
        choices=("scenario", "experiment"),
        default="scenario",
        help="which files the schema describes",
    )
    _add(schema, "--out", type=Path, help="file to write (default: print to standard output)")
    _add_fit_commands(commands)
    return parser


def _add_fit_commands(commands) -> None:
    fit = _command(
        commands,
        "fit",
        "fit a scenario (demand, handle times, patience) to a contact log",
        "Reads one row per contact (arrival time, wait, handle time, outcome) and writes a\n"
        "scenario file that 'ccsim run' reads; --validate simulates it against the log.",
        "  ccsim fit contacts.csv --out fitted.yaml --validate\n"
        "  ccsim fit log.csv --out f.yaml --columns arrival=CallStart,wait=QueueSec "
        "--agents inhouse=20,vendor=12",
    )
    _add(fit, "records", type=Path, help="contact records CSV (one row per contact)")
    _add(fit, "--out", type=Path, required=True, help="the fitted scenario YAML to write")
    _add(
        fit,
        "--columns",
        type=_option(_record_columns, "--columns"),
        help="FIELD=COLUMN,... e.g. arrival=CallStart,wait=QueueSec",
    )
    _add(
        fit,
        "--outcomes",
        type=_option(_word_map, "--outcomes"),
        help="WORD=answered|abandoned,... for the log's outcome words, e.g. ANS=answered",
    )
    _add(
        fit,
        "--timezone",
        help="customers' IANA zone, e.g. America/New_York (default: the file's, else UTC)",
    )
    _add(
        fit,
        "--interval",
        type=_option(_positive_duration, "--interval"),
        default=1800.0,
        help="reporting interval of the fitted scenario: 30min, 15min (default 30min)",
    )
    _add(
        fit,
        "--threshold",
        type=_option(_duration, "--threshold"),
        default=20.0,
        help="service-level threshold of the fitted channels: 20s, 1min (default 20s)",
    )
    _add(
        fit,
        "--target",
        type=_option(_share, "--target"),
        default=0.8,
        help="service-level target of the fitted channels, a share: 0.8",
    )
    _add(
        fit,
        "--agents",
        type=_option(_site_agents, "--agents"),
        help="N, or SITE=N,...; default: the most busy at once in the log",
    )
    _add(fit, "--name", default="fitted", help="the scenario's name")
    _add(
        fit,
        "--forecast",
        type=_option(_positive_int, "--forecast"),
        metavar="WEEKS",
        help="demand from a forecast of the next WEEKS weeks, e.g. 4",
    )
    _add(
        fit,
        "--holdout",
        type=_option(_positive_int, "--holdout"),
        default=4,
        help="weeks held out to judge the forecast",
    )
    _add(
        fit,
        "--validate",
        action="store_true",
        help="simulate the fit; write validation.csv/.html beside --out",
    )
    _add(
        fit,
        "--reps",
        type=_option(_positive_int, "--reps"),
        default=20,
        help="replications of --validate",
    )
    _add(
        fit,
        "--seed",
        type=_option(_non_negative_int, "--seed"),
        default=1,
        help="seed of --validate",
    )
    _add(
        fit,
        "--jobs",
        type=_option(_jobs, "--jobs"),
        default=1,
        help="worker processes of --validate; -1: all cores",
    )

    forecast = _command(
        commands,
        "forecast",
        "forecast next weeks' volumes per interval from interval history",
        "Seasonal naive or Holt-Winters, whichever is better on the held-out weeks.",
        "  ccsim forecast history.csv --weeks 4 --out forecast.csv\n"
        "  ccsim forecast calls.csv --weeks 2 --columns interval_start=Start,volume=Calls",
    )
    _add(forecast, "history", type=Path, help="CSV: interval_start, volume[, channel]")
    _add(
        forecast,
        "--weeks",
        type=_option(_positive_int, "--weeks"),
        required=True,
        help="weeks to forecast, e.g. 4",
    )
    _add(forecast, "--out", type=Path, default=Path("forecast.csv"), help="CSV to write")
    _add(
        forecast,
        "--columns",
        type=_option(_history_columns, "--columns"),
        help="FIELD=COLUMN,... for interval_start, volume, channel",
    )
    _add(forecast, "--timezone", default="UTC", help="customers' IANA time zone")
    _add(
        forecast,
        "--holdout",
        type=_option(_positive_int, "--holdout"),
        default=4,
        help="weeks held out to judge the methods",
    )
    _add(
        forecast,
        "--method",
        choices=("seasonal_naive", "holt_winters"),
        help="default: the better on the hold-out",
    )


def _record_columns(text: str) -> dict[str, str]:
    from ccsim.fit.records import parse_columns  # scipy and friends: only for `ccsim fit`

    return parse_columns(text)


def _word_map(text: str) -> dict[str, str]:
    """``ANS=answered,ABN=abandoned``."""
    pairs = dict(part.split("=", 1) for part in text.split(",") if "=" in part)
    if not pairs or any(v not in ("answered", "abandoned") for v in pairs.values()):
        raise ValueError(f"expected WORD=answered or WORD=abandoned pairs, got {text!r}")
    return pairs


def _history_columns(text: str) -> dict[str, str]:
    pairs = dict(part.split("=", 1) for part in text.split(",") if "=" in part)
    unknown = set(pairs) - {"interval_start", "volume", "channel"}
    if not pairs or unknown:
        raise ValueError(f"expected interval_start=, volume=, channel= pairs, got {text!r}")
    return pairs


def _site_agents(text: str) -> int | dict[str, int]:
    """``25`` or ``inhouse=20,vendor=12``."""
    if "=" not in text:
        return _positive_int(text)
    pairs = (part.split("=", 1) for part in text.split(","))
    return {site.strip(): _positive_int(n) for site, n in pairs}


def _share(text: str) -> float:
    """A share in (0, 1]."""
    value = float(text)
    if not 0 < value <= 1:
        raise ValueError(f"must be in (0, 1], got {text!r}")
    return value


def _open_share(text: str) -> float:
    """A share in (0, 1), such as a confidence level."""
    value = float(text)
    if not 0 < value < 1:
        raise ValueError(f"must be in (0, 1), got {text!r}")
    return value


def _durations(text: str) -> list[float]:
    """``8.5h,4h``: positive durations."""
    return [_positive_duration(part) for part in text.split(",")]


def _duration(text: str, positive: bool = False) -> float:
    value = parse_duration(text)
    if value < 0 or (positive and value == 0) or math.isinf(value):
        raise ValueError(f"must be {'positive' if positive else 'at least 0'}, got {text!r}")
    return value


def _positive_duration(text: str) -> float:
    return _duration(text, positive=True)


def _format(kpi: str, value: float, reference: float | None = None) -> str:
    """A KPI's value on the terminal, in the unit and precision of ``reference`` if given."""
    from ccsim.report.formatting import format_value

    return format_value(kpi, value, reference=reference)


# --- which KPIs a scenario's terminal summary shows ------------------------------------------


#: KPIs that exist only where the scenario models what they measure, and what that is (a
#: test of the scenario and one channel, or None for the channels together). The terminal
#: leaves out the others (a cost of 0.00 where no cost was given, an FCR of 100% where no
#: resolution was modelled); summary.csv and the report keep every KPI.
def _features(scenario, channel) -> dict[str, bool]:
    channels = [channel] if channel is not None else list(scenario.channels.values())
    costs = any(site.cost_per_hour > 0 for site in scenario.sites) or any(
        c.bot is not None and (c.bot.cost_per_session > 0 or c.bot.cost_per_minute > 0)
        for c in channels
    )
    resolution = any(
        c.resolution < 1 or c.repeat is not None or c.escalation is not None or c.bot is not None
        for c in channels
    ) or any(site.resolution for site in scenario.sites)
    return {
        "costs": costs,
        "bot": any(c.bot is not None for c in channels),
        "bot_costs": costs and any(c.bot is not None for c in channels),
        "resolution": resolution,
        "patience": any(c.patience is not None for c in channels),
        "balking": any(c.balking is not None for c in channels),
        "message": any(c.message is not None for c in channels),
        "close": any(c.close is not None for c in channels),
        "callback": any(c.callback is not None for c in channels),
        "retrial": any(c.retrial is not None for c in channels),
        "lines": any(c.lines is not None for c in channels),
        "repeat": any(c.repeat is not None for c in channels),
        "escalation": any(c.escalation is not None for c in channels),
        "email": any(c.kind == "email" for c in channels),
        "staged": any(c.retrial is not None or c.staged for c in channels),
    }


_NEEDS = {
    "abandoned": "patience",
    "abandon_rate": "patience",
    "service_level_excl_short_abandons": "patience",
    "blocked": "lines",
    "contained": "bot",
    "containment_rate": "bot",
    "bot_cost": "bot_costs",
    "callbacks": "callback",
    "balked": "balking",
    "balk_rate": "balking",
    "messages": "message",
    "disconnected": "close",
    "retrials": "retrial",
    "repeat_contacts": "repeat",
    "backlog": "email",
    "labour_cost": "costs",
    "operating_cost": "costs",
    "cost_per_handled_contact": "costs",
    "cost_per_resolved_contact": "costs",
    "fcr": "resolution",
    "resolution_rate": "resolution",
    "mean_resolution_time": "resolution",
    "median_resolution_time": "resolution",
    "escalation_rate": "escalation",
    "service_level_total_wait": "staged",
}


def applicable_kpis(scenario, channel: str | None) -> list[str]:
    """The KPIs that measure something ``scenario`` models, for one channel (or None: the
    channels together), in the order of the KPI table."""
    from ccsim.sim.kpis import KPIS

    features = _features(scenario, scenario.channels[channel] if channel else None)
    return [name for name in KPIS if features.get(_NEEDS.get(name, ""), True)]


def _written_units(path: Path, scenario) -> dict[str, dict[str, str]]:
    """Per channel, the unit to show each duration KPI in: the handle time's as written in
    the file (an AHT given as 4.5min is shown in minutes), the threshold's for waits."""
    from ccsim.model.loading import read_scenario_mapping

    try:
        raw = read_scenario_mapping(path)
    except UserError:
        return {}
    units = {}
    for name in scenario.channels:
        spec = (raw.get("channels") or {}).get(name) or {}
        handle = _unit_of((spec.get("handle_time") or {}).get("mean"))
        wait = _unit_of((spec.get("service_level") or {}).get("threshold"))
        units[name] = {
            "aht": handle,
            "mean_resolution_time": handle,
            "median_resolution_time": handle,
            "asa": wait,
            "mean_wait": wait,
        }
    return units


def _unit_of(text) -> str | None:
    """``4.5min`` -> ``min``; ``90 seconds`` -> ``s``; None for anything else."""
    if not isinstance(text, str):
        return None
    unit = text.strip().lstrip("+-.0123456789eE").strip().lower()
    if unit not in UNIT_SECONDS:
        return None
    return {1.0: "s", 60.0: "min", 3600.0: "h", 86400.0: "d"}[UNIT_SECONDS[unit]]


def _in_unit(value: float, unit: str) -> str:
    return f"{value / UNIT_SECONDS[unit]:,.2f}{unit}" if math.isfinite(value) else "-"


def _print_summary(summary, n_reps: int, scenario=None, units=None) -> None:
    from ccsim.report.formatting import format_interval
    from ccsim.sim.kpis import SITE_SUMMARY

    units = units or {}
    whole = summary[summary.site == "all"]
    for channel, group in whole.groupby("channel", sort=False):
        shown = (
            applicable_kpis(scenario, channel if channel in scenario.channels else None)
            if scenario is not None
            else list(group["kpi"])
        )
        group = group[group["kpi"].isin(shown)]
        currency = getattr(scenario, "currency", "USD")
        print(
            f"\n{channel}  (95% confidence intervals over {n_reps} replications; "
            f"amounts in {currency})"
        )
        width = max(len(k) for k in group["kpi"])
        for row in group.itertuples():
            unit = units.get(channel, {}).get(row.kpi)
            if unit is not None:
                value = _in_unit(row.estimate, unit)
                interval = f"[{_in_unit(row.ci_low, unit)}, {_in_unit(row.ci_high, unit)}]"
            else:
                value = _format(row.kpi, row.estimate)
                interval = format_interval(row.kpi, row.ci_low, row.ci_high, row.estimate)
            print(f"  {row.kpi:<{width}}  {value:>10}  {interval}")
    sites = summary[(summary.site != "all") & (summary.channel == "all")]
    if sites.empty and scenario is not None and len(scenario.channels) == 1:
        sites = summary[(summary.site != "all")]
    if not sites.empty and sites.site.nunique() > 1:
        kpis = [k for k in SITE_SUMMARY if scenario is None or k in applicable_kpis(scenario, None)]
        table = sites.pivot_table(index="site", columns="kpi", values="estimate", sort=False)
        print("\nsites (estimates; intervals in summary.csv)")
        width = max(len(k) for k in kpis) + 2
        print(f"  {'site':<12}" + "".join(f"{k:>{width}}" for k in kpis))
        for site, row in table.iterrows():
            cells = "".join(f"{_format(k, row.get(k, math.nan)):>{width}}" for k in kpis)
            print(f"  {site:<12}{cells}")


def _run(args) -> int:
    from ccsim.experiment.folder import (
        commit_generation,
        output_folder,
        start_generation,
        writing_to,
    )
    from ccsim.experiment.summary import summarise
    from ccsim.files import write_csv

    scenario = load_scenario(args.config)
    out = args.out if args.out is not None else Path("results") / scenario.name
    with output_folder(out), writing_to(out, "the tables"):
        started = time.perf_counter()
        replications, staged = _simulate_into(out, scenario, args)
        summary = summarise(replications)
        elapsed = time.perf_counter() - started
        # One generation: the tables, then the manifest that lists them (ccsim.experiment.folder).
        start_generation(out)
        os.replace(staged, out / "intervals.csv")
        paths = [
            write_csv(out / "replications.csv", replications),
            out / "intervals.csv",
            write_csv(out / "summary.csv", summary),
        ]
        if args.record_contacts:
            paths.append(_write_contacts(out / "contacts.csv", scenario, args))
        facts = {"command": "run", "scenario": scenario.name, "file": str(args.config)}
        facts["currency"] = scenario.currency  # the page writes it after every amount
        facts |= {"replications": args.reps, "seed": args.seed, "ccsim": __version__}
        commit_generation(out, paths, facts)
    print(
        f"{scenario.name}: {args.reps} replications of {format_duration(scenario.horizon)} "
        f"(warm-up {format_duration(scenario.warmup)}), seed {args.seed}, "
        f"{elapsed:.1f}s wall"
    )
    _print_summary(summary, args.reps, scenario, _written_units(args.config, scenario))
    contacts = ", contacts.csv" if args.record_contacts else ""
    print(
        f"\nshown: the KPIs this scenario models; every KPI is in summary.csv\n"
        f"wrote {out}/: replications.csv, intervals.csv, summary.csv{contacts}, manifest.json"
    )
    if args.plot:
        from ccsim.report.run_page import render_run_page  # matplotlib: only when asked

        print(f"page: {render_run_page(out, scenario.name)}")
    return 0


def _write_contacts(path: Path, scenario, args) -> Path:
    """One row per contact of every replication (the seeds of the run: the same contacts)."""
    import pandas as pd

    from ccsim.experiment.replications import replication_seeds
    from ccsim.files import write_csv
    from ccsim.fit.records import contact_log
    from ccsim.sim.engine import simulate

    logs = [
        contact_log(simulate(scenario, seed, record_contacts=True), replication)
        for replication, seed in enumerate(replication_seeds(args.seed, args.reps))
    ]
    return write_csv(path, pd.concat(logs, ignore_index=True))


def _fit(args) -> int:
    from ccsim.experiment.folder import writing_to
    from ccsim.files import write_text
    from ccsim.fit import fit_centre, read_records, scenario_text

    records = read_records(args.records, args.columns, args.timezone, args.outcomes)
    fitted = fit_centre(
        records,
        args.interval,
        args.agents,
        args.threshold,
        args.target,
        args.forecast,
        args.holdout,
    )
    with writing_to(args.out.parent, "the fitted scenario"):
        write_text(args.out, scenario_text(fitted, args.name))
    scenario = load_scenario(args.out)  # the file must load as any scenario does
    runs = f" x {fitted.n_replications} runs" if fitted.n_replications > 1 else ""
    print(f"{args.records}: {len(records.frame):,} contacts, {fitted.n_days} day(s){runs}")
    for what, count in records.odd.items():
        print(f"  odd rows, kept: {what}: {count:,}")
    for channel in fitted.channels.values():
        print(f"\n{channel.name}  ({channel.n_contacts:,} contacts)")
        print(f"  busyness   {channel.demand.alpha.describe()}")
        print(f"  handle     {channel.handle_time.describe()}")
        if channel.patience is not None:
            print(f"  patience   {channel.patience.describe()}")
        if channel.forecast is not None:
            from ccsim.fit.forecast import describe

            print("  forecast   " + "\n  ".join(describe(channel.forecast)))
    agents = ", ".join(f"{site} {n}" for site, n in fitted.agents.items())
    how = "most busy at once in the log" if fitted.agents_estimated else "given"
    print(f"\nagents: {agents} ({how})\nwrote {args.out}")
    if args.validate:
        from ccsim.fit.validate import validate, write_validation

        result = validate(scenario, records, args.reps, args.seed, args.jobs)
        with writing_to(args.out.parent, "the validation"):
            paths = write_validation(args.out.parent, result, f"{scenario.name}: validation")
        print(f"\nvalidation: the log against {args.reps} simulated replications")
        for row in result.agreement().itertuples():
            verdict = {True: "agrees", False: "DIFFERS", None: "-"}[row.agrees]
            print(
                f"  {row.channel:<10} {row.kpi:<14} log {_format(row.kpi, row.observed):>10}  "
                f"simulated {_format(row.kpi, row.simulated):>10}  "
                f"[{_format(row.kpi, row.prediction_low)}, "
                f"{_format(row.kpi, row.prediction_high)}]  {verdict}"
            )
        print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def _forecast(args) -> int:
    from ccsim.experiment.folder import writing_to
    from ccsim.fit.forecast import describe, forecast_volumes, read_history, write_forecast

    histories = read_history(args.history, args.columns, args.timezone)
    results = {}
    for channel, series in histories.items():
        results[channel] = forecast_volumes(series, args.weeks, args.holdout, args.method)
        print(f"{channel}: " + "\n  ".join(describe(results[channel])))
    with writing_to(args.out.parent, "the forecast"):
        write_forecast(args.out, results)
    print(f"wrote {args.out}")
    return 0


def _simulate_into(out: Path, scenario, args):
    """Run the replications, writing their interval rows block by block (in replication
    order) to a temporary file in ``out``; return the replication rows and that file.
    Interval rows are most of the output: streaming them keeps memory flat in ``--reps``."""
    import pandas as pd

    from ccsim.experiment.replications import iter_replications

    for leftover in out.glob(".intervals.csv.*.tmp"):  # from a run killed mid-way
        leftover.unlink(missing_ok=True)
    staged = out / f".intervals.csv.{os.getpid()}.tmp"
    tables = []
    try:
        with open(staged, "w", encoding="utf-8", newline="") as handle:
            blocks = iter_replications(
                scenario,
                args.reps,
                seed=args.seed,
                n_jobs=args.jobs,
                intervals=True,
                progress=not args.no_progress,
            )
            for reps, rows in blocks:
                tables.append(reps)
                rows.to_csv(handle, index=False, header=handle.tell() == 0, lineterminator="\n")
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    return pd.concat(tables, ignore_index=True), staged


#: KPIs shown per scenario on the terminal, for all channels together; every KPI (per
#: channel and site) is in summary.csv and the report.
_HEADLINE = (
    "offered",
    "operating_cost",
    "cost_per_resolved_contact",
    "service_level",
    "asa",
    "abandon_rate",
    "fcr",
    "median_resolution_time",
    "mean_resolution_time",
    "occupancy",
)


def _experiment(args) -> int:
    from ccsim.experiment.backends import BackendError
    from ccsim.experiment.folder import output_folder
    from ccsim.study.spec import load_experiment

    if args.scheduler is not None and args.backend != "dask":
        raise BackendError("--scheduler only goes with --backend dask")
    experiment = load_experiment(args.file)
    out = args.out if args.out is not None else Path("results") / experiment.spec.name
    with output_folder(out):  # held until the report is drawn
        return _run_experiment(experiment, out, args)


def _command_line() -> str:
    """The command as typed, for the manifest: ``ccsim experiment x.yaml --jobs 2``."""
    return " ".join(["ccsim", *sys.argv[1:]]) if sys.argv and sys.argv[0] != "-c" else "ccsim"


#: What an experiment writes, in the order a reader wants them.
_EXPERIMENT_FILES = (
    "summary.csv",
    "comparisons.csv",
    "equal_service.csv",
    "frontier.csv",
    "targets.csv",
    "selection.csv",
    "sensitivity.csv",
    "replications.parquet",
    "intervals.parquet",
    "manifest.json",
)


def _print_answer(result, manifest) -> None:
    """The study's answer first, as the report gives it: the one sentence, how sure the
    selection is, and the targets each model misses at its plan."""
    from ccsim.report.answer import answer_sentence, read_study

    study = read_study(Path(result.out), manifest)
    channel = "all" if "all" in set(result.summary.channel) else result.summary.channel.iloc[0]
    sentence = answer_sentence(
        result.summary,
        result.comparisons,
        study,
        channel,
        manifest.get("baseline"),
        manifest.get("currency", "USD"),
    )
    lines = [sentence, study.selection_sentence]
    if study.targets is not None and "met" in study.targets:
        judged = study.targets[study.targets["met"].notna()]
        missed = judged[~judged["met"].astype(bool)]
        if judged.empty:
            pass
        elif missed.empty:
            lines.append("Every model meets every channel's targets at its plan (targets.csv).")
        else:
            which = ", ".join(f"{r.scenario} {r.channel}" for r in missed.itertuples())
            lines.append(f"Targets missed at the plan (targets.csv): {which}.")
    text = "\n".join(f"  {line}" for line in lines if line)
    if text:
        print(f"\nanswer:\n{text}")


def _overall(whole, scenario: str) -> str | None:
    """The row that stands for all of a scenario's channels: ``all`` where it has several,
    its one channel otherwise (scenarios of one experiment may have different channels)."""
    channels = set(whole.channel[whole.scenario == scenario])
    if "all" in channels:
        return "all"
    return next(iter(channels)) if len(channels) == 1 else None


def _run_experiment(experiment, out: Path, args) -> int:
    from ccsim.report.formatting import format_interval, format_plus_minus
    from ccsim.sim.kpis import KPIS
    from ccsim.study.run import run_experiment

    result = run_experiment(
        experiment,
        reps=args.reps,
        n_jobs=args.jobs,
        out=out,
        backend=args.backend,
        scheduler=args.scheduler,
        progress=not args.no_progress,
        command=_command_line(),
    )
    manifest = result.manifest
    stopped = " (precision target met)" if result.stopped_early else ""
    total = manifest.get("wall_time_total_s", manifest["wall_time_s"])
    sessions = manifest.get("sessions", 1)
    resumed = f"; {total:.1f}s over {sessions} sessions" if sessions > 1 else ""
    print(
        f"{manifest['experiment']}: {len(manifest['scenarios'])} scenarios x "
        f"{manifest['replications']} replications{stopped}, seed {manifest['seed']}, "
        f"common random numbers {'on' if manifest['common_random_numbers'] else 'off'}, "
        f"{manifest['wall_time_s']:.1f}s wall{resumed}"
    )
    if result.rule is not None:
        print(result.rule.describe(manifest["replications"], result.stopped_early))
    _print_answer(result, manifest)
    whole = result.summary[result.summary.site == "all"]
    scenarios = manifest["scenarios"]
    overall = {name: _overall(whole, name) for name in scenarios}
    index = whole.set_index(["scenario", "channel", "kpi"])

    def row_of(name: str, channel: str | None, kpi: str):
        key = (name, channel, kpi)
        return index.loc[key] if channel is not None and key in index.index else None

    table = []
    for kpi in _HEADLINE:
        rows = [row_of(name, overall[name], kpi) for name in scenarios]
        finite = [abs(r.estimate) for r in rows if r is not None and math.isfinite(r.estimate)]
        if not finite:
            continue
        reference = max(finite)  # one unit along the row
        cells = [
            "-" if r is None else format_plus_minus(kpi, r.estimate, r.half_width, reference)
            for r in rows
        ]
        table.append((kpi, cells))
    width = max(len(c) for _, cells in table for c in [*cells, *scenarios]) + 2
    names = set(overall.values())
    if names == {"all"}:
        label = "all channels"
    elif len(names) == 1:
        label = str(next(iter(names)))
    else:
        label = "all channels (a scenario of one channel: that channel)"
    print(f"\n{label}: estimate ± 95% half-width, amounts in {manifest.get('currency', 'USD')}")
    print(f"  {'':<26}" + "".join(f"{name:>{width}}" for name in scenarios))
    for kpi, cells in table:
        print(f"  {kpi:<26}" + "".join(f"{c:>{width}}" for c in cells))
    channels = [c for c in whole.channel.unique() if c != "all"]
    if len(channels) > 1:
        print("\nservice level by channel ('-': the scenario has no such channel)")
        for channel in channels:
            cells = []
            for name in scenarios:
                row = row_of(name, channel, "service_level")
                cells.append("-" if row is None else _format("service_level", row.estimate))
            print(f"  {channel:<26}" + "".join(f"{c:>{width}}" for c in cells))
    if not result.comparisons.empty:
        comparisons = result.comparisons
        paired = comparisons[
            comparisons.significant & comparisons.kpi.isin(_HEADLINE) & (comparisons.site == "all")
        ]
        significant = paired[
            [overall.get(row.scenario) == row.channel for row in paired.itertuples()]
        ]
        print(f"\npaired differences to {manifest['baseline']} (significant, Holm-adjusted, 5%):")
        if significant.empty:
            print("  none")
        for row in significant.itertuples():
            relative = (
                f" ({row.difference / row.baseline_value:+.1%})"
                if row.baseline_value and KPIS[row.kpi].kind != "share"
                else ""
            )
            interval = format_interval(
                row.kpi, row.ci_low, row.ci_high, row.difference, signed=True, difference=True
            )
            difference = _signed(row.kpi, row.difference)
            print(f"  {row.scenario} {row.kpi}: {difference}{relative} {interval}")
    written = [name for name in _EXPERIMENT_FILES if (Path(result.out) / name).exists()]
    print(f"\nwrote {result.out}/: {', '.join(written)}")
    if not args.no_report:
        from ccsim.report.html import render_report

        print(f"report: {render_report(result.out)}")
    return 0


def _report(args) -> int:
    from ccsim.report.html import render_report
    from ccsim.report.run_page import is_run_folder, render_run_page

    render = render_run_page if is_run_folder(args.dir) else render_report
    print(f"wrote {render(args.dir)}")
    return 0


def _signed(kpi: str, value: float) -> str:
    """A difference: percentage points for shares, the KPI's own unit otherwise."""
    from ccsim.report.formatting import format_value

    return format_value(kpi, value, signed=True, difference=True)


#: ``ccsim erlang``: the columns of the table (Erlang C leaves out what is zero without
#: abandonment), and the service-level definitions shown with --service-levels.
_ERLANG_COLUMNS = ("p_wait", "service_level", "asa", "occupancy", "mean_queue_length")
_ERLANG_A_COLUMNS = (
    "p_wait",
    "service_level",
    "asa",
    "mean_wait",
    "abandon_rate",
    "occupancy",
    "mean_queue_length",
)
_SERVICE_LEVELS = {
    "service_level": "of all queued",
    "service_level_answered": "of answered",
    "service_level_excl_short_abandons": "excl. short abandons",
}
_SERVICE_LEVEL_LEGEND = (
    "answered within the threshold, over: everyone who queued | the answered | "
    "all but short abandons"
)
#: Rows shown on either side of the answer when --target is given without --agents.
_AROUND = 3


def _check_erlang_domain(args) -> float:
    low, high = _ERLANG_LOADS
    load = args.rate * args.aht
    if not low <= load <= high:
        raise UserError(
            f"--rate x --aht: an offered load of {load:g} Erlangs, outside [{low:g}, {high:g}]"
        )
    if args.patience and not 1 / _PATIENCE_RATIO <= args.patience / args.aht <= _PATIENCE_RATIO:
        raise UserError(
            f"--patience: must lie within {_PATIENCE_RATIO:g} times --aht either way "
            "(leave it out for Erlang C: no abandonment)"
        )
    if args.agents is None and args.target is None:
        raise UserError(
            "ccsim erlang: give --agents (a table), --target (the agents it needs), or both"
        )
    for option in ("max_occupancy", "shrinkage"):
        if getattr(args, option) is not None and args.target is None:
            raise UserError(f"--{option.replace('_', '-')}: goes with --target")
    return load


def _stable(args, n: int, load: float) -> bool:
    """Erlang C has a steady state only when the agents outnumber the offered load."""
    return args.patience is not None or n > load


def _meets(perf, args) -> bool:
    share, _ = args.target
    fine = perf.service_level >= share - 1e-12
    if args.max_occupancy is not None:
        fine = fine and perf.occupancy <= args.max_occupancy + 1e-12
    return fine


def _fewest_agents(args, threshold: float, load: float) -> int | None:
    """The fewest agents that meet --target (and --max-occupancy): service level rises and
    occupancy falls with every agent added, so a doubling then a bisection finds it."""
    from ccsim.theory import erlang as analytic

    def ok(n: int) -> bool:
        if not _stable(args, n, load):
            return False
        return _meets(analytic.performance(args.rate, args.aht, n, threshold, args.patience), args)

    return analytic.fewest_agents(ok, 1, _MAX_ERLANG_AGENTS)


def _erlang(args) -> int:
    from ccsim.theory import erlang as analytic

    load = _check_erlang_domain(args)
    threshold = args.target[1] if args.target else (args.threshold or 20.0)
    if args.target and args.threshold is not None and args.threshold != threshold:
        raise UserError("--threshold: --target already sets it (80/20s: 20 s)")
    model = "Erlang A (M/M/n+M)" if args.patience else "Erlang C (M/M/n)"
    print(
        f"{model}: {args.rate * 3600:g} contacts/h, handle time {format_duration(args.aht)}"
        + (f", mean patience {format_duration(args.patience)}" if args.patience else "")
        + f"\noffered load {load:.3f} Erlangs, service level threshold {format_duration(threshold)}"
    )
    needed = None
    if args.target is not None:
        needed = _fewest_agents(args, threshold, load)
        if needed is None:
            raise UserError(f"--target: not met with up to {_MAX_ERLANG_AGENTS:,} agents")
    agents = args.agents
    if agents is None:
        agents = list(range(max(1, needed - _AROUND), needed + _AROUND + 1))
    columns = _ERLANG_A_COLUMNS if args.patience else _ERLANG_COLUMNS
    widths = [max(len(c), 8) for c in columns]
    print("agents  " + "  ".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)))
    rows = {}
    for n in agents:
        mark = ">" if n == needed else " "
        if not _stable(args, n, load):
            print(
                f"{mark}{n:>5}  unstable: load {load:.2f} >= {n} agents "
                "(the queue grows without end)"
            )
            continue
        perf = analytic.performance(args.rate, args.aht, n, threshold, args.patience)
        rows[n] = perf
        cells = "  ".join(
            f"{_format(c, getattr(perf, c)):>{w}}" for c, w in zip(columns, widths, strict=True)
        )
        print(f"{mark}{n:>5}  {cells}")
    if args.service_levels and rows:
        print(f"\nservice level {format_duration(threshold)} by definition:")
        print(f"  {_SERVICE_LEVEL_LEGEND}")
        labels = list(_SERVICE_LEVELS.values())
        print("agents  " + "  ".join(f"{label:>20}" for label in labels))
        for n, perf in rows.items():
            cells = "  ".join(f"{_format(c, getattr(perf, c)):>20}" for c in _SERVICE_LEVELS)
            print(f"{n:>6}  {cells}")
    if needed is not None:
        share, _ = args.target
        cap = (
            f" and occupancy at most {args.max_occupancy:.0%}"
            if args.max_occupancy is not None
            else ""
        )
        print(
            f"\n> {needed} agents on the phones: the fewest that meet {share:.0%} within "
            f"{format_duration(threshold)}{cap}"
        )
        if args.shrinkage is not None:
            scheduled = math.ceil(needed / (1 - args.shrinkage) - 1e-9)
            print(
                f"{scheduled} agents to schedule with {args.shrinkage:.0%} shrinkage "
                f"({needed} / (1 - {args.shrinkage:g}), rounded up)"
            )
    return 0


def _schema(args) -> int:
    import json

    from ccsim.model.schema import scenario_schema
    from ccsim.study.spec import experiment_schema

    schema = scenario_schema() if args.kind == "scenario" else experiment_schema()
    text = json.dumps(schema, indent=1, ensure_ascii=False) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return 0
    from ccsim.experiment.folder import writing_to
    from ccsim.files import write_text

    with writing_to(args.out.parent, "the schema"):
        write_text(args.out, text)
    print(f"wrote {args.out}")
    return 0


# Used by `ccsim run` and `ccsim staff`, loaded when called (see the module's docstring).
def load_scenario(path):
    from ccsim.model import load_scenario as load

    return load(path)


def output_folder(out):
    from ccsim.experiment.folder import output_folder as hold

    return hold(out)


def writing_to(out, what):
    from ccsim.experiment.folder import writing_to as context

    return context(out, what)


def _staff(args) -> int:
    scenario = load_scenario(args.config)
    out = args.out if args.out is not None else Path("results") / f"{scenario.name}-staffing"
    with output_folder(out):
        return _plan_staff(scenario, out, args)


def _plan_staff(scenario, out: Path, args) -> int:
    # Loaded here: the integer program and the plots need scipy.optimize and matplotlib.
    from ccsim.planning.schedule_files import staffing_table, write_staffing
    from ccsim.planning.scheduling import schedule_shifts
    from ccsim.planning.simulation_staffing import interval_service_levels, simulation_requirements
    from ccsim.planning.staffing import erlang_requirements
    from ccsim.planning.templates import candidate_shifts

    started = time.perf_counter()
    if args.method == "search":
        return _staff_search(args, scenario, out, started)
    if args.method == "simulation":
        requirements = simulation_requirements(
            scenario,
            args.target,
            args.max_occupancy,
            reps=args.reps,
            seed=args.seed,
            confidence=args.confidence,
            rule=args.rule,
            channels=args.channel,
            n_jobs=args.jobs,
        )
    else:
        requirements = erlang_requirements(
            scenario, args.target, args.max_occupancy, args.method, args.channel
        )
    candidates = candidate_shifts(
        scenario, args.shift_lengths, args.shift_step, args.min_headcount, args.max_headcount
    )
    schedule = schedule_shifts(
        scenario, requirements, candidates, target=args.target, time_limit=args.time_limit
    )
    # Fresh random numbers (seed + 1): not those the simulation method tuned the staffing on.
    levels = interval_service_levels(
        schedule.scenario, args.reps, args.seed + 1, args.confidence, args.jobs
    )
    table = staffing_table(requirements, schedule, levels)
    # Written before anything is printed: output piped into `head` still leaves the files.
    with writing_to(out, "the staffing plan"):
        paths = write_staffing(out, table, schedule)
    elapsed = time.perf_counter() - started
    print(
        f"{scenario.name}: requirement by {args.method}, shifts by integer program "
        f"({schedule.status}, {schedule.solve_time:.2f}s), schedule simulated over "
        f"{args.reps} replications (seed {args.seed + 1}); {elapsed:.1f}s wall"
    )
    for channel, rows in table.groupby("channel", sort=False):
        _print_staffing(channel, rows, schedule.scenario.channels[channel].service_level, args)
    print(
        f"\nshifts: {int(schedule.headcounts.headcount.sum())} agents on "
        f"{int((schedule.headcounts.headcount > 0).sum())} templates, cost {schedule.cost:,.2f} "
        f"(within {schedule.mip_gap:.2%} of the least)"
    )
    if schedule.status == "time limit":
        print(
            f"integer program STOPPED AT ITS TIME LIMIT ({format_duration(args.time_limit)}), "
            f"{schedule.mip_gap:.2%} above its bound: raise it with --time-limit"
        )
    print(f"wrote {out}/: {', '.join(path.name for path in paths)}")
    return 0


def _optional_durations(text: str) -> list[float]:
    """``4h,6h``, or ``none``."""
    return [] if text.strip().lower() == "none" else _durations(text)


def _share_bounds(text: str) -> tuple[float, float]:
    """``0,0.5``: two shares, the first at most the second."""
    parts = text.split(",")
    if len(parts) != 2:
        raise ValueError(f"expected two shares like 0,0.5, got {text!r}")
    low, high = (float(part) for part in parts)
    if not 0 <= low <= high <= 1:
        raise ValueError(f"expected 0 <= low <= high <= 1, got {text!r}")
    return low, high


def _shown_path(path: Path) -> str:
    """``path`` as a reader can retype it: relative to the working directory when inside
    it (a file written here must not carry this machine's folders)."""
    relative = os.path.relpath(Path(path).resolve())
    return str(path) if relative.startswith("..") else relative.replace(os.sep, "/")


def _staff_search(args, scenario, out: Path, started: float) -> int:
    """``ccsim staff --method search``: the whole scenario at least cost (docs/staffing.md)."""
    from ccsim.files import write_csv
    from ccsim.planning.frontier import cost_at_target, frontier, write_frontier
    from ccsim.planning.model_file import write_staffed_model
    from ccsim.planning.search import staff_scenario
    from ccsim.planning.targets import Targets
    from ccsim.planning.templates import ShiftOffer

    targets = Targets.of(
        scenario,
        args.target,
        args.interval_floor,
        args.interval_share,
        args.confidence,
        max_occupancy=args.max_occupancy,
    )
    offer = ShiftOffer(
        full_time=tuple(args.full_time),
        part_time=tuple(args.part_time),
        step=args.shift_step,
        tours=args.tours,
        days_off=args.days_off,
        part_time_share=args.part_time_share,
    )
    plan = staff_scenario(
        scenario,
        targets,
        offer,
        reps=args.reps,
        seed=args.seed,
        n_jobs=args.jobs,
        max_rounds=args.max_rounds,
        max_trim_simulations=args.max_trim,
        time_limit=args.time_limit,
        mip_gap=args.mip_gap,
        progress=lambda line: print(f"  {time.perf_counter() - started:6.0f}s  {line}", flush=True),
    )
    model = args.model if args.model is not None else out / "staffed.yaml"
    command = " ".join(["ccsim staff", _shown_path(args.config), "--method search"])
    paths = [
        write_staffed_model(model, plan, args.config, command),
        write_csv(out / "plan.csv", plan.headcounts),
        write_csv(out / "service.csv", plan.evaluation.channels),
        write_csv(out / "intervals.csv", plan.evaluation.intervals),
        write_csv(out / "sites.csv", plan.evaluation.sites),
        write_csv(out / "history.csv", plan.history),
    ]
    if args.frontier:
        table = frontier(plan.scenario, targets, reps=args.reps, seed=args.seed, n_jobs=args.jobs)
        paths.append(write_frontier(out, table, scenario.name))
    elapsed = time.perf_counter() - started
    print(
        f"\n{scenario.name}: {plan.simulations} simulations of {args.reps} replications "
        f"(seed {args.seed}), {elapsed:.0f}s wall; {int(plan.headcounts.headcount.sum())} "
        f"shift-agents on {len(plan.headcounts)} templates, pay {plan.cost:,.2f}"
    )
    status = f"integer program: {plan.solver_status}, within {plan.solver_gap:.2%} of its bound"
    if plan.time_limited:
        status += (
            f"; a solve STOPPED AT ITS TIME LIMIT ({format_duration(args.time_limit)}): "
            "raise it with --time-limit"
        )
    print(status)
    for row in plan.evaluation.channels.itertuples():
        print(
            f"  {row.channel:<10} weekly {_format('service_level', row.service_level)} "
            f"[{_format('service_level', row.low)}, {_format('service_level', row.high)}] "
            f"target {row.target:.0%}; {row.share_at_floor:.1%} of {row.intervals} intervals "
            f"at the floor  {'met' if row.met else 'MISSED'}"
        )
    for row in plan.evaluation.sites.itertuples():
        print(f"  {row.site:<10} occupancy {row.occupancy:.1%} [{row.low:.1%}, {row.high:.1%}]")
    if args.frontier:
        result = cost_at_target(table)
        print(f"  cost at target {result.cost:,.0f} [{result.low:,.0f}, {result.high:,.0f}]")
    if not plan.met:
        print("warning: the targets are not met; the plan is the last one tried")
    elif not plan.trimmed:
        print("warning: trimming stopped at --max-trim: a shift may still be removable")
    print(f"wrote {', '.join(str(path) for path in paths)}")
    return 0


#: Intervals listed one by one on the terminal; beyond, only those below the target.
_LISTED_INTERVALS = 48


def _print_staffing(channel: str, rows, objective, args) -> None:
    """One channel's requirement, schedule and simulated service level on the terminal."""
    shown = rows[(rows.required > 0) | (rows.scheduled > 0)]
    below = shown[shown.sl_simulated < objective.target]
    print(
        f"\n{channel}  (target {objective.target:.0%} within "
        f"{format_duration(objective.threshold)}; service level with {args.confidence:.0%} "
        f"interval over {args.reps} replications)"
    )
    if len(shown) > _LISTED_INTERVALS:
        print(
            f"  {len(shown)} staffed intervals, service level "
            f"{_format('service_level', shown.sl_simulated.min())} to "
            f"{_format('service_level', shown.sl_simulated.max())}; "
            f"{len(below)} below the target{':' if len(below) else ''}"
        )
        shown = below.head(_LISTED_INTERVALS)
    if not shown.empty:
        print(f"  {'interval':<16} {'offered':>8} {'required':>8} {'scheduled':>9}  service level")
    for row in shown.itertuples():
        low, high = (
            _format("service_level", min(max(v, 0.0), 1.0)) for v in (row.sl_low, row.sl_high)
        )
        print(
            f"  {row.interval_start[:16].replace('T', ' '):<16} {row.offered:>8.1f} "
            f"{row.required:>8d} {row.scheduled:>9.1f}  "
            f"{_format('service_level', row.sl_simulated):>7} [{low}, {high}]"
        )
    if "met" in rows and not rows["met"].all():
        print(
            f"  warning: simulation staffing stopped after {rows['iterations'].iloc[0]} "
            f"iterations with {int((~rows['met']).sum())} intervals below the target"
        )


class _Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an interrupt so that workers are stopped and files closed."""


def _terminate(signum, frame) -> None:
    raise _Terminated


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command == "erlang" and args.agents is None and args.target is None:
        parser.error("erlang: give --agents (a table), --target (the agents it needs), or both")
    if threading.current_thread() is not threading.main_thread():  # signals need the main one
        return _dispatch(args)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _dispatch(args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _dispatch(args) -> int:
    command = {
        "run": _run,
        "experiment": _experiment,
        "erlang": _erlang,
        "staff": _staff,
        "report": _report,
        "fit": _fit,
        "forecast": _forecast,
        "schema": _schema,
    }[args.command]
    try:
        return command(args)
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


if __name__ == "__main__":
    sys.exit(main())
