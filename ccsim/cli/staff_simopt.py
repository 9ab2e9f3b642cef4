"""``ccsim staff --method simopt``: CALLCENTER-1 of the SimOpt testbed staffed by simulation
optimisation (docs/staffing.md, "CALLCENTER-1"). The scenario must be the benchmark's
(``benchmarks/callcenter1/scenario.yaml``; only its headcounts may differ): the search knows
its shift types, lunch windows and hourly constraints. Writes ``plan.csv`` (one row per
shift type used) and ``schedule.yaml`` (the scenario with the plan) to ``--out``."""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from pathlib import Path

from ccsim.model.errors import UserError

__all__ = ["SIMOPT_DAYS", "refuse_other_scenarios", "staff_simopt"]

#: Days each plan is simulated on (common random numbers), and days to confirm the result.
SIMOPT_DAYS = 60


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def refuse_other_scenarios(args, scenario) -> None:
    """``--method simopt`` staffs CALLCENTER-1 alone: any other scenario is refused in one
    line, before the output folder is made."""
    from ccsim.planning.simopt_callcenter import plan_from_scenario

    try:
        plan_from_scenario(scenario)
    except ValueError as exc:
        raise UserError(
            f"{args.config}: --method simopt staffs CALLCENTER-1 only "
            f"(benchmarks/callcenter1/scenario.yaml): {exc}"
        ) from exc


def staff_simopt(args, scenario, out: Path) -> int:
    from ccsim.experiment.folder import writing_to
    from ccsim.files import write_text
    from ccsim.planning.scenario_file import scenario_yaml
    from ccsim.planning.simopt import simopt
    from ccsim.planning.simopt_callcenter import FULL_DAY, plan_csv
    from ccsim.planning.simopt_callcenter import scenario as staffed

    workers = args.jobs if args.jobs > 0 else (os.cpu_count() or 1)
    wall, cpu = time.perf_counter(), _cpu_seconds()
    with ProcessPoolExecutor(workers) if workers > 1 else nullcontext() as pool:
        found = simopt(FULL_DAY, n_days=SIMOPT_DAYS, seed=args.seed, pool=pool)
    wall, cpu = time.perf_counter() - wall, _cpu_seconds() - cpu
    with writing_to(out, "the plan"):
        write_text(out / "plan.csv", plan_csv(found.plan))
        write_text(out / "schedule.yaml", scenario_yaml(staffed(FULL_DAY, found.plan)))
    confirmed = [met for phase, _, met in found.history if phase == "confirmation"]
    verdict = (
        "every hour met at 95% on them and on 100 more days"
        if confirmed and confirmed[-1]
        else "no cheaper plan confirmed on 100 more days: the dearest met on the sample"
    )
    cost, low, high = found.days.cost_interval()
    start_cost = found.start_days.cost_interval()[0]
    print(
        f"{scenario.name}: {found.shifts} shifts (two-step start {sum(found.start.values())}), "
        f"daily cost USD {cost:,.2f} [95% {low:,.2f}, {high:,.2f}] on the search's "
        f"{SIMOPT_DAYS} days (two-step USD {start_cost:,.2f}); {verdict}; "
        f"{found.simulations} plans simulated in {wall:.0f} s "
        f"({cpu:.0f} s CPU, {workers} worker(s)); {out}/plan.csv"
    )
    return 0
