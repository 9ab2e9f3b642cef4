"""``ccsim staff --method search``: the whole scenario staffed at least cost, judged by
simulation (docs/staffing.md): its options, the staffed model and tables it writes, and the
plan on the terminal."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from ccsim.cli.options import (
    int_at_least,
    non_negative_int,
    option,
    output_path,
    share,
    shift_lengths,
)
from ccsim.model.errors import UserError
from ccsim.model.units import format_duration

__all__ = ["add_search_options", "shown_path", "shrinkage_line", "staff_search"]


def add_search_options(parser) -> None:
    """The options of ``--method search``, a group of their own in ``ccsim staff --help``."""
    search = parser.add_argument_group("search (--method search; docs/staffing.md)")
    search.add_argument(
        "--model",
        type=option(output_path, "--model"),
        help="write the staffed model here, extending CONFIG (a .yaml file)",
    )
    search.add_argument(
        "--full-time",
        type=option(shift_lengths, "--full-time"),
        default=[8.5 * 3600],
        help="full-time shift lengths (default 8.5h)",
    )
    search.add_argument(
        "--part-time",
        type=option(_optional_durations, "--part-time"),
        default=[4 * 3600, 6 * 3600],
        help="part-time shift lengths (default 4h,6h; 'none' for none)",
    )
    search.add_argument(
        "--part-time-share",
        type=option(_site_share_bounds, "--part-time-share"),
        action="append",
        help=(
            "lowest,highest share of a site's paid hours on part time (default 0,0.5);"
            " SITE=low,high for one site (repeat: e.g. manila=0,0 for a vendor that"
            " takes full-time shifts only)"
        ),
    )
    search.add_argument(
        "--tours", action="store_true", help="weekly tours of 5 days (days off chosen)"
    )
    search.add_argument("--days-off", choices=("consecutive", "any"), default="consecutive")
    search.add_argument(
        "--interval-floor",
        type=option(share, "--interval-floor"),
        default=0.15,
        help="intervals must reach the target less this (default 0.15: 15 points)",
    )
    search.add_argument(
        "--interval-share",
        type=option(share, "--interval-share"),
        default=0.95,
        help="share of intervals with demand that must reach the floor (default 0.95)",
    )
    search.add_argument("--max-rounds", type=option(int_at_least(1), "--max-rounds"), default=12)
    search.add_argument(
        "--mip-gap",
        type=option(share, "--mip-gap"),
        default=0.01,
        help="integer program: stop within this of its lower bound (default 0.01)",
    )
    search.add_argument(
        "--max-trim",
        type=option(non_negative_int, "--max-trim"),
        help="most simulations for trimming (default: until its stopping rule, docs/staffing.md)",
    )
    search.add_argument(
        "--guard",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="judge the plan on as many fresh replications (seed + 1) and give back the last"
        " removals until it passes there (default on; --no-guard: off)",
    )
    search.add_argument(
        "--screen-reps",
        type=option(int_at_least(2), "--screen-reps"),
        help="raise rounds judge on this many of the replications until the targets hold,"
        " then on all to confirm (default: all)",
    )
    search.add_argument(
        "--frontier",
        action="store_true",
        help="also sweep 0.85x to 1.15x of the plan's headcounts into frontier.csv",
    )


def _optional_durations(text: str) -> list[float]:
    """``4h,6h``, or ``none``."""
    return [] if text.strip().lower() == "none" else shift_lengths(text)


def _site_share_bounds(text: str) -> tuple[str, tuple[float, float]]:
    """``0,0.5`` for every site, or ``SITE=0,0`` for one."""
    site, _, bounds = text.rpartition("=")
    return site.strip() or "*", _share_bounds(bounds)


def part_time_shares(given: list | None, scenario) -> dict[str, tuple[float, float]]:
    """The ``--part-time-share`` options as bounds per site (``"*"``: every other site); a
    site the scenario lacks is refused (a typo would leave the vendor on part time)."""
    shares = {"*": (0.0, 0.5)}
    shares.update(given or [])
    names = {site.name for site in scenario.sites}
    for name in shares.keys() - names - {"*"}:
        known = ", ".join(sorted(names))
        raise UserError(f"--part-time-share: no site {name!r} (sites: {known})")
    return shares


def _share_bounds(text: str) -> tuple[float, float]:
    """``0,0.5``: two shares, the first at most the second."""
    parts = text.split(",")
    if len(parts) != 2:
        raise ValueError(f"expected two shares like 0,0.5, got {text!r}")
    low, high = (float(part) for part in parts)
    if not 0 <= low <= high <= 1:
        raise ValueError(f"expected 0 <= low <= high <= 1, got {text!r}")
    return low, high


def shrinkage_line(scenario) -> str:
    """What the plan assumed of absence, per site: its shrinkage (0 unless the site or
    ``--shrinkage`` says otherwise) and random absence, where the simulation has it."""
    parts = []
    for site in scenario.sites:
        part = f"{site.name} {site.shrinkage:.0%}"
        if site.absence is not None:
            part += f" (and {site.absence.probability:.0%} random absence in the simulation)"
        parts.append(part)
    line = "shrinkage planned: " + ", ".join(parts)
    if not any(site.shrinkage for site in scenario.sites):
        line += " (none stated: every scheduled agent expected at work; --shrinkage 0.3 plans"
        line += " for the survey's 30%)"
    return line


def shown_path(path: Path) -> str:
    """``path`` as a reader can retype it: relative to the working directory when inside
    it (a file written here must not carry this machine's folders)."""
    relative = os.path.relpath(Path(path).resolve())
    return str(path) if relative.startswith("..") else relative.replace(os.sep, "/")


def staff_search(args, scenario, out: Path, started: float) -> int:
    """``ccsim staff --method search``: the whole scenario at least cost (docs/staffing.md)."""
    from ccsim.experiment.folder import refuse_overwrite
    from ccsim.planning.frontier import frontier, write_frontier
    from ccsim.planning.search import staff_scenario
    from ccsim.planning.targets import Targets
    from ccsim.planning.templates import ShiftOffer

    option = "--model" if args.model else "--out"  # --out: the default model in it
    refuse_overwrite(args.model or out / "staffed.yaml", [args.config], option)
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
        part_time_share=part_time_shares(args.part_time_share, scenario),
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
        progress=None if args.no_progress else _progress_lines(started),
        guard=args.guard,
        screen_reps=args.screen_reps,
    )
    paths = _write_plan(plan, out, args)
    table = None
    if args.frontier:
        table = frontier(plan.scenario, targets, reps=args.reps, seed=args.seed, n_jobs=args.jobs)
        paths.append(write_frontier(out, table, scenario.name))
    _print_plan(plan, scenario.name, args, time.perf_counter() - started, table)
    print(f"wrote {', '.join(str(path) for path in paths)}")
    return 0


