"""``ccsim run``: replications of one scenario file, their tables written together with
their manifest, and each channel's KPIs on the terminal."""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path

from ccsim.cli.options import add, add_command, jobs, non_negative_int, option, output_path, reps
from ccsim.cli.summary import print_summary, print_types, written_units
from ccsim.model.units import format_duration
from ccsim.version import __version__

__all__ = ["add_parser", "run"]


def add_parser(commands) -> None:
    parser = add_command(
        commands,
        "run",
        "run replications of one scenario file",
        "Prints each channel's KPIs that apply to the scenario, with 95% confidence intervals,\n"
        "in the units the file uses; writes replications.csv, intervals.csv, summary.csv.",
        "  ccsim run configs/example.yaml\n"
        "  ccsim run configs/example.yaml --reps 100 --jobs -1 --plot --out results/example\n"
        "  ccsim run configs/erlang_a.yaml --reps 100 --theory   # beside Erlang A",
    )
    parser.set_defaults(handler=run)
    add(parser, "config", type=Path, help="scenario YAML file, e.g. configs/example.yaml")
    add(
        parser,
        "--reps",
        type=option(reps, "--reps"),
        default=20,
        help="number of replications (independent days or weeks)",
    )
    add(
        parser,
        "--seed",
        type=option(non_negative_int, "--seed"),
        default=0,
        help="master seed: the same seed gives the same numbers",
    )
    add(
        parser,
        "--jobs",
        type=option(jobs, "--jobs"),
        default=1,
        help="worker processes; -1: all cores",
    )
    add(
        parser,
        "--out",
        type=option(output_path, "--out"),
        help="output folder (default results/<scenario name>)",
    )
    add(parser, "--plot", action="store_true", help="also write OUT/run.html with figures")
    add(
        parser,
        "--record-contacts",
        action="store_true",
        help="also write OUT/contacts.csv, one row per contact (input for 'ccsim fit')",
    )
    add(
        parser,
        "--theory",
        action="store_true",
        help="print the run beside the exact Erlang C or A values (or the birth-death chain "
        "with balking) for a scenario they describe: one channel, a constant rate, exponential "
        "handle times and patience, one site with fixed agents, a warm-up; else exit 2",
    )
    add(
        parser,
        "--no-progress",
        action="store_true",
        help="no progress bar or progress lines (default: a bar on a terminal, a line every "
        "10 s elsewhere)",
    )


def run(args) -> int:
    from ccsim.experiment.folder import (
        commit_generation,
        output_folder,
        start_generation,
        writing_to,
    )
    from ccsim.experiment.summary import summarise
    from ccsim.experiment.type_tables import split_types, summarise_types
    from ccsim.files import commit_staged, write_csv
    from ccsim.model import load_scenario

    scenario = load_scenario(args.config)
    theory = _theory(args.config, scenario) if args.theory else None  # refused before running
    out = args.out if args.out is not None else Path("results") / scenario.name
    with output_folder(out), writing_to(out, "the tables"):
        started = time.perf_counter()
        replications, staged = _simulate_into(out, scenario, args)
        replications, types = split_types(replications)
        summary = summarise(replications)
        elapsed = time.perf_counter() - started
        # One generation: the tables, then the manifest that lists them (ccsim.experiment.folder).
        start_generation(out)
        commit_staged(staged, out / "intervals.csv")
        paths = [
            write_csv(out / "replications.csv", replications),
            out / "intervals.csv",
            write_csv(out / "summary.csv", summary),
        ]
        if not types.empty:  # a scenario with request types
            paths.append(write_csv(out / "request_types.csv", types))
        if args.record_contacts:
            paths.append(_write_contacts(out / "contacts.csv", scenario, args))
        facts = {"command": "run", "scenario": scenario.name, "file": str(args.config)}
        facts["currency"] = scenario.currency  # the page writes it after every amount
        facts["thresholds"] = {  # the waiting-time figure spans each channel's
            name: float(channel.service_level.threshold)
            for name, channel in scenario.channels.items()
        }
        facts |= {"replications": args.reps, "seed": args.seed, "ccsim": __version__}
        if theory is not None:  # the page sets the run beside it, as the terminal does
            queue, exact = theory
            facts["theory"] = {
                "channel": queue.channel,
                "model": queue.model,
                "inputs": queue.inputs,
                "exact": {kpi: float(value) for kpi, value in exact.items()},
            }
        commit_generation(out, paths, facts)
        page = _page(out, scenario.name) if args.plot else None  # in the lock: no run between
    print(
        f"{scenario.name}: {args.reps} replications of {format_duration(scenario.horizon)} "
        f"(warm-up {format_duration(scenario.warmup)}), seed {args.seed}, "
        f"{elapsed:.1f}s wall"
    )
    if theory is None:
        print_summary(summary, args.reps, scenario, written_units(args.config, scenario))
    else:
        _print_theory(summary, *theory)
    if not types.empty:
        print_types(summarise_types(types))
    contacts = ", contacts.csv" if args.record_contacts else ""
    contacts = (", request_types.csv" if not types.empty else "") + contacts
    shown = "the KPIs this scenario models" if theory is None else "the KPIs the theory gives"
    print(
        f"\nshown: {shown}; every KPI is in summary.csv\n"
        f"wrote {out}/: replications.csv, intervals.csv, summary.csv{contacts}, manifest.json"
    )
    if page is not None:
        print(f"page: {page}")
    return 0


def _page(out: Path, name: str) -> Path:
    from ccsim.report.run_page import render_run_page  # matplotlib: only when asked

    return render_run_page(out, name)


