"""Common random numbers: variance of paired differences with CRN against independent streams.

Two scenarios of configs/example.yaml, 11 agents (base) and 12 (plus_one), run twice with the
same master seed: `common_random_numbers: true` (replication r of both scenarios draws from
the same streams per purpose) and `false` (each scenario its own streams). For each KPI the
per-replication difference plus_one - base, paired by replication and channel, has a variance
in each mode; var(CRN) / var(independent) is the variance reduction, and its inverse the
factor of replications saved (independent streams would need that many times more for the
same precision). Also prints the half-widths of the paired-difference 95% intervals that
`.comparisons` reports in each mode. Target: ratio < 0.5 for service_level and asa. Exit
status is 0 unless --check is given.

    python benchmarks/bench_crn.py [--reps R] [--seed S] [--jobs J] [--json OUT] [--check]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from bench_engine import machine_facts, verdict

# Benchmark the working tree's ccsim even when the package is not installed.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ccsim  # noqa: E402

KPIS = ("service_level", "asa", "abandon_rate", "occupancy", "offered")
CHECKED = ("service_level", "asa")
TARGET_RATIO = 0.5
SCENARIOS = {"base": {}, "plus_one": {"sites.0.agents": 12}}


def run_mode(crn: bool, reps: int, seed: int, jobs: int, scratch: Path) -> tuple[dict, object]:
    """One experiment in one mode; the file differs from the other mode in that flag only."""
    spec = {
        "name": f"bench_crn_{'crn' if crn else 'independent'}",
        "scenario": str(ROOT / "configs" / "example.yaml"),  # absolute: the file is in /tmp
        "seed": seed,
        "replications": reps,
        "common_random_numbers": crn,
        "baseline": "base",
        "scenarios": SCENARIOS,
    }
    path = scratch / f"{spec['name']}.yaml"
    path.write_text(json.dumps(spec))  # JSON is YAML
    out = Path(tempfile.mkdtemp(dir=scratch))  # fresh: a reused out directory would resume
    wall, cpu = time.perf_counter(), time.process_time()
    result = ccsim.run_experiment(path, n_jobs=jobs, out=out)
    timing = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}
    result.replications  # noqa: B018 - read from out (it is loaded when first asked) before out goes
    shutil.rmtree(out)
    return timing, result


def differences(replications: pd.DataFrame) -> pd.DataFrame:
    """plus_one - base per (replication, channel): index alignment does the pairing."""
    table = replications.set_index(["scenario", "replication", "channel"])[list(KPIS)]
    return (table.loc["plus_one"] - table.loc["base"]).astype(float)


def half_widths(comparisons: pd.DataFrame) -> pd.Series:
    rows = comparisons[(comparisons.scenario == "plus_one") & comparisons.kpi.isin(KPIS)]
    return rows.set_index(["channel", "kpi"])["half_width"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200, help="replications per mode (default 200)")
    ap.add_argument("--seed", type=int, default=1, help="master seed of both modes (default 1)")
    ap.add_argument("--jobs", type=int, default=1, help="n_jobs of each run (default 1)")
    ap.add_argument("--json", metavar="OUT", help="write the figures as JSON")
    ap.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = ap.parse_args(argv)
    if args.reps < 2:
        ap.error("--reps must be at least 2 (a variance needs two)")

    facts = machine_facts()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in facts.items()))
    print(
        f"model: configs/example.yaml, base (11 agents) vs plus_one (12 agents), {args.reps} "
        f"replications each, seed {args.seed}, jobs {args.jobs}"
    )
    scratch = Path(tempfile.mkdtemp(prefix="bench_crn_"))
    timings, diffs, widths = {}, {}, {}
    for mode, crn in (("crn", True), ("independent", False)):
        timings[mode], result = run_mode(crn, args.reps, args.seed, args.jobs, scratch)
        diffs[mode], widths[mode] = (
            differences(result.replications),
            half_widths(result.comparisons),
        )
        t, ran = timings[mode], list(result.replications.scenario.unique())
        print(f"{mode}: {t['wall_s']:.2f} s wall, {t['cpu_s']:.2f} s CPU, scenarios run {ran}")
    shutil.rmtree(scratch)

    rows = []
    for channel in diffs["crn"].index.unique("channel"):
        for kpi in KPIS:
            var = {
                m: float(d.xs(channel, level="channel")[kpi].var(ddof=1)) for m, d in diffs.items()
            }
            ratio = var["crn"] / var["independent"] if var["independent"] > 0 else float("nan")
            rows.append(
                {
                    "channel": channel,
                    "kpi": kpi,
                    "var_crn": var["crn"],
                    "var_independent": var["independent"],
                    "ratio": ratio,
                    # A variance of exactly 0 (offered: same arrivals) saves without bound.
                    "saved": 1 / ratio if ratio > 0 else float("inf"),
                    "half_width_crn": float(widths["crn"].get((channel, kpi), float("nan"))),
                    "half_width_independent": float(
                        widths["independent"].get((channel, kpi), float("nan"))
                    ),
                }
            )
    table = pd.DataFrame(rows)
    print(
        f"\n{'channel':<9}{'kpi':<15}{'var CRN':>11}{'var indep':>11}{'ratio':>8}{'saved':>8}"
        f"{'hw CRN':>10}{'hw indep':>10}"
    )
    for r in table.itertuples():
        print(
            f"{r.channel:<9}{r.kpi:<15}{r.var_crn:>11.3g}{r.var_independent:>11.3g}"
            f"{r.ratio:>8.3f}{r.saved:>7.1f}x{r.half_width_crn:>10.3g}"
            f"{r.half_width_independent:>10.3g}"
        )
    print(
        "var: sample variance of the per-replication differences plus_one - base (ratios\n"
        "per replication; asa in seconds). ratio = var CRN / var indep; saved = 1 / ratio.\n"
        "hw: half-width of the 95% interval of the difference in .comparisons (ratios of\n"
        "totals, delta method), so it shrinks by about sqrt(ratio), not by ratio."
    )
    if any(t["wall_s"] > 1.15 * t["cpu_s"] for t in timings.values()) and args.jobs == 1:
        print("WARNING: wall time > 1.15x CPU time: machine busy?")

    checked = table[table.kpi.isin(CHECKED)]
    checks = {
        f"variance ratio < {TARGET_RATIO:g} for {kpi}": bool(
            (checked[checked.kpi == kpi].ratio < TARGET_RATIO).all()
        )
        for kpi in CHECKED
    }
    print()
    for label, ok in checks.items():
        print(f"{verdict(ok)}: {label}")
    if args.json:
        report = {
            "machine": facts,
            "reps": args.reps,
            "seed": args.seed,
            "jobs": args.jobs,
            "timings": timings,
            "kpis": table.replace(float("inf"), None).to_dict("records"),
            "checks": {k: verdict(ok) for k, ok in checks.items()},
        }
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return 1 if args.check and not all(checks.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