def _time_line(plan) -> str:
    """Where the search's time went: simulations by phase, and the integer programs."""
    from ccsim.planning.guard import counted

    history = plan.history
    if history.empty:
        return f"time: integer programs {plan.solve_seconds:.0f}s"
    phase = history["phase"].str.split().str[0]
    parts = [
        f"{name} {counted(len(group), 'simulation')} of "
        f"{int(group['replications'].iloc[0])} replications"
        f" {group['seconds'].sum():.0f}s"
        + (
            f" (gave back {counted(plan.fresh.agents_given_back, 'agent-shift')} in "
            f"{counted(plan.fresh.steps_given_back, 'removal')})"
            if name == "guard" and plan.fresh is not None
            else ""
        )
        for name, group in history.groupby(phase, sort=False)
    ]
    return f"time: {', '.join(parts)}; integer programs {plan.solve_seconds:.0f}s"


def _progress_lines(started: float):
    """The search's progress: one line per step, with the seconds since ``started``."""
    return lambda line: print(f"  {time.perf_counter() - started:6.0f}s  {line}", flush=True)


def _write_plan(plan, out: Path, args) -> list[Path]:
    """The staffed model (a scenario file extending CONFIG) and the plan's tables."""
    from ccsim.files import write_csv
    from ccsim.planning.model_file import write_staffed_model

    model = args.model if args.model is not None else out / "staffed.yaml"
    # The roster's rules are part of how the plan was made: a reader re-staffing without them
    # would get other shifts.
    rules = ["--tours"] if args.tours else []
    for site, (low, high) in args.part_time_share or []:
        rules.append(f"--part-time-share {'' if site == '*' else site + '='}{low:g},{high:g}")
    command = " ".join(["ccsim staff", shown_path(args.config), "--method search", *rules])
    return [
        write_staffed_model(model, plan, args.config, command),
        write_csv(out / "plan.csv", plan.headcounts),
        write_csv(out / "service.csv", plan.evaluation.channels),
        write_csv(out / "intervals.csv", plan.evaluation.intervals),
        write_csv(out / "sites.csv", plan.evaluation.sites),
        write_csv(out / "history.csv", plan.history),
    ]


