"""One model's cost at equal service, as the study reads it, on several seeds and plans.

The study (``experiments/operating_models.yaml``) reads each model's cost at equal service
from 8 replications of one seed (2026), and each site's crossing from a sweep of 6
replications a point. Where a site is bound by an interval floor (the share of intervals at
target - 15 points, judged on the replications pooled), that crossing is one figure per
model: the t interval of ``equal_service.csv`` carries the replications' spread at fixed
crossings, not the crossing's own sampling error (docs/metrics.md, "Each site at its own
equal-service point"). This script measures what a seed moves: for each plan of one model
(a git revision of ``configs/models/<model>.yaml``) and each seed, it runs the study on the
baseline and that model alone (the same file, without the joint sample of the inputs and
the total cost, which do not enter the cost at equal service) and prints the cost with its
interval, each site's scale and what binds it, and the channels' shares of intervals at the
floor at the plan; then, per plan, the seed-to-seed standard deviation of the cost beside
the intervals' mean half-width, and each plan's paired difference to the first plan, seed
by seed, with a t interval over the seeds (a seed is one independent draw of the study's
whole estimate). A seed where some site's crossing is not bracketed gives no cost (``n``
0), as in the study.

    python benchmarks/bench_study_seeds.py hybrid --plans HEAD a1a15c9 --seeds 2026 7 3 5
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ccsim.experiment.stats import mean_ci  # noqa: E402

STUDY = ROOT / "experiments" / "operating_models.yaml"
#: Parts of the study that do not enter the cost at equal service (its answer's ranges).
NOT_READ = ("uncertainty", "total_cost", "selection")


def plan_text(revision: str, model: str) -> str:
    """The model file at ``revision`` (``WORKTREE``: as it is on disk)."""
    path = f"configs/models/{model}.yaml"
    if revision == "WORKTREE":
        return (ROOT / path).read_text()
    return subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{revision}:{path}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def experiment_text(model: str, plan_file: str, seed: int, name: str) -> str:
    """The study with its baseline and ``model`` alone, the model's file ``plan_file``
    (relative to ``configs/models``), on ``seed``."""
    yaml = YAML(typ="safe")
    spec = yaml.load(STUDY.read_text())
    baseline = spec["baseline"]
    spec["scenarios"] = {k: v for k, v in spec["scenarios"].items() if k in (baseline, model)}
    spec["scenarios"][model]["scenario"] = f"../configs/models/{plan_file}"
    for key in NOT_READ:
        spec.pop(key, None)
    spec |= {"seed": seed, "name": name}
    out = io.StringIO()
    yaml.dump(spec, out)
    return out.getvalue()


def read(out: Path, model: str) -> dict:
    """The model's row of ``equal_service.csv`` and its floors at the plan."""
    own = pd.read_csv(out / "equal_service.csv").set_index("scenario").loc[model]
    targets = pd.read_csv(out / "targets.csv")
    floors = targets[(targets.scenario == model) & (targets.kind == "channel")]
    sites = [c.removeprefix("binding_") for c in own.index if c.startswith("binding_")]
    scales = " ".join(
        f"{site} {own[f'scale_{site}']:.3f} ({own[f'binding_{site}']})"
        for site in sites
        if f"scale_{site}" in own and isinstance(own[f"binding_{site}"], str)
    )
    return {
        "cost": float(own["cost"]),
        "half": float(own["cost_high"] - own["cost_low"]) / 2,
        "n": int(own["n"]),
        "scales": scales,
        "floors": " ".join(f"{r.channel} {r.share_at_floor:.1%}" for r in floors.itertuples()),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", help="a model of the study, e.g. hybrid")
    ap.add_argument("--plans", nargs="+", default=["WORKTREE"], help="git revisions")
    ap.add_argument("--seeds", nargs="+", type=int, default=[2026, 7, 3, 5])
    ap.add_argument("--jobs", default="-1")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "configs", work / "configs")
        (work / "experiments").mkdir()
        found = []
        for i, revision in enumerate(args.plans):
            plan_file = f"_plan{i}.yaml"
            (work / "configs" / "models" / plan_file).write_text(plan_text(revision, args.model))
            for seed in args.seeds:
                name = f"plan{i}_{seed}"
                spec = work / "experiments" / f"{name}.yaml"
                spec.write_text(experiment_text(args.model, plan_file, seed, name))
                start = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "-m", "ccsim", "experiment", str(spec), "--jobs", args.jobs,
                     "--out", str(work / "results" / name), "--no-progress"],
                    capture_output=True, text=True, cwd=work,
                    env=os.environ | {"PYTHONPATH": str(ROOT)},  # this tree's ccsim
                )  # fmt: skip
                if done.returncode:  # say why, and go on with the other seeds
                    print(f"{revision:>10} seed {seed:>5}: failed: {done.stderr[-300:]}")
                    continue
                row = read(work / "results" / name, args.model)
                found.append({"plan": revision, "seed": seed} | row)
                print(
                    f"{revision:>10} seed {seed:>5}: {row['cost']:>12,.0f} USD/week "
                    f"+/- {row['half']:,.0f} (n {row['n']}); {row['scales']}; "
                    f"floors at the plan: {row['floors']}  [{time.perf_counter() - start:.0f} s]",
                    flush=True,
                )
    summarize(pd.DataFrame(found), args.plans)
    return 0


def summarize(found: pd.DataFrame, plans: list[str]) -> None:
    """Per plan the seed-to-seed spread against the intervals; each plan against the first."""
    print()
    for plan, own in found.groupby("plan", sort=False):
        costs = own["cost"].dropna().to_numpy(float)
        spread = costs.std(ddof=1) if len(costs) > 1 else float("nan")
        print(
            f"{plan}: {len(costs)} of {len(own)} seeds with a cost; mean {costs.mean():,.0f}, "
            f"seed-to-seed sd {spread:,.0f} ({spread / costs.mean():.2%}); "
            f"the intervals' mean half-width {own['half'].mean():,.0f}"
        )
    wide = found.pivot(index="seed", columns="plan", values="cost")
    for plan in plans[1:]:
        both = wide[[plans[0], plan]].dropna()
        if len(both) < 2:
            print(f"{plan} against {plans[0]}: fewer than 2 seeds with both costs")
            continue
        pct = 100 * (both[plan] / both[plans[0]] - 1)
        estimate = mean_ci(pct.to_numpy(float), 0.95)
        print(
            f"{plan} against {plans[0]}: "
            + ", ".join(f"seed {s} {v:+.2f}%" for s, v in pct.items())
            + f"; mean {estimate.value:+.2f}% [{estimate.low:+.2f}%, {estimate.high:+.2f}%] "
            f"over {len(both)} seeds"
        )


if __name__ == "__main__":
    sys.exit(main())
