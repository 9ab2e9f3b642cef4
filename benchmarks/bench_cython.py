"""The engine compiled with Cython against the same engine interpreted, in turn.

Issue #29 asked whether compiling the engine's modules (``ccsim/sim/*.py``,
``ccsim/sim/features/*.py``, not the packages' ``__init__``) with Cython 3, unchanged, in
its pure-Python mode, makes the benchmark models faster. This script answers for the tree
it is in: ``--build DIR`` copies the tracked files of the working tree to DIR and compiles
the modules there, in place, with :data:`DIRECTIVES` (minutes on two cores; the checkout
itself gets no ``.so`` that could go stale under an edit). Without ``--build`` it times:
fresh processes alternate between the source tree and DIR (``--modules`` keeps only the
named modules compiled in DIR, by moving the others' ``.so`` aside), each running every
benchmark model (``twins.MODELS``, their ``bench_horizon``) for seeds 1..R after one untimed
run, and prints contacts per CPU second (``time.process_time`` of ``ccsim.simulate``) of
each tree, run by run, and the compiled tree's rate over the interpreted one's.

    python benchmarks/bench_cython.py --build /tmp/ccsim-compiled   # needs Cython and gcc
    python benchmarks/bench_cython.py --compiled /tmp/ccsim-compiled [--rounds 3] [--reps 3]
    python benchmarks/bench_cython.py --compiled /tmp/ccsim-compiled --instructions  # valgrind

``--instructions`` counts, with valgrind's callgrind, the machine instructions of one
replication of each model (at ``gate.py``'s horizons) from each tree, per contact: a figure
that a busy machine does not move, where the timings on two shared cores move by 30%.

benchmarks/README.md ("December 2026: the engine compiled with Cython") has the figures: the
compiled engine is slower than the interpreted one under Python 3.11.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ccsim/sim", "ccsim/sim/features")

# Annotations are not read as C types (a ``float`` argument would be a C double, and an int
# passed to it a float, which prints differently). Bound methods need ``binding`` (the
# routing policy sets attributes on its functions, which a builtin function cannot take).
DIRECTIVES = {"language_level": 3, "annotation_typing": False, "binding": True}

# Run in a fresh process with the tree first on sys.path: one model, its contacts and CPU s.
CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[1] + "/benchmarks")
from twins import MODELS
import ccsim
reps, rates = int(sys.argv[2]), {}
for model in MODELS:
    scenario = model.scenario(model.bench_horizon)
    ccsim.simulate(scenario, seed=0)
    cpu, contacts = 0.0, 0
    for seed in range(1, reps + 1):
        started = time.process_time()
        result = ccsim.simulate(scenario, seed=seed)
        cpu += time.process_time() - started
        contacts += sum(t.offered for c, t in result.tallies.items() if c != "all")
    rates[model.name] = contacts / cpu
compiled = [m for m in list(sys.modules) if m.startswith("ccsim.") and
            getattr(sys.modules[m], "__file__", "").endswith(".so")]
print(json.dumps({"compiled": len(compiled), "rates": rates}))
"""


# One model's second replication inside ``operator.call``, the one C function callgrind
# counts in (``--toggle-collect``): the instructions of that replication and its contacts.
COUNTED = """
import operator, sys
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[1] + "/benchmarks")
from twins import MODELS
import ccsim
model = next(m for m in MODELS if m.name == sys.argv[2])
scenario = model.scenario(float(sys.argv[3]))
ccsim.simulate(scenario, seed=0)
result = operator.call(ccsim.simulate, scenario, seed=1)
print(sum(t.offered for c, t in result.tallies.items() if c != "all"))
"""

# gate.py's horizons: a few thousand contacts, half a minute each under callgrind.
COUNTED_HORIZONS = {
    "M/M/50+M": 1,
    "hybrid week": 0.25,
    "follow the sun": 24,
    "blended outbound day": 1,
    "Telethon week": 1,
}