def _print_plan(plan, name: str, args, elapsed: float, frontier) -> None:
    """The plan's cost, the solver's status, and the service and occupancy it gives."""
    from ccsim.planning.coverage import shift_counts
    from ccsim.planning.frontier import cost_at_target
    from ccsim.report.formatting import format_value

    shifts, busiest = shift_counts(plan.scenario)
    print(
        f"\n{name}: {plan.simulations} simulations of {args.reps} replications "
        f"(seed {args.seed}), {elapsed:.0f}s wall; {shifts} agent-shifts ({busiest} agents "
        f"on the busiest day) on {len(plan.headcounts)} templates, pay {plan.cost:,.2f} "
        f"{plan.scenario.currency}"
    )
    print(shrinkage_line(plan.scenario))
    print(_time_line(plan))
    status = (
        f"integer program: {plan.solver_status}, MIP gap {plan.solver_gap:.2%} (above its bound)"
    )
    if plan.time_limited:
        status += (
            f"; a solve STOPPED AT ITS TIME LIMIT ({format_duration(args.time_limit)}): "
            "raise it with --time-limit"
        )
    print(status)
    for row in plan.evaluation.channels.itertuples():
        print(
            f"  {row.channel:<10} weekly {format_value('service_level', row.service_level)} "
            f"[{format_value('service_level', row.low)}, "
            f"{format_value('service_level', row.high)}] "
            f"target {row.target:.0%}; {row.share_at_floor:.1%} of {row.intervals} intervals "
            f"at the floor  {'met' if row.met else 'MISSED'}"
        )
    for row in plan.evaluation.sites.itertuples():
        print(f"  {row.site:<10} occupancy {row.occupancy:.1%} [{row.low:.1%}, {row.high:.1%}]")
    if frontier is not None:
        result = cost_at_target(frontier)
        print(
            f"  cost at target {result.cost:,.0f} [{result.low:,.0f}, {result.high:,.0f}] "
            f"{plan.scenario.currency}"
        )
    if plan.fresh is not None:
        print(plan.fresh.summary(plan.scenario.currency))
        for row in plan.fresh.evaluation.channels.itertuples():
            print(
                f"  {row.channel:<10} fresh: weekly lower bound "
                f"{format_value('service_level', row.low)};"
                f" {row.share_at_floor:.1%} of {row.intervals} intervals at the floor"
                f"  {'met' if row.met else 'MISSED'}"
            )
    if not plan.met:
        print("warning: the targets are not met; the plan is the last one tried")
    elif plan.fresh is not None and not plan.fresh.met:
        print(
            "warning: the plan misses a target on fresh replications even before any removal:"
            " more --reps"
        )
    elif not plan.trimmed:
        print("warning: trimming stopped at --max-trim: a shift may still be removable")
