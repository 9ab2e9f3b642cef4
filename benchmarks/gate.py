"""A deterministic speed gate: Python bytecodes executed, and Python functions called, per
contact by ccsim's event loop.

Timings on a shared machine move by 5-10% from run to run, so they cannot tell a 5%
slowdown of the engine from noise. The number of bytecodes the interpreter executes
cannot move: for one Python version, scenario and seed it is the same on every run. For
each benchmark model (``twins.MODELS``, on a short horizon) this counts, with
``sys.settrace`` and ``f_trace_opcodes`` (Python 3.11 has no ``sys.monitoring``), the
bytecodes executed inside ``Clock.run`` (the event loop and every callback and feature it
calls; not the build of the run or its accounting, whose Python code is other libraries'
as much as ccsim's), and the Python functions called there (a call costs about as much
as ten simple bytecodes, so a change that moves work into a new function shows in this
figure more than in the other), and divides each by the contacts counted (``offered``
over every channel). Code in C (numpy's batches of draws, ``heapq``) counts as the one
bytecode that calls it, which is about right: its cost per call is small and fixed.

``benchmarks/gate.json`` holds the figures of the committed tree, with the Python version
they hold for; ``tests/test_speed_gate.py`` fails when a model's figure grows by more than
5%. After a change that is meant to cost more (or that saves), rewrite it and say why in
the commit:

    python benchmarks/gate.py            # print each model's figure against gate.json
    python benchmarks/gate.py --write    # rewrite gate.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

from twins import MODELS

import ccsim  # noqa: E402  (twins puts the working tree first on sys.path)
from ccsim.sim.clock import Clock  # noqa: E402

GATE = Path(__file__).resolve().parent / "gate.json"
TOLERANCE = 0.05  # a growth of more than this fails the gate
SEED = 1
#: Each model's short horizon, in its own unit: a few hundred to a few thousand contacts,
#: enough that the loop's figure per contact is its steady state.
HORIZONS = {
    "M/M/50+M": 1,
    "hybrid week": 0.25,
    "follow the sun": 24,
    "blended outbound day": 1,
    "Telethon week": 1,
}


def python_version() -> str:
    return ".".join(platform.python_version_tuple()[:2])


def counted_run(scenario, by_module: dict[str, int] | None = None) -> tuple[int, int, int]:
    """The bytecodes executed and the functions called by the clock's loop in one run of
    ``scenario``, and the contacts counted. With ``by_module``, also the bytecodes of each
    source file (the traced frame's code's file), added to it."""
    executed = calls = 0

    def per_opcode(frame, event, arg):
        nonlocal executed
        if event == "opcode":
            executed += 1
        return per_opcode

    if by_module is not None:

        def per_opcode(frame, event, arg):  # noqa: F811  the same, file by file
            nonlocal executed
            if event == "opcode":
                executed += 1
                name = frame.f_code.co_filename
                by_module[name] = by_module.get(name, 0) + 1
            return per_opcode

    def per_frame(frame, event, arg):  # a function's frame starts (event "call")
        nonlocal calls
        calls += 1
        frame.f_trace_opcodes = True
        return per_opcode

    def traced(function):
        def counted(*args):
            previous = sys.gettrace()  # a coverage tool's, say: back once the loop is counted
            sys.settrace(per_frame)
            try:
                function(*args)
            finally:
                sys.settrace(previous)

        return counted

    run = Clock.run
    Clock.run = traced(run)
    try:
        result = ccsim.simulate(scenario, seed=SEED)
    finally:
        Clock.run = run
    contacts = sum(tally.offered for channel, tally in result.tallies.items() if channel != "all")
    return executed, calls, contacts


FIGURES = ("bytecodes_per_contact", "calls_per_contact")


def figures() -> dict[str, dict[str, float]]:
    """Each figure of :data:`FIGURES`, for each model."""
    table = {figure: {} for figure in FIGURES}
    for model in MODELS:
        executed, calls, contacts = counted_run(model.scenario(HORIZONS[model.name]))
        table["bytecodes_per_contact"][model.name] = round(executed / contacts, 1)
        table["calls_per_contact"][model.name] = round(calls / contacts, 2)
    return table


def module_name(filename: str) -> str:
    """A source file as its module's dotted name inside ccsim, else the file's name."""
    path = Path(filename)
    parts = path.with_suffix("").parts
    if "ccsim" in parts:
        return ".".join(parts[len(parts) - 1 - parts[::-1].index("ccsim") :])
    return path.name


def split_by_module() -> dict[str, dict[str, float]]:
    """Each model's bytecodes per contact by module (the file of the code executing)."""
    table = {}
    for model in MODELS:
        by_file: dict[str, int] = {}
        _, _, contacts = counted_run(model.scenario(HORIZONS[model.name]), by_file)
        split: dict[str, float] = {}
        for filename, n in by_file.items():
            name = module_name(filename)
            split[name] = split.get(name, 0.0) + n / contacts
        table[model.name] = dict(sorted(split.items(), key=lambda item: -item[1]))
    return table


def print_split(table: dict[str, dict[str, float]]) -> None:
    for name, split in table.items():
        total = sum(split.values())
        print(f"{name}: {total:.1f} bytecodes per contact")
        for module, value in split.items():
            if value >= 0.5:
                print(f"  {module:40s} {value:8.1f}  {value / total:6.1%}")


def regressions(measured: dict, committed: dict) -> list[str]:
    """The figures of ``measured`` more than :data:`TOLERANCE` above ``committed``."""
    return [
        f"{name}: {figure} {value} against {committed[figure][name]}"
        for figure in FIGURES
        for name, value in measured[figure].items()
        if value > committed[figure][name] * (1 + TOLERANCE)
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", action="store_true", help="rewrite benchmarks/gate.json")
    ap.add_argument(
        "--modules", action="store_true", help="print each model's bytecodes per contact by module"
    )
    args = ap.parse_args(argv)
    if args.modules:
        print_split(split_by_module())
        return 0
    measured = figures()
    if args.write:
        gate = {"python": python_version(), "seed": SEED, **measured}
        GATE.write_text(json.dumps(gate, indent=1) + "\n")
        return 0
    committed = json.loads(GATE.read_text())
    for figure in FIGURES:
        for name, value in measured[figure].items():
            change = value / committed[figure][name] - 1
            print(f"{name:22s} {figure:22s} {value:8.2f}  {change:+.1%} against gate.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