def instructions(tree: Path, model: str) -> tuple[int, int]:
    """Machine instructions (callgrind's Ir) of one replication of ``model`` run from
    ``tree``, and its contacts: unlike a timing, the same on a busy machine."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp, "callgrind.out")
        contacts = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--toggle-collect=_operator_call",
                f"--callgrind-out-file={out}",
                sys.executable,
                "-c",
                COUNTED,
                str(tree),
                model,
                str(COUNTED_HORIZONS[model]),
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp,
        ).stdout
        totals = next(line for line in out.read_text().splitlines() if line.startswith("totals:"))
    return int(totals.split()[1]), int(contacts)


def build(dest: Path) -> float:
    """Copy the tracked files to ``dest``, compile the engine there; wall seconds taken."""
    from Cython.Build import cythonize  # only this command needs Cython
    from setuptools import Distribution

    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    dest.mkdir(parents=True)
    with tempfile.TemporaryFile() as archive:
        with tarfile.open(fileobj=archive, mode="w") as tar:
            for name in filter(None, files):
                tar.add(ROOT / name.decode(), arcname=name.decode())
        archive.seek(0)
        with tarfile.open(fileobj=archive) as tar:
            tar.extractall(dest, filter="data")
    started = time.perf_counter()
    sources = sorted(
        str(path.relative_to(dest))
        for package in PACKAGES
        for path in (dest / package).glob("*.py")
        if path.name != "__init__.py"
    )
    here = os.getcwd()
    os.chdir(dest)
    try:
        modules = cythonize(sources, compiler_directives=DIRECTIVES, quiet=True)
        dist = Distribution({"ext_modules": modules, "script_args": ["build_ext", "--inplace"]})
        dist.parse_command_line()
        dist.get_command_obj("build_ext").parallel = os.cpu_count()
        dist.run_commands()
    finally:
        os.chdir(here)
    return time.perf_counter() - started


def keep_only(tree: Path, modules: list[str] | None) -> None:
    """Move aside (to ``*.so.off``) every compiled module of ``tree`` not in ``modules``
    (dotted names under ``ccsim.sim``: ``core``, ``features.bot``); None keeps them all."""
    for package in PACKAGES:
        for path in [*(tree / package).glob("*.so"), *(tree / package).glob("*.so.off")]:
            stem = path.name.split(".")[0]
            dotted = (package.removeprefix("ccsim/sim").strip("/") + "." + stem).strip(".")
            wanted = modules is None or dotted in modules
            target = path.with_name(path.name.removesuffix(".off"))
            if not wanted:
                target = target.with_name(target.name + ".off")
            if path != target:
                path.rename(target)


def run(tree: Path, reps: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(tree), str(reps)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tempfile.gettempdir(),
    ).stdout
    return json.loads(out.splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", metavar="DIR", type=Path, help="make the compiled tree in DIR")
    ap.add_argument("--compiled", metavar="DIR", type=Path, help="the compiled tree to time")
    ap.add_argument("--modules", nargs="+", help="keep only these compiled (core, clock, ...)")
    ap.add_argument(
        "--instructions", action="store_true", help="count instructions with valgrind instead"
    )
    ap.add_argument("--rounds", type=int, default=3, help="interpreted/compiled pairs")
    ap.add_argument("--reps", type=int, default=3, help="seeds per model in each process")
    args = ap.parse_args(argv)
    if args.build:
        print(f"compiled in {build(args.build):.0f} s wall")
        return 0
    if not args.compiled:
        ap.error("--build DIR or --compiled DIR")
    keep_only(args.compiled, args.modules)
    if args.instructions:
        print(f"{'model':<22}{'contacts':>9}{'interpreted':>13}{'compiled':>10}  per contact")
        for model in COUNTED_HORIZONS:
            (pure, contacts), (compiled, _) = (
                instructions(t, model) for t in (ROOT, args.compiled)
            )
            print(
                f"{model:<22}{contacts:>9}{pure / contacts:>13,.0f}{compiled / contacts:>10,.0f}"
                f"  {compiled / pure - 1:+.1%}"
            )
        return 0
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    rates: dict[str, dict[str, list[float]]] = {"interpreted": {}, "compiled": {}}
    for _ in range(args.rounds):
        for name, tree in (("interpreted", ROOT), ("compiled", args.compiled)):
            figures = run(tree, args.reps)
            assert (figures["compiled"] == 0) == (name == "interpreted"), figures["compiled"]
            for model, rate in figures["rates"].items():
                rates[name].setdefault(model, []).append(rate)
            line = "  ".join(
                f"{model} {rate / 1e3:.1f}k" for model, rate in figures["rates"].items()
            )
            print(f"{name:<12} {line}  ({figures['compiled']} modules compiled)", flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    print(f"\n{'model':<22}{'interpreted':>14}{'compiled':>12}{'gain':>7}")
    for model, runs in rates["interpreted"].items():
        pure, compiled = statistics.median(runs), statistics.median(rates["compiled"][model])
        print(f"{model:<22}{pure:>14,.0f}{compiled:>12,.0f}{compiled / pure:>6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
