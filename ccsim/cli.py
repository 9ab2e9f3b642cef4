"""Command line: ``ccsim run`` (replications of a scenario) and ``ccsim erlang`` (theory).

Bad input ends with one line on stderr naming the file and field (or the option) and exit
status 2, before any simulation when the output folder cannot be written or another run
holds it. No table is written unless the whole run succeeded, and the tables of a run are
committed together with their manifest (:mod:`ccsim.experiment.store`).
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

import pandas as pd

from ccsim import __version__
from ccsim.experiment.backends import BACKENDS, BackendError
from ccsim.experiment.runner import iter_replications, load_experiment, run_experiment
from ccsim.experiment.store import (
    commit_generation,
    output_folder,
    start_generation,
    write_csv,
    writing_to,
)
from ccsim.experiment.summary import summarise
from ccsim.model import load_scenario
from ccsim.model.errors import UserError
from ccsim.model.units import format_duration, parse_duration, parse_rate
from ccsim.planning.staffing import METHODS as STAFFING_METHODS
from ccsim.planning.staffing import parse_target
from ccsim.report.formatting import format_interval, format_value
from ccsim.sim.kpis import KPIS, SITE_SUMMARY
from ccsim.theory import erlang as analytic

__all__ = ["main"]

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (no usage dump), exit status 2."""

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


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ccsim", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"ccsim {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser("run", help="run replications of a scenario file")
    run.add_argument("config", type=Path, help="scenario YAML file")
    run.add_argument("--reps", type=_option(_positive_int, "--reps"), default=20)
    run.add_argument("--seed", type=_option(_non_negative_int, "--seed"), default=0)
    run.add_argument("--jobs", type=_option(_jobs, "--jobs"), default=1, help="-1: all cores")
    run.add_argument("--out", type=Path, help="output directory (default results/<name>)")
    run.add_argument("--plot", action="store_true", help="also write OUT/run.html with figures")
    run.add_argument(
        "--record-contacts",
        action="store_true",
        help="also write OUT/contacts.csv, one row per contact (input for 'ccsim fit')",
    )

    experiment = commands.add_parser(
        "experiment", help="run or resume an experiment file (scenarios, replications, CRN)"
    )
    experiment.add_argument("file", type=Path, help="experiment YAML file")
    experiment.add_argument(
        "--reps", type=_option(_positive_int, "--reps"), help="fixed number, replaces the file's"
    )
    experiment.add_argument("--jobs", type=_option(_jobs, "--jobs"), default=1, help="-1: all")
    experiment.add_argument("--out", type=Path, help="output directory (default results/<name>)")
    experiment.add_argument("--backend", choices=BACKENDS, default="loky")
    experiment.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786")
    experiment.add_argument(
        "--no-progress", action="store_true", help="no progress bar (default: on a terminal)"
    )
    experiment.add_argument(
        "--no-report", action="store_true", help="do not render DIR/report.html"
    )

    report = commands.add_parser(
        "report", help="render DIR/report.html (an experiment) or DIR/run.html (a run)"
    )
    report.add_argument("dir", type=Path, help="an experiment's or a run's output directory")

    erlang = commands.add_parser(
        "erlang", help="exact M/M/n (Erlang C) or M/M/n+M (Erlang A) figures"
    )
    erlang.add_argument("--rate", required=True, type=_option(parse_rate, "--rate"))
    erlang.add_argument("--aht", required=True, type=_option(_positive_duration, "--aht"))
    erlang.add_argument("--agents", required=True, type=_option(_agent_counts, "--agents"))
    erlang.add_argument(
        "--threshold", type=_option(_duration, "--threshold"), default=20.0, help="default 20s"
    )
    erlang.add_argument(
        "--patience", type=_option(_positive_duration, "--patience"), help="mean; Erlang A"
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
    staff.add_argument("--max-occupancy", type=_option(_share, "--max-occupancy"), help="e.g. 0.85")
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
    _add_fit_commands(commands)
    return parser


def _add_fit_commands(commands) -> None:
    fit = commands.add_parser(
        "fit", help="fit a scenario (demand, handle times, patience) to a contact log"
    )
    fit.add_argument("records", type=Path, help="contact records CSV (one row per contact)")
    fit.add_argument("--out", type=Path, required=True, help="the fitted scenario YAML")
    fit.add_argument(
        "--columns",
        type=_option(_record_columns, "--columns"),
        help="FIELD=COLUMN,... e.g. arrival=CallStart,wait=QueueSec",
    )
    fit.add_argument(
        "--outcomes",
        type=_option(_word_map, "--outcomes"),
        help="WORD=answered|abandoned,... for the log's outcome words",
    )
    fit.add_argument("--timezone", help="customers' IANA zone (default: the file's, else UTC)")
    fit.add_argument("--interval", type=_option(_positive_duration, "--interval"), default=1800.0)
    fit.add_argument("--threshold", type=_option(_duration, "--threshold"), default=20.0)
    fit.add_argument("--target", type=_option(_share, "--target"), default=0.8)
    fit.add_argument(
        "--agents",
        type=_option(_site_agents, "--agents"),
        help="N, or SITE=N,...; default: the most busy at once in the log",
    )
    fit.add_argument("--name", default="fitted", help="the scenario's name")
    fit.add_argument(
        "--forecast",
        type=_option(_positive_int, "--forecast"),
        metavar="WEEKS",
        help="demand from a forecast of the next WEEKS weeks",
    )
    fit.add_argument(
        "--holdout",
        type=_option(_positive_int, "--holdout"),
        default=4,
        help="weeks held out to judge the forecast (default 4)",
    )
    fit.add_argument(
        "--validate",
        action="store_true",
        help="simulate the fit; write validation.csv/.html beside --out",
    )
    fit.add_argument("--reps", type=_option(_positive_int, "--reps"), default=20)
    fit.add_argument("--seed", type=_option(_non_negative_int, "--seed"), default=1)
    fit.add_argument("--jobs", type=_option(_jobs, "--jobs"), default=1, help="-1: all cores")

    forecast = commands.add_parser(
        "forecast", help="forecast next weeks' volumes per interval from interval history"
    )
    forecast.add_argument("history", type=Path, help="CSV: interval_start, volume[, channel]")
    forecast.add_argument("--weeks", type=_option(_positive_int, "--weeks"), required=True)
    forecast.add_argument("--out", type=Path, default=Path("forecast.csv"))
    forecast.add_argument(
        "--columns",
        type=_option(_history_columns, "--columns"),
        help="FIELD=COLUMN,... for interval_start, volume, channel",
    )
    forecast.add_argument("--timezone", default="UTC", help="customers' IANA time zone")
    forecast.add_argument(
        "--holdout",
        type=_option(_positive_int, "--holdout"),
        default=4,
        help="weeks held out to judge the methods (default 4)",
    )
    forecast.add_argument(
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
    return format_value(kpi, value, reference=reference)


def _print_summary(summary, n_reps: int, currency: str = "USD") -> None:
    whole = summary[summary.site == "all"]
    for channel, group in whole.groupby("channel", sort=False):
        print(
            f"\n{channel}  (95% confidence intervals over {n_reps} replications; "
            f"amounts in {currency})"
        )
        width = max(len(k) for k in group["kpi"])
        for row in group.itertuples():
            interval = format_interval(row.kpi, row.ci_low, row.ci_high, row.estimate)
            print(f"  {row.kpi:<{width}}  {_format(row.kpi, row.estimate):>10}  {interval}")
    sites = summary[(summary.site != "all") & (summary.channel == "all")]
    if not sites.empty:
        table = sites.pivot(index="site", columns="kpi", values="estimate")
        print("\nsites (estimates; intervals in summary.csv)")
        print(f"  {'site':<12}" + "".join(f"{k:>26}" for k in SITE_SUMMARY))
        for site, row in table.iterrows():
            cells = "".join(f"{_format(k, row[k]):>26}" for k in SITE_SUMMARY)
            print(f"  {site:<12}{cells}")


def _run(args) -> int:
    scenario = load_scenario(args.config)
    out = args.out if args.out is not None else Path("results") / scenario.name
    with output_folder(out), writing_to(out, "the tables"):
        started = time.perf_counter()
        replications, staged = _simulate_into(out, scenario, args)
        summary = summarise(replications)
        elapsed = time.perf_counter() - started
        # One generation: the tables, then the manifest that lists them (ccsim.experiment.store).
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
        facts |= {"replications": args.reps, "seed": args.seed, "ccsim": __version__}
        commit_generation(out, paths, facts)
    print(
        f"{scenario.name}: {args.reps} replications of {format_duration(scenario.horizon)} "
        f"(warm-up {format_duration(scenario.warmup)}), seed {args.seed}, "
        f"{elapsed:.1f}s wall"
    )
    _print_summary(summary, args.reps, scenario.currency)
    contacts = ", contacts.csv" if args.record_contacts else ""
    print(f"\nwrote {out}/: replications.csv, intervals.csv, summary.csv{contacts}, manifest.json")
    if args.plot:
        from ccsim.report.run_page import render_run_page  # matplotlib: only when asked

        print(f"page: {render_run_page(out, scenario.name)}")
    return 0


def _write_contacts(path: Path, scenario, args) -> Path:
    """One row per contact of every replication (the seeds of the run: the same contacts)."""
    from ccsim.experiment.blocks import replication_seeds
    from ccsim.fit.records import contact_log
    from ccsim.sim.engine import simulate

    logs = [
        contact_log(simulate(scenario, seed, record_contacts=True), replication)
        for replication, seed in enumerate(replication_seeds(args.seed, args.reps))
    ]
    return write_csv(path, pd.concat(logs, ignore_index=True))


def _fit(args) -> int:
    from ccsim.experiment.store import write_text
    from ccsim.fit import fit_centre, read_records, scenario_text

    records = read_records(args.records, args.columns, args.timezone, args.outcomes)
    fitted = fit_centre(
        records, args.interval, args.agents, args.threshold, args.target, args.forecast,
        args.holdout,
    )  # fmt: skip
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
    for leftover in out.glob(".intervals.csv.*.tmp"):  # from a run killed mid-way
        leftover.unlink(missing_ok=True)
    staged = out / f".intervals.csv.{os.getpid()}.tmp"
    tables = []
    try:
        with open(staged, "w", encoding="utf-8", newline="") as handle:
            blocks = iter_replications(
                scenario, args.reps, seed=args.seed, n_jobs=args.jobs, intervals=True
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
    "mean_resolution_time",
    "occupancy",
)


def _experiment(args) -> int:
    if args.scheduler is not None and args.backend != "dask":
        raise BackendError("--scheduler only goes with --backend dask")
    experiment = load_experiment(args.file)
    out = args.out if args.out is not None else Path("results") / experiment.spec.name
    with output_folder(out):  # held until the report is drawn
        return _run_experiment(experiment, out, args)


def _run_experiment(experiment, out: Path, args) -> int:
    result = run_experiment(
        experiment,
        reps=args.reps,
        n_jobs=args.jobs,
        out=out,
        backend=args.backend,
        scheduler=args.scheduler,
        progress=not args.no_progress and sys.stderr.isatty(),
    )
    manifest = result.manifest
    stopped = " (precision target met)" if result.stopped_early else ""
    print(
        f"{manifest['experiment']}: {len(manifest['scenarios'])} scenarios x "
        f"{manifest['replications']} replications{stopped}, seed {manifest['seed']}, "
        f"common random numbers {'on' if manifest['common_random_numbers'] else 'off'}, "
        f"{manifest['wall_time_s']:.1f}s wall"
    )
    whole = result.summary[result.summary.site == "all"]
    overall = "all" if "all" in set(whole.channel) else whole.channel.iloc[0]
    summary = whole.set_index(["scenario", "channel", "kpi"])
    scenarios = manifest["scenarios"]
    table = []
    for kpi in _HEADLINE:
        if (scenarios[0], overall, kpi) not in summary.index:
            continue
        cells = []
        for name in scenarios:
            row = summary.loc[(name, overall, kpi)]
            cell = _format(kpi, row.estimate)
            if not math.isnan(row.half_width) and row.half_width > 0:
                cell += f" ±{_format(kpi, row.half_width, reference=row.estimate)}"
            cells.append(cell)
        if any(cell != "-" for cell in cells):
            table.append((kpi, cells))
    width = max(len(c) for _, cells in table for c in [*cells, *scenarios]) + 2
    print(
        f"\n{'all channels' if overall == 'all' else overall}: estimate ± 95% half-width, "
        f"amounts in {manifest.get('currency', 'USD')}"
    )
    print(f"  {'':<26}" + "".join(f"{name:>{width}}" for name in scenarios))
    for kpi, cells in table:
        print(f"  {kpi:<26}" + "".join(f"{c:>{width}}" for c in cells))
    channels = [c for c in whole.channel.unique() if c != "all"]
    if len(channels) > 1:
        print("\nservice level by channel")
        for channel in channels:
            cells = [
                _format("service_level", summary.loc[(n, channel, "service_level")].estimate)
                for n in scenarios
            ]
            print(f"  {channel:<26}" + "".join(f"{c:>{width}}" for c in cells))
    if not result.comparisons.empty:
        comparisons = result.comparisons
        significant = comparisons[
            comparisons.significant
            & comparisons.kpi.isin(_HEADLINE)
            & (comparisons.site == "all")
            & (comparisons.channel == overall)
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
    print(
        f"\nwrote {result.out}/: replications.parquet, intervals.parquet, summary.csv, "
        "comparisons.csv, manifest.json"
    )
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
    return format_value(kpi, value, signed=True, difference=True)


def _erlang(args) -> int:
    model = "Erlang A (M/M/n+M)" if args.patience else "Erlang C (M/M/n)"
    low, high = _ERLANG_LOADS
    if not low <= args.rate * args.aht <= high:
        raise UserError(
            f"--rate x --aht: an offered load of {args.rate * args.aht:g} Erlangs, outside "
            f"[{low:g}, {high:g}]"
        )
    if args.patience and not 1 / _PATIENCE_RATIO <= args.patience / args.aht <= _PATIENCE_RATIO:
        raise UserError(
            f"--patience: must lie within {_PATIENCE_RATIO:g} times --aht either way "
            "(leave it out for Erlang C: no abandonment)"
        )
    load = analytic.offered_load(args.rate, args.aht)
    print(
        f"{model}: {args.rate * 3600:g} contacts/h, handle time {format_duration(args.aht)}, "
        f"offered load {load:.3f} Erlangs, threshold {format_duration(args.threshold)}"
        + (f", mean patience {format_duration(args.patience)}" if args.patience else "")
    )
    columns = (
        "p_wait",
        "service_level",
        "service_level_answered",
        "service_level_excl_short_abandons",
        "asa",
        "mean_wait",
        "abandon_rate",
        "occupancy",
        "mean_queue_length",
    )
    header = "agents  " + "  ".join(f"{c:>{max(len(c), 10)}}" for c in columns)
    print(header)
    for n in args.agents:
        perf = analytic.performance(args.rate, args.aht, n, args.threshold, args.patience)
        cells = "  ".join(f"{_format(c, getattr(perf, c)):>{max(len(c), 10)}}" for c in columns)
        print(f"{n:>6}  {cells}")
    return 0


def _staff(args) -> int:
    scenario = load_scenario(args.config)
    out = args.out if args.out is not None else Path("results") / f"{scenario.name}-staffing"
    with output_folder(out):
        return _plan_staff(scenario, out, args)


def _plan_staff(scenario, out: Path, args) -> int:
    # Loaded here: the integer program and the plots need scipy.optimize and matplotlib.
    from ccsim.planning.scheduling import (
        candidate_shifts,
        schedule_shifts,
        staffing_table,
        write_staffing,
    )
    from ccsim.planning.staffing import (
        erlang_requirements,
        interval_service_levels,
        simulation_requirements,
    )

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


def _staff_search(args, scenario, out: Path, started: float) -> int:
    """``ccsim staff --method search``: the whole scenario at least cost (docs/staffing.md)."""
    from ccsim.planning.frontier import cost_at_target, frontier, write_frontier
    from ccsim.planning.model_file import write_staffed_model
    from ccsim.planning.search import staff_scenario
    from ccsim.planning.targets import Targets
    from ccsim.planning.templates import ShiftOffer

    targets = Targets.of(
        scenario, args.target, args.interval_floor, args.interval_share, args.confidence
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
    command = " ".join(["ccsim staff", str(args.config), "--method search"])
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
        status += f"; a solve STOPPED AT ITS TIME LIMIT ({format_duration(args.time_limit)})"
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
    args = _build_parser().parse_args(argv)
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
