"""Command line: ``ccsim run`` (replications of a scenario) and ``ccsim erlang`` (theory).

Bad input ends with one line on stderr naming the file and field (or the option) and exit
status 2; nothing is written unless the whole run succeeded.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

from ccsim import __version__, analytic
from ccsim.backends import BACKENDS, BackendError
from ccsim.config import ConfigError, load_scenario
from ccsim.experiment import load_experiment, run_experiment, run_replications
from ccsim.metrics import COUNT_KPIS
from ccsim.store import write_csv
from ccsim.summary import summarise
from ccsim.units import format_duration, parse_duration, parse_rate

__all__ = ["main"]

EXIT_USAGE = 2

#: How each KPI is shown on the terminal: percentages, seconds or plain numbers.
_PERCENT = {
    "p_wait",
    "abandon_rate",
    "service_level",
    "service_level_answered",
    "service_level_excl_short_abandons",
    "occupancy",
}
_SECONDS = {"mean_wait", "asa", "aht"}
_MONEY = {"labour_cost", "cost_per_handled_contact"}


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


def _agent_counts(text: str) -> list[int]:
    """``14``, ``12,14,16`` or a range ``12-16``."""
    counts: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        first, last = int(low), int(high or low)
        if first < 1 or last < first:
            raise ValueError(f"expected agents like 14, 12,14 or 12-16, got {text!r}")
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
    return parser


def _duration(text: str, positive: bool = False) -> float:
    value = parse_duration(text)
    if value < 0 or (positive and value == 0) or math.isinf(value):
        raise ValueError(f"must be {'positive' if positive else 'at least 0'}, got {text!r}")
    return value


def _positive_duration(text: str) -> float:
    return _duration(text, positive=True)


def _format(kpi: str, value: float) -> str:
    if math.isnan(value):
        return "-"
    if kpi in _PERCENT:
        return f"{100 * value:.2f}%"
    if kpi in _SECONDS:
        return f"{value:.2f}s"
    if kpi in _MONEY:
        return f"{value:,.2f}"
    return f"{value:.4g}" if kpi not in COUNT_KPIS else f"{value:.1f}"


def _print_summary(summary, n_reps: int) -> None:
    whole = summary[summary.site == "all"]
    for channel, group in whole.groupby("channel", sort=False):
        print(f"\n{channel}  (95% confidence intervals over {n_reps} replications)")
        width = max(len(k) for k in group["kpi"])
        for row in group.itertuples():
            interval = (
                f"[{_format(row.kpi, row.ci_low)}, {_format(row.kpi, row.ci_high)}]"
                if not math.isnan(row.half_width)
                else ""
            )
            print(f"  {row.kpi:<{width}}  {_format(row.kpi, row.estimate):>10}  {interval}")
    sites = summary[(summary.site != "all") & (summary.channel == "all")]
    if not sites.empty:
        table = sites.pivot(index="site", columns="kpi", values="estimate")
        print("\nsites (estimates; intervals in summary.csv)")
        print(f"  {'site':<12}" + "".join(f"{k:>26}" for k in _SITE_COLUMNS))
        for site, row in table.iterrows():
            cells = "".join(f"{_format(k, row[k]):>26}" for k in _SITE_COLUMNS)
            print(f"  {site:<12}{cells}")


#: Site KPIs shown on the terminal after the channels.
_SITE_COLUMNS = ("answered", "available_agents", "occupancy", "labour_cost",
                 "cost_per_handled_contact")


def _run(args) -> int:
    scenario = load_scenario(args.config)
    out = args.out if args.out is not None else Path("results") / scenario.name
    started = time.perf_counter()
    replications, intervals = run_replications(
        scenario, args.reps, seed=args.seed, n_jobs=args.jobs, intervals=True
    )
    summary = summarise(replications)
    elapsed = time.perf_counter() - started
    print(
        f"{scenario.name}: {args.reps} replications of {format_duration(scenario.horizon)} "
        f"(warm-up {format_duration(scenario.warmup)}), seed {args.seed}, "
        f"{elapsed:.1f}s wall"
    )
    _print_summary(summary, args.reps)
    write_csv(out / "replications.csv", replications)
    write_csv(out / "intervals.csv", intervals)
    write_csv(out / "summary.csv", summary)
    print(f"\nwrote {out}/: replications.csv, intervals.csv, summary.csv")
    return 0


#: KPIs shown per scenario on the terminal; every KPI is in summary.csv.
_HEADLINE = ("offered", "service_level", "asa", "abandon_rate", "occupancy")


def _experiment(args) -> int:
    if args.scheduler is not None and args.backend != "dask":
        raise BackendError("--scheduler only goes with --backend dask")
    experiment = load_experiment(args.file)
    result = run_experiment(
        experiment,
        reps=args.reps,
        n_jobs=args.jobs,
        out=args.out,
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
    summary = whole.set_index(["scenario", "channel", "kpi"])
    width = max(len(name) for name in manifest["scenarios"])
    for channel in whole.channel.unique():
        print(f"\n{channel}: estimate [95% CI]")
        print(f"  {'scenario':<{width}}  " + "  ".join(f"{k:>26}" for k in _HEADLINE))
        for scenario in manifest["scenarios"]:
            cells = []
            for kpi in _HEADLINE:
                row = summary.loc[(scenario, channel, kpi)]
                cells.append(
                    f"{_format(kpi, row.estimate)} [{_format(kpi, row.ci_low)}, "
                    f"{_format(kpi, row.ci_high)}]"
                )
            print(f"  {scenario:<{width}}  " + "  ".join(f"{c:>26}" for c in cells))
    if not result.comparisons.empty:
        comparisons = result.comparisons
        significant = comparisons[
            comparisons.significant
            & comparisons.kpi.isin(_HEADLINE)
            & (comparisons.site == "all")
        ]
        print(f"\npaired differences to {manifest['baseline']} (significant at 95%):")
        if significant.empty:
            print("  none")
        for row in significant.itertuples():
            print(
                f"  {row.scenario} {row.channel} {row.kpi}: {_signed(row.kpi, row.difference)} "
                f"[{_signed(row.kpi, row.ci_low)}, {_signed(row.kpi, row.ci_high)}]"
            )
    print(
        f"\nwrote {result.out}/: replications.parquet, intervals.parquet, summary.csv, "
        "comparisons.csv, manifest.json"
    )
    return 0


def _signed(kpi: str, value: float) -> str:
    """A difference: percentage points for shares, the KPI's own unit otherwise."""
    text = f"{100 * value:.2f} pts" if kpi in _PERCENT else _format(kpi, value)
    return text if text.startswith("-") else f"+{text}"


def _erlang(args) -> int:
    model = "Erlang A (M/M/n+M)" if args.patience else "Erlang C (M/M/n)"
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


def main(argv: list[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    command = {"run": _run, "experiment": _experiment, "erlang": _erlang}[args.command]
    try:
        return command(args)
    except (ConfigError, BackendError) as exc:
        print(f"ccsim: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # output piped into `head` and the like: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        if args.command == "experiment":
            print(
                "ccsim: interrupted; finished blocks are saved: run the same command again to "
                "continue",
                file=sys.stderr,
            )
        else:
            print("ccsim: interrupted; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
