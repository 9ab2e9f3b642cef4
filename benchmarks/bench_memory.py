"""Peak memory against the number of replications: it should not grow.

Measures the peak resident set size of

* ``ccsim experiment`` (two scenarios of a small voice centre) at R and 10R replications,
* ``ccsim run`` (96 reporting intervals a day) at r and 10r replications,

each in a fresh Python process that runs the command in-process (``--jobs 1``) and reports
its own ``ru_maxrss``, and prints both figures and their ratio. Target: the larger run
within 10% of the smaller (ratio at most 1.10). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET = 1.10

SCENARIO = textwrap.dedent(
    """\
    name: memory
    horizon: {horizon}
    warmup: 0s
    interval: {interval}
    channels:
      voice:
        arrivals: {{rate: {rate}}}
        handle_time: {{dist: exponential, mean: 4min}}
        patience: {{dist: exponential, mean: 3min}}
        service_level: {{threshold: 20s, target: 0.8}}
    sites:
      - name: main
        agents: 4
    """
)

EXPERIMENT = textwrap.dedent(
    """\
    name: memory_study
    scenario: scenario.yaml
    seed: 1
    replications: 2
    baseline: base
    scenarios:
      base: {}
      more: {sites.0.agents: 5}
    """
)


def _child(argv: list[str]) -> None:
    """Run one ccsim command in this process and print its peak RSS in MB."""
    from ccsim.cli import main

    started = time.perf_counter()
    status = main(argv)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(
        json.dumps(
            {"status": status, "peak_mb": peak_kb / 1024, "wall_s": time.perf_counter() - started}
        )
    )


def _measure(argv: list[str], folder: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(argv)],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr}")
    result = json.loads(lines[-1])
    if result["status"] != 0:
        raise SystemExit(f"{' '.join(argv)} exited {result['status']}:\n{done.stderr}")
    return result


def _compare(title: str, runs: list[tuple[int, dict]]) -> bool:
    (small_n, small), (large_n, large) = runs
    ratio = large["peak_mb"] / small["peak_mb"]
    verdict = "PASS" if ratio <= TARGET else "FAIL"
    print(f"{title}")
    for n, run in runs:
        print(f"  {n:>6} replications: peak RSS {run['peak_mb']:7.1f} MB ({run['wall_s']:.0f}s)")
    print(f"  ratio {large_n}/{small_n}: {ratio:.3f}  (target <= {TARGET:.2f})  {verdict}")
    return ratio <= TARGET


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--experiment-reps", type=int, default=200, help="R (default 200)")
    parser.add_argument("--run-reps", type=int, default=100, help="r (default 100)")
    parser.add_argument("--report", action="store_true", help="also render report.html")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    if args.child is not None:
        _child(json.loads(args.child))
        return 0

    ok = True
    with tempfile.TemporaryDirectory(prefix="ccsim-memory-") as scratch:
        folder = Path(scratch)
        (folder / "scenario.yaml").write_text(
            SCENARIO.format(horizon="2h", interval="30min", rate="1/min")
        )
        (folder / "day.yaml").write_text(
            SCENARIO.format(horizon="24h", interval="15min", rate="0.5/min")
        )
        (folder / "experiment.yaml").write_text(EXPERIMENT)
        report = [] if args.report else ["--no-report"]
        runs = []
        for n in (args.experiment_reps, 10 * args.experiment_reps):
            argv = ["experiment", "experiment.yaml", "--reps", str(n), "--out", f"exp{n}"]
            runs.append((n, _measure([*argv, "--jobs", "1", "--no-progress", *report], folder)))
        ok &= _compare("ccsim experiment (2 scenarios, 2 h, 120 contacts per replication)", runs)
        runs = []
        for n in (args.run_reps, 10 * args.run_reps):
            argv = ["run", "day.yaml", "--reps", str(n), "--jobs", "1", "--out", f"run{n}"]
            runs.append((n, _measure(argv, folder)))
        ok &= _compare("ccsim run (96 intervals of 15 min, 720 contacts per replication)", runs)
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
