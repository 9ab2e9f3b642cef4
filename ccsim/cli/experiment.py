"""``ccsim experiment``: run or resume an experiment file, then its answer, the headline
KPIs of every scenario side by side and the significant paired differences on the terminal,
and the report."""

from __future__ import annotations

import math
import sys
from pathlib import Path

from ccsim.cli.options import add, add_command, jobs, option, output_path, reps
from ccsim.report.formatting import BY_CHANNEL, HEADLINE

__all__ = ["BY_CHANNEL", "HEADLINE", "add_parser", "experiment"]

#: ``ccsim experiment --backend`` (:data:`ccsim.experiment.backends.BACKENDS`), written out
#: here so that building the parser does not import the runner.
_BACKENDS = ("loky", "dask")


def add_parser(commands) -> None:
    parser = add_command(
        commands,
        "experiment",
        "run or resume an experiment file (scenarios, replications, common random numbers)",
        "Scenario variants of one base file, compared to a baseline replication by replication.\n"
        "Interrupted runs resume where they stopped: run the same command again.",
        "  ccsim experiment experiments/operating_models.yaml --jobs -1\n"
        "  ccsim experiment experiments/overflow.yaml --reps 10 --no-report",
    )
    parser.set_defaults(handler=experiment)
    add(parser, "file", type=Path, help="experiment YAML file, e.g. experiments/overflow.yaml")
    add(
        parser,
        "--reps",
        type=option(reps, "--reps"),
        help=(
            "a fixed number of replications, replacing the file's (and its stopping rule); "
            "also the most the frontier and the sensitivity run; at most 1,000,000 in all "
            "(scenarios x replications)"
        ),
    )
    add(
        parser,
        "--jobs",
        type=option(jobs, "--jobs"),
        default=1,
        help="worker processes, at most 4 per core; -1: all cores",
    )
    add(
        parser,
        "--out",
        type=option(output_path, "--out"),
        help="output folder (default results/<experiment name>)",
    )
    add(
        parser,
        "--backend",
        choices=_BACKENDS,
        default="loky",
        help="where replications run: loky (this machine) or dask (a cluster)",
    )
    add(
        parser,
        "--scheduler",
        help="Dask scheduler address with --backend dask, e.g. tcp://host:8786",
    )
    add(
        parser,
        "--no-progress",
        action="store_true",
        help="no progress bar or progress lines (default: a bar on a terminal, a line every "
        "10 s elsewhere)",
    )
    add(
        parser,
        "--pairs",
        choices=("auto", "all", "none"),
        default="auto",
        help="pairs.csv, the paired difference of every two scenarios: auto (up to 12 "
        "scenarios, 66 pairs), all, or none",
    )
    add(parser, "--no-report", action="store_true", help="do not render OUT/report.html")


def experiment(args) -> int:
    from ccsim.experiment.backends import BackendError
    from ccsim.experiment.folder import output_folder
    from ccsim.model.overrides import check_scenario_name
    from ccsim.study.spec import check_total_replications, load_experiment

    if args.scheduler is not None and args.backend != "dask":
        raise BackendError("--scheduler only goes with --backend dask")
    experiment = load_experiment(args.file)
    for name in experiment.spec.scenarios:  # grid points are checked where they are named
        check_scenario_name(name, str(args.file), "scenarios")
    if args.reps is not None:  # in all, as the file's own replications are
        check_total_replications(len(experiment.scenarios), args.reps, str(args.file), "--reps")
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
    "pairs.csv",
    "effects.csv",
    "equal_service.csv",
    "frontier.csv",
    "targets.csv",
    "selection.csv",
    "sensitivity.csv",
    "uncertainty.csv",
    "uncertainty_points.csv",
    "total_cost.csv",
    "replications.parquet",
    "request_types.parquet",
    "intervals.parquet",
    "manifest.json",
)


