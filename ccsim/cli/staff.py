"""``ccsim staff``: agents required per interval (by Erlang C, Erlang A or simulation), the
cheapest shifts that cover them, and that schedule simulated; ``--method search`` hands over
to :mod:`ccsim.cli.staff_search`."""

from __future__ import annotations

import time
from pathlib import Path

from ccsim.cli.options import (
    int_at_least,
    jobs,
    non_negative_int,
    open_share,
    option,
    output_path,
    positive_duration,
    share,
    shift_lengths,
)
from ccsim.cli.staff_search import add_search_options, shrinkage_line, staff_search
from ccsim.model.units import format_duration

__all__ = ["add_parser", "staff"]

#: ``ccsim staff --method`` (:data:`ccsim.planning.staffing.METHODS`), written out here so
#: that building the parser does not import the planning modules.
_STAFFING_METHODS = ("erlang-c", "erlang-a", "simulation")


def _target(text: str):
    """``--target``: :func:`ccsim.planning.staffing.parse_target`, loaded when used."""
    from ccsim.planning.staffing import parse_target

    return parse_target(text)


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "staff", help="agents required per interval, and the cheapest shifts that cover them"
    )
    parser.set_defaults(handler=staff)
    parser.add_argument("config", type=Path, help="scenario YAML file")
    parser.add_argument(
        "--target",
        type=option(_target, "--target"),
        help="e.g. 80/20s: 80%% within 20 s (default: each channel's service_level)",
    )
    parser.add_argument(
        "--max-occupancy",
        type=option(share, "--max-occupancy"),
        help="e.g. 0.85 (search: on voice and chat; with email filling idle time, 0.95)",
    )
    parser.add_argument(
        "--method",
        choices=[*_STAFFING_METHODS, "search", "simopt"],
        default="erlang-c",
        help="search: staff the whole scenario at least cost, judged by simulation; "
        "simopt: CALLCENTER-1 (benchmarks/callcenter1) by simulation optimisation",
    )
    parser.add_argument("--channel", action="append", help="plan this channel only (repeatable)")
    parser.add_argument(
        "--rule",
        choices=("lower_bound", "estimate"),
        default="lower_bound",
        help="simulation: an interval meets the target by the lower end of its confidence "
        "interval (default) or by its estimate",
    )
    parser.add_argument(
        "--reps",
        type=option(int_at_least(2), "--reps"),
        default=20,
        help="replications per simulation (default 20)",
    )
    parser.add_argument("--seed", type=option(non_negative_int, "--seed"), default=0)
    parser.add_argument(
        "--confidence", type=option(open_share, "--confidence"), default=0.95, help="of bands"
    )
    parser.add_argument("--jobs", type=option(jobs, "--jobs"), default=1, help="-1: all cores")
    parser.add_argument(
        "--out",
        type=option(output_path, "--out"),
        help="output directory (default results/<name>-staffing)",
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress lines while it simulates (--method search prints one per step "
        "of the search, with the seconds since the start; the other methods print none)",
    )
    _add_shift_options(parser)
    add_search_options(parser)


def _add_shift_options(parser) -> None:
    """The shifts the integer program chooses from, and its time limit."""
    parser.add_argument(
        "--shift-lengths",
        type=option(shift_lengths, "--shift-lengths"),
        default=[8.5 * 3600, 4 * 3600],
        help="generated templates, for sites without shifts (default 8.5h,4h)",
    )
    parser.add_argument(
        "--shift-step",
        type=option(positive_duration, "--shift-step"),
        default=1800.0,
        help="between generated shift starts (default 30min)",
    )
    parser.add_argument(
        "--min-headcount", type=option(non_negative_int, "--min-headcount"), default=0
    )
    parser.add_argument(
        "--max-headcount", type=option(non_negative_int, "--max-headcount"), help="per shift"
    )
    parser.add_argument(
        "--shrinkage",
        type=option(_shrinkage, "--shrinkage"),
        help="share of scheduled agents away (absence, training), planned at every site "
        "that states no shrinkage (default: none, 0; shared/domain.md's survey: 0.30)",
    )
    parser.add_argument(
        "--time-limit",
        type=option(positive_duration, "--time-limit"),
        default=60.0,
        help="for the integer program (default 60s)",
    )


def _shrinkage(text: str) -> float:
    """``--shrinkage``: a share in [0, 1)."""
    value = float(text)
    if not 0 <= value < 1:
        raise ValueError(f"expected a share in [0, 1), got {text!r}")
    return value


def staff(args) -> int:
    from ccsim.experiment.folder import output_folder
    from ccsim.model import load_scenario

    scenario = load_scenario(args.config)
    if args.method == "search":  # refused before the output folder is made
        from ccsim.cli.staff_search import part_time_shares

        part_time_shares(args.part_time_share, scenario)
    if args.method == "simopt":
        from ccsim.cli.staff_simopt import refuse_other_scenarios

        refuse_other_scenarios(args, scenario)
    out = args.out if args.out is not None else Path("results") / f"{scenario.name}-staffing"
    with output_folder(out):
        return _plan_staff(scenario, out, args)


def _plan_staff(scenario, out: Path, args) -> int:
    # Loaded here: the integer program and the plots need scipy.optimize and matplotlib.
    from ccsim.experiment.folder import writing_to
    from ccsim.planning.schedule_files import staffing_table, write_staffing
    from ccsim.planning.scheduling import schedule_shifts
    from ccsim.planning.shares import channel_of
    from ccsim.planning.simulation_staffing import interval_service_levels, simulation_requirements
    from ccsim.planning.staffing import erlang_requirements
    from ccsim.planning.templates import candidate_shifts, with_shrinkage

    started = time.perf_counter()
    scenario = with_shrinkage(scenario, args.shrinkage)
    if args.method == "search":
        return staff_search(args, scenario, out, started)
    if args.method == "simopt":
        from ccsim.cli.staff_simopt import staff_simopt

        return staff_simopt(args, scenario, out)
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
        objective = schedule.scenario.channels[channel_of(channel)].service_level
        _print_staffing(channel, rows, objective, args)
    _print_schedule(schedule, args)
    print(f"wrote {out}/: {', '.join(path.name for path in paths)}")
    return 0


def _print_schedule(schedule, args) -> None:
    """The schedule's shifts and agents (apart), pay with its currency, the hours paid with
    no contact arriving, the solver's gap, and the shrinkage the plan assumed."""
    from ccsim.planning.coverage import shift_counts

    scenario = schedule.scenario
    shifts, busiest = shift_counts(scenario)
    used = int((schedule.headcounts.headcount > 0).sum())
    print(
        f"\nshifts: {shifts} agent-shifts ({busiest} agents on the busiest day) on {used} "
        f"templates; pay {schedule.cost:,.2f} {scenario.currency}; "
        f"{schedule.closed_hours:,.1f} agent-hours paid while no contact can arrive"
    )
    gap = f"MIP gap {schedule.mip_gap:.2%} (the cost's distance above the program's bound)"
    if schedule.status == "time limit":
        print(
            f"integer program STOPPED AT ITS TIME LIMIT ({format_duration(args.time_limit)}), "
            f"{gap}: raise it with --time-limit"
        )
    else:
        print(f"integer program solved, {gap}")
    print(shrinkage_line(scenario))


#: Intervals listed one by one on the terminal; beyond, only those below the target.
_LISTED_INTERVALS = 48


def _print_staffing(channel: str, rows, objective, args) -> None:
    """One channel's requirement, schedule and simulated service level on the terminal."""
    from ccsim.report.formatting import format_value

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
            f"{format_value('service_level', shown.sl_simulated.min())} to "
            f"{format_value('service_level', shown.sl_simulated.max())}; "
            f"{len(below)} below the target{':' if len(below) else ''}"
        )
        shown = below.head(_LISTED_INTERVALS)
    if not shown.empty:
        print(f"  {'interval':<16} {'offered':>8} {'required':>8} {'scheduled':>9}  service level")
    for row in shown.itertuples():
        low, high = (
            format_value("service_level", min(max(v, 0.0), 1.0)) for v in (row.sl_low, row.sl_high)
        )
        print(
            f"  {row.interval_start[:16].replace('T', ' '):<16} {row.offered:>8.1f} "
            f"{row.required:>8d} {row.scheduled:>9.1f}  "
            f"{format_value('service_level', row.sl_simulated):>7} [{low}, {high}]"
        )
    if "met" in rows and not rows["met"].all():
        print(
            f"  warning: simulation staffing stopped after {rows['iterations'].iloc[0]} "
            f"iterations with {int((~rows['met']).sum())} intervals below the target"
        )