def _theory(path: Path, scenario):
    """The queue ``scenario`` is and its exact KPIs; a ConfigError naming the field whose
    assumption fails where the theory does not describe it."""
    from ccsim.model.errors import ConfigError
    from ccsim.theory.exact import Mismatch, exact_kpis, markovian_queue

    queue = markovian_queue(scenario)
    if isinstance(queue, Mismatch):
        raise ConfigError(str(path), queue.path, queue.reason)
    try:
        return queue, exact_kpis(queue)
    except ValueError:
        load = queue.rate * queue.aht
        raise ConfigError(
            str(path),
            f"channels.{queue.channel}",
            f"the theory check needs a steady state; {load:.4g} Erlangs on {queue.agents} "
            "agents with nobody abandoning have none (the queue grows without end)",
        ) from None


def _print_theory(summary, queue, exact: dict[str, float]) -> None:
    """The channel's KPIs beside their exact values: estimate, interval, exact, covered."""
    from ccsim.experiment.theory_check import theory_rows
    from ccsim.report.run_page import theory_cells  # the page's cells: the same figures

    print(f"\n{queue.channel} against {queue.model}: {queue.inputs}")
    rows = theory_rows(summary, queue.channel, exact)
    width = max(len(row.kpi) for row in rows)
    print(f"  {'kpi':<{width}}  {'simulated':>10}  {'95% interval':<20}  {'exact':>10}  covered")
    for row, (value, interval, exact_value, covered) in zip(rows, theory_cells(rows), strict=True):
        mark = "yes" if covered else "NO"
        print(f"  {row.kpi:<{width}}  {value:>10}  {interval:<20}  {exact_value:>10}  {mark}")
    missed = sum(not row.covered for row in rows)
    print(
        f"\n{len(rows) - missed} of {len(rows)} intervals cover the exact value. Each misses 1 "
        "time in 20 by chance; a miss\nthat stays as --reps grows is a bias: lengthen the "
        "warm-up or the horizon."
    )


#: Contacts a block of the contact log aims at: its rows are held until written, so this,
#: times the workers, bounds the memory of ``--record-contacts`` whatever ``--reps``.
_CONTACTS_PER_LOG_BLOCK = 20_000


def contact_block(scenario, seeds, first: int):
    """The contact log of replications ``first, first + 1, ...`` (their ``seeds``): a task
    of a worker, module-level so that it can be sent to one."""
    import pandas as pd

    from ccsim.fit.records import contact_log
    from ccsim.sim.engine import simulate

    logs = [
        contact_log(simulate(scenario, seed, record_contacts=True), first + i)
        for i, seed in enumerate(seeds)
    ]
    return first, pd.concat(logs, ignore_index=True)


def _write_contacts(path: Path, scenario, args) -> Path:
    """One row per contact of every replication (the seeds of the run: the same contacts),
    simulated on ``--jobs`` workers in blocks and appended in replication order as they
    come: memory does not grow with ``--reps`` (every replication's rows were held, then
    joined, on one process)."""
    import math

    from ccsim.experiment.backends import open_executor
    from ccsim.experiment.parallel import block_ranges
    from ccsim.experiment.replications import replication_seeds
    from ccsim.files import append_csv, atomic_write
    from ccsim.sim.arrivals import expected_arrivals

    seeds = replication_seeds(args.seed, args.reps)
    calendar = scenario.calendar()
    expected = sum(
        expected_arrivals(c.arrivals, calendar)
        for c in scenario.channels.values()
        if c.arrivals is not None
    )
    per_block = max(1, int(_CONTACTS_PER_LOG_BLOCK // max(expected, 1.0)))

    def write(tmp: str) -> None:
        with open_executor("loky", args.jobs) as executor:
            size = max(1, min(per_block, math.ceil(args.reps / (4 * executor.workers))))
            blocks = block_ranges(0, args.reps, size)
            tasks = [(scenario, seeds[a:b], a) for a, b in blocks]
            waiting, turn, stops = {}, 0, dict(blocks)
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                for first, log in executor.map_unordered(contact_block, tasks):
                    waiting[first] = log
                    while turn in waiting:
                        log = waiting.pop(turn)
                        append_csv(handle, log, header=turn == 0)
                        turn = stops[turn]

    return atomic_write(path, write)


def _simulate_into(out: Path, scenario, args):
    """Run the replications, writing their interval rows block by block (in replication
    order) to a temporary file in ``out``; return the replication rows and that file.
    Interval rows are most of the output: streaming them keeps memory flat in ``--reps``."""
    import pandas as pd

    from ccsim.experiment.parallel import iter_replications
    from ccsim.files import append_csv, discard_staged, remove_leftovers, staging_file

    remove_leftovers(out, ["intervals.csv"])  # from a run killed mid-way: ccsim's own only
    staged = staging_file(out / "intervals.csv")
    tables = []
    # What start-up made (modules, pandas, the scenario) lives as long as the run: frozen,
    # the collector's full passes over the replications' garbage leave it out (about 80 ms
    # a pass, a few passes per hundred replications). Thawed after, back in the oldest
    # generation, collected as before. Not where a caller froze objects of its own:
    # thawing would thaw those too.
    freeze = gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    try:
        with open(staged, "w", encoding="utf-8", newline="") as handle:
            blocks = iter_replications(
                scenario,
                args.reps,
                seed=args.seed,
                n_jobs=args.jobs,
                intervals=True,
                progress=not args.no_progress,
                by_type=True,
            )
            for reps, rows in blocks:
                tables.append(reps)
                append_csv(handle, rows, header=handle.tell() == 0)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        discard_staged(staged)
        raise
    finally:
        if freeze:
            gc.unfreeze()
    return pd.concat(tables, ignore_index=True), staged
