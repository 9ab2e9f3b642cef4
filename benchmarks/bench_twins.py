"""Each benchmark model in ccsim against the same model written the textbook SimPy way.

For every model of ``twins.MODELS`` (M/M/50+M, the hybrid week, follow the sun, a blended
outbound day, Telethon), in one run on one machine: ccsim (in-process, ``ccsim.simulate``)
and its twin (``benchmarks/twins/``) run the same scenario for the same horizon and seeds,
in turn (ccsim seed 1, twin seed 1, ccsim seed 2, ...), after one untimed run of each, and
the script prints contacts per CPU second (``time.process_time``; ccsim's includes building
its KPI table, which it does on first use) of each, their ratio and PASS/FAIL against 5x. Contacts
are every contact either counted (``offered`` over every channel). Then Telethon's 1000
weeks: ``ccsim run configs/telethon.yaml --reps 1000`` in a fresh process (wall and CPU
time, with start-up), the same command in-process (wall and CPU, without start-up), and the
bare loop of 1000 ``ccsim.simulate`` calls. Exit status 0 unless --check is given.

    python benchmarks/bench_twins.py [--reps R] [--telethon-reps N] [--json OUT] [--check]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_engine import machine_facts
from twins import MODELS, ROOT

import ccsim  # noqa: E402  (twins puts the working tree first on sys.path)
from ccsim.cli import main as ccsim_main  # noqa: E402

TARGET = 5.0
TELETHON = ROOT / "configs" / "telethon.yaml"


def ccsim_contacts(result) -> int:
    return sum(t.offered for channel, t in result.tallies.items() if channel != "all")


def measure(model, horizon: float, reps: int) -> dict:
    """CPU seconds and contacts of ccsim and of the twin over seeds 1..reps, in turn."""
    scenario = model.scenario(horizon)
    # One untimed run of each first: the one-off costs of a first call (lazy imports,
    # caches) are no part of either's rate.
    ccsim.simulate(scenario, seed=0)
    model.twin(scenario, 0)
    figures = {"ccsim": [0.0, 0], "twin": [0.0, 0]}
    for seed in range(1, reps + 1):
        gc.collect()
        started = time.process_time()
        result = ccsim.simulate(scenario, seed=seed)
        result.kpis  # noqa: B018  built on first use; the twin computes its KPIs in its time
        figures["ccsim"][0] += time.process_time() - started
        figures["ccsim"][1] += ccsim_contacts(result)
        gc.collect()
        started = time.process_time()
        kpis = model.twin(scenario, seed)
        figures["twin"][0] += time.process_time() - started
        figures["twin"][1] += kpis["all"]["offered"]
    out = {"model": model.name, "horizon": f"{horizon:g}{model.unit}", "reps": reps}
    for name, (cpu, contacts) in figures.items():
        out[name] = {"cpu_s": cpu, "contacts": contacts, "per_cpu_s": contacts / cpu}
    out["ratio"] = out["ccsim"]["per_cpu_s"] / out["twin"]["per_cpu_s"]
    return out


def telethon(reps: int) -> dict:
    """Telethon's ``reps`` weeks: the command in a fresh process and in-process, and the
    bare loop of replications."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "ccsim", "run", str(TELETHON), "--reps", str(reps)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            [*command, "--out", f"{tmp}/fresh"], check=True, env=env, capture_output=True
        )
        fresh = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        fresh_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        started, started_cpu = time.perf_counter(), time.process_time()
        with (
            open(os.devnull, "w") as devnull,
            contextlib.redirect_stdout(devnull),
            contextlib.redirect_stderr(devnull),
        ):
            ccsim_main(["run", str(TELETHON), "--reps", str(reps), "--out", f"{tmp}/warm"])
        inside = time.perf_counter() - started
        inside_cpu = time.process_time() - started_cpu
    scenario = ccsim.load_scenario(TELETHON)
    started = time.process_time()
    for seed in range(reps):
        ccsim.simulate(scenario, seed=seed)
    loop_cpu = time.process_time() - started
    return {
        "reps": reps,
        "fresh_process_wall_s": fresh,
        "fresh_process_cpu_s": fresh_cpu,
        "in_process_wall_s": inside,
        "in_process_cpu_s": inside_cpu,
        "simulate_loop_cpu_s": loop_cpu,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3, help="seeds per model (default 3)")
    ap.add_argument("--telethon-reps", type=int, default=1000, help="0 skips it")
    ap.add_argument("--json", metavar="OUT", help="write the figures as JSON")
    ap.add_argument("--check", action="store_true", help="exit 1 if a ratio is under 5x")
    args = ap.parse_args(argv)

    print("machine: " + ", ".join(f"{k}={v}" for k, v in machine_facts().items()))
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    head = ("model", "horizon", "ccsim contacts/CPU-s", "twin contacts/CPU-s", "ratio")
    print("\n{:<22}{:>9}{:>22}{:>21}{:>8}".format(*head))
    rows = []
    for model in MODELS:
        row = measure(model, model.bench_horizon, args.reps)
        rows.append(row)
        verdict = "PASS" if row["ratio"] >= TARGET else "FAIL"
        print(
            f"{row['model']:<22}{row['horizon']:>9}{row['ccsim']['per_cpu_s']:>22,.0f}"
            f"{row['twin']['per_cpu_s']:>21,.0f}{row['ratio']:>7.2f}x  {verdict}"
        )
    figures = {"machine": machine_facts(), "models": rows}
    if args.telethon_reps:
        t = figures["telethon"] = telethon(args.telethon_reps)
        print(
            f"\nTelethon, {t['reps']} weeks: `ccsim run --reps {t['reps']}` "
            f"{t['fresh_process_wall_s']:.2f} s wall / {t['fresh_process_cpu_s']:.2f} s CPU in a "
            "fresh process (with start-up), "
            f"{t['in_process_wall_s']:.2f} s wall / {t['in_process_cpu_s']:.2f} s CPU in-process "
            f"(without); the bare simulate loop {t['simulate_loop_cpu_s']:.2f} s CPU. "
            "ContactCenters: 9.6 s in 2005 (Arena 263 s), 1.2 s on later hardware."
        )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    missed = [row["model"] for row in rows if row["ratio"] < TARGET]
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
