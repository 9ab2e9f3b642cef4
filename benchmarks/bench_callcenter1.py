"""CALLCENTER-1 (SimOpt testbed): staff it by simulation optimisation, then judge the plan
and the two-step baseline on fresh days (issue #28).

Staffs the benchmark with :func:`ccsim.planning.simopt.simopt` (timed: wall and CPU seconds
of this process and its workers, per phase), then simulates the plan and the two-step
baseline (Erlang C per half-hour, covering integer program) on ``--days`` days whose seeds
are spawned from ``--eval-seed``, disjoint from the search's. Prints each plan's daily cost
with its 95% interval and each hour's constraint E[0.8 calls - answered within 20 s] with
its 95% interval and its one-sided 95% upper bound (feasible: every hour's bound <= 0),
the bounds and the gap. ``--write`` commits the plan (benchmarks/callcenter1/plan.csv) and
the staffed scenario (scenario.yaml); ``--plan`` judges the committed plan without staffing.

    python benchmarks/bench_callcenter1.py [--jobs 2] [--days 200] [--write] [--plan]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ccsim.planning.scenario_file import scenario_yaml  # noqa: E402
from ccsim.planning.simopt import simopt  # noqa: E402
from ccsim.planning.simopt_baseline import (  # noqa: E402
    cover,
    half_hour_requirement,
    lp_bound,
    work_bound,
)
from ccsim.planning.simopt_callcenter import (  # noqa: E402
    Day,
    ShiftType,
    plan_csv,
    read_plan,
    scenario,
)
from ccsim.planning.simopt_days import Days, day_seeds, simulate_days  # noqa: E402

FOLDER = ROOT / "benchmarks" / "callcenter1"


def cpu_seconds() -> float:
    """CPU seconds of this process and its finished workers."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def show(name: str, plan: dict[ShiftType, int], days: Days) -> float:
    cost, low, high = days.cost_interval()
    mean, lo, hi = days.interval()
    upper = days.upper()
    print(f"\n{name}: {sum(plan.values())} shifts, {len(plan)} shift types")
    print(f"  daily cost USD {cost:,.2f} [95% {low:,.2f}, {high:,.2f}]")
    print("  hour  E[0.8 calls - answered<=20s]  95% interval        one-sided 95% bound")
    for h in range(len(mean)):
        print(f"  {h:4d}  {mean[h]:10.1f}  [{lo[h]:8.1f}, {hi[h]:8.1f}]  {upper[h]:8.1f}")
    worst = int(np.argmax(upper))
    verdict = "feasible" if days.feasible() else "NOT feasible"
    print(f"  worst hour {worst}: bound {upper[worst]:.1f} -> {verdict} at 95% in every hour")
    return cost


def _pool(jobs: int):
    return ProcessPoolExecutor(jobs) if jobs > 1 else _no_pool()


def staff(day: Day, args) -> dict[ShiftType, int]:
    """Staff the benchmark, timed: CPU seconds of this process and of its workers, read
    once the workers have exited (their times are counted when they are reaped)."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    with _pool(args.jobs) as pool:
        found = simopt(day, n_days=args.search_days, seed=args.seed, pool=pool)
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    print(f"staffing: {wall:.1f} s wall, {cpu:.1f} s CPU on {args.jobs} worker(s)")
    print(f"  {found.simulations} plans simulated ({args.search_days} days each, 100 to confirm)")
    for phase, seconds in found.seconds.items():
        print(f"  {phase}: {seconds:.1f} s wall")
    print(f"  warm start (two-step) {sum(found.start.values())} shifts -> {found.shifts}")
    if args.write:
        (FOLDER / "plan.csv").write_text(plan_csv(found.plan))
        text = scenario_yaml(scenario(day, found.plan)).split("\n", 1)[1]
        header = (
            "# CALLCENTER-1 of the SimOpt testbed with the plan of plan.csv (README.md says\n"
            "# where each number comes from); written by benchmarks/bench_callcenter1.py --write\n"
        )
        (FOLDER / "scenario.yaml").write_text(header + text)
    return found.plan


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--days", type=int, default=200, help="fresh days to judge on")
    parser.add_argument("--eval-seed", type=int, default=2026)
    parser.add_argument("--seed", type=int, default=1, help="the search's days")
    parser.add_argument("--search-days", type=int, default=60)
    parser.add_argument("--plan", action="store_true", help="judge the committed plan")
    parser.add_argument("--write", action="store_true", help="commit plan.csv, scenario.yaml")
    args = parser.parse_args()
    day = Day()
    required = half_hour_requirement(day)
    baseline, gap = cover(day, required)
    plan = read_plan(FOLDER / "plan.csv") if args.plan else staff(day, args)
    seeds = day_seeds(args.eval_seed, args.days)
    with _pool(args.jobs) as pool:
        judged = simulate_days(day, plan, seeds, pool)
        base_days = simulate_days(day, baseline, seeds, pool)
    print(f"\njudged on {args.days} fresh days (seeds spawned from {args.eval_seed})")
    cost = show("simulation-optimised plan", plan, judged)
    base_cost = show("two-step baseline (Erlang C per half-hour, covering IP)", baseline, base_days)
    lp = lp_bound(day, required)
    work = work_bound(day)
    print(f"\ntwo-step integer program solver gap: {gap:.2%}")
    print(f"covering LP of the Erlang C requirement: USD {lp:,.2f} (a bound of the two-step")
    print("  model only: plans that cover that requirement cost at least this)")
    print(f"work bound of CALLCENTER-1 itself: USD {work:,.2f}")
    print(f"saving against the two-step baseline: USD {base_cost - cost:,.2f} a day")
    print(f"gap to the work bound: {(cost - work) / cost:.1%} of the plan's cost")
    print(f"plan against the two-step LP bound: {(cost - lp) / lp:+.1%}")
    return 0


class _no_pool:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


if __name__ == "__main__":
    sys.exit(main())