def _print_answer(result, manifest) -> None:
    """The study's answer first, as the report gives it: the one sentence, how sure the
    selection is, and the targets each model misses at its plan."""
    from ccsim.report.answer import answer_sentence, read_study, selection_sentence
    from ccsim.report.outputs import headline_channel
    from ccsim.report.tables import cost_label
    from ccsim.report.targets import occupancy_lines

    study = read_study(Path(result.out), manifest)
    # The same channel and words as the report: a run of one channel at several sites has
    # "all" rows per site only, and the selection's zone is money per the run's period.
    channel = headline_channel(result.summary)
    currency = manifest.get("currency", "USD")
    window = float(manifest.get("horizon_s") or math.nan) - float(manifest.get("warmup_s") or 0)
    period = cost_label(window, "cost").removeprefix("cost per ")
    sentence = answer_sentence(
        result.summary,
        result.comparisons,
        study,
        channel,
        manifest.get("baseline"),
        currency,
        period,
    )
    chosen = selection_sentence(study, manifest, manifest.get("baseline"), currency, period)
    lines = [sentence, chosen]
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
        lines += occupancy_lines(study.targets)
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
        pairs=args.pairs,
    )
    manifest = result.manifest
    _print_run(result, manifest)
    _print_answer(result, manifest)
    whole = result.summary[result.summary.site == "all"]
    scenarios = manifest["scenarios"]
    overall = {name: _overall(whole, name) for name in scenarios}
    row_of = _row_finder(whole)
    width = _print_headline(row_of, scenarios, overall, manifest.get("currency", "USD"))
    channels = [c for c in whole.channel.unique() if c != "all"]
    if len(channels) > 1:
        _print_by_channel(row_of, scenarios, channels, width)
    if not result.comparisons.empty:
        _print_differences(result.comparisons, overall, manifest["baseline"])
    written = [name for name in _EXPERIMENT_FILES if (Path(result.out) / name).exists()]
    print(f"\nwrote {result.out}/: {', '.join(written)}")
    if not args.no_report:
        from ccsim.report.html import render_report

        print(f"report: {render_report(result.out)}")
    return 0


def _print_run(result, manifest) -> None:
    """What was run: scenarios, replications (and why they stopped), seed, wall time."""
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


def _row_finder(whole):
    """A scenario's row of summary.csv for a channel and a KPI, or None where it has none."""
    index = whole.set_index(["scenario", "channel", "kpi"])

    def row_of(name: str, channel: str | None, kpi: str):
        key = (name, channel, kpi)
        return index.loc[key] if channel is not None and key in index.index else None

    return row_of


def _print_by_channel(row_of, scenarios, channels, width: int) -> None:
    """Service level and ASA of each channel, the scenarios side by side."""
    from ccsim.report.formatting import format_plus_minus

    for kpi in BY_CHANNEL:
        table = []
        for channel in channels:
            rows = [row_of(name, channel, kpi) for name in scenarios]
            finite = [abs(r.estimate) for r in rows if r is not None and math.isfinite(r.estimate)]
            reference = max(finite, default=math.nan)  # one unit along the row
            cells = [
                "-" if r is None else format_plus_minus(kpi, r.estimate, r.half_width, reference)
                for r in rows
            ]
            table.append((channel, cells))
        # An email's wait in hours may be wider than the headline's cells: the header again.
        wide = max([width] + [len(c) + 2 for _, cells in table for c in cells])
        print(f"\n{kpi} by channel ('-': the scenario has no such channel)")
        if wide > width:
            print(f"  {'':<26}" + "".join(f"{name:>{wide}}" for name in scenarios))
        for channel, cells in table:
            print(f"  {channel:<26}" + "".join(f"{c:>{wide}}" for c in cells))


def _print_headline(row_of, scenarios, overall: dict, currency: str) -> int:
    """The headline KPIs, one row each, the scenarios side by side; returns the column width."""
    from ccsim.report.formatting import format_plus_minus
    from ccsim.sim.kpis import PER_CHANNEL

    table = []
    for kpi in HEADLINE:
        # The channels together blend their waits: those are shown channel by channel.
        blended = {name for name in scenarios if overall[name] == "all" and kpi in PER_CHANNEL}
        rows = [None if name in blended else row_of(name, overall[name], kpi) for name in scenarios]
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
    print(f"\n{label}: estimate ± 95% half-width, amounts in {currency}")
    print(f"  {'':<26}" + "".join(f"{name:>{width}}" for name in scenarios))
    for kpi, cells in table:
        print(f"  {kpi:<26}" + "".join(f"{c:>{width}}" for c in cells))
    return width


def _print_differences(comparisons, overall: dict, baseline: str) -> None:
    """The headline KPIs that differ significantly from the baseline's, for all channels
    (service level and ASA of several channels: per channel)."""
    from ccsim.report.formatting import format_interval, format_value
    from ccsim.sim.kpis import KPIS

    paired = comparisons[
        comparisons.significant & comparisons.kpi.isin(HEADLINE) & (comparisons.site == "all")
    ]

    def shown(row) -> bool:  # the headline's row, or each channel's waits of several
        own = overall.get(row.scenario)
        if row.kpi in BY_CHANNEL and own == "all":
            return row.channel != "all"
        return row.channel == own

    significant = paired[[shown(row) for row in paired.itertuples()]]
    print(f"\npaired differences to {baseline} (significant, Holm-adjusted, 5%):")
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
        # percentage points for shares, the KPI's own unit otherwise
        difference = format_value(row.kpi, row.difference, signed=True, difference=True)
        kpi = row.kpi if row.channel == overall.get(row.scenario) else f"{row.channel} {row.kpi}"
        print(f"  {row.scenario} {kpi}: {difference}{relative} {interval}")
