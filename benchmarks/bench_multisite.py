"""Multi-site benchmark: weeks of follow-the-sun operation against the single queue.

The multi-site model is ``configs/follow_the_sun.yaml`` run for several weeks: New York
customers, voice and chat with weekday volumes, an intraday profile and day busyness
(30-minute intervals, daylight saving honoured), a Dallas site and a Manila site on shifts
in their own time zones with staggered breaks, shrinkage, overrun and night differential,
and routing to the cheaper site. The single-queue model is the engine benchmark's
M/M/50+M. Both run in the same process; the figures are contacts per wall and per CPU
second (best of --repeat); the target uses CPU time: the multi-site model within a factor
1.5 of the single queue. Exit status 0 unless --check is given.

    python benchmarks/bench_multisite.py [--weeks W] [--repeat R] [--json OUT] [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench_engine import machine_facts, mmc_scenario_dict, verdict

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ccsim  # noqa: E402
from ccsim.model import read_yaml_mapping  # noqa: E402

TARGET_FACTOR = 1.5
CONFIG = ROOT / "configs" / "follow_the_sun.yaml"


def multisite(weeks: float) -> ccsim.Scenario:
    data = read_yaml_mapping(CONFIG)
    data["horizon"] = f"{168 * weeks:g}h"
    return ccsim.parse_scenario(data, source=str(CONFIG), base_dir=CONFIG.parent)


def single_queue(hours: float) -> ccsim.Scenario:
    return ccsim.parse_scenario(mmc_scenario_dict(hours), source="benchmark")


def _measure(scenario: ccsim.Scenario, best: dict) -> None:
    started, started_cpu = time.perf_counter(), time.process_time()
    result = ccsim.simulate(scenario, seed=1)
    wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    contacts = sum(t.offered for channel, t in result.tallies.items() if channel != "all")
    best["contacts"], best["kpis"] = contacts, result.kpis
    best["wall_s"] = min(best.get("wall_s", float("inf")), wall)
    best["cpu_s"] = min(best.get("cpu_s", float("inf")), cpu)
    best["contacts_per_s"] = contacts / best["wall_s"]
    best["contacts_per_cpu_s"] = contacts / best["cpu_s"]


def rates(scenarios: list[ccsim.Scenario], repeat: int) -> list[dict]:
    """Best wall and CPU time of ``repeat`` runs of each scenario, taken in turn (A, B, A,
    B, ...) so that a busy spell on a shared machine hits both. The target uses CPU time;
    on a 2-vCPU VM a neighbour on the sibling hyperthread still slows both, hence the
    alternation and the best of several."""
    best: list[dict] = [{} for _ in scenarios]
    for _ in range(repeat):
        for scenario, figures in zip(scenarios, best, strict=True):
            _measure(scenario, figures)
    return best


def print_rates(rows: list[tuple[str, dict]]) -> None:
    """The figures of each model, one line each."""
    width = max(34, *(len(name) + 2 for name, _ in rows))
    print(f"{'model':<{width}}{'contacts':>10}{'wall s':>9}{'contacts/s':>12}{'per CPU s':>12}")
    for name, r in rows:
        print(
            f"{name:<{width}}{r['contacts']:>10,}{r['wall_s']:>9.2f}{r['contacts_per_s']:>12,.0f}"
            f"{r['contacts_per_cpu_s']:>12,.0f}"
        )


def write_figures(path: str, named: dict[str, dict], factor: float) -> None:
    """The measured figures as JSON (each model's, less its KPI table, and the factor)."""
    figures = {name: {k: v for k, v in r.items() if k != "kpis"} for name, r in named.items()}
    Path(path).write_text(json.dumps({**figures, "factor": factor}, indent=2))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weeks", type=float, default=4, help="multi-site horizon (default 4)")
    ap.add_argument("--repeat", type=int, default=5, help="repeats; best times are kept")
    ap.add_argument("--json", metavar="OUT", help="write the figures as JSON")
    ap.add_argument("--check", action="store_true", help="exit 1 if the target is missed")
    args = ap.parse_args(argv)

    print("machine: " + ", ".join(f"{k}={v}" for k, v in machine_facts().items()))
    single, multi = rates([single_queue(100), multisite(args.weeks)], args.repeat)
    factor = single["contacts_per_cpu_s"] / multi["contacts_per_cpu_s"]
    print_rates(
        [
            ("single queue M/M/50+M, 100 h", single),
            (f"follow the sun, {args.weeks:g} week(s)", multi),
        ]
    )
    print(f"single / multi-site, per CPU second: {factor:.2f}x (target <= {TARGET_FACTOR})")
    print(
        "multi-site service level by channel: "
        + ", ".join(f"{ch} {row.service_level:.1%}" for ch, row in multi["kpis"].iterrows())
    )
    ok = factor <= TARGET_FACTOR
    print(f"{verdict(ok)}: multi-site within {TARGET_FACTOR}x of the single queue")
    if args.json:
        write_figures(args.json, {"single": single, "multisite": multi}, factor)
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
