"""Fuzzing scenario files: mutants of the shipped examples either run or are refused in one
line (exit status 2), never a traceback and never a run past its time budget.

Each mutant starts from a hand-written file in ``configs/`` cut to one hour, with small limits (so a
mutant that asks for a big run is refused up front, as a user's would be), and then changes
one to three places of it: a number made non-finite, huge, tiny, zero or negative; a value
of the wrong type; a key deleted or added; a value nested deep in lists and mappings. The
mutant goes through ``ccsim run`` in this process. Seeds are fixed (``derandomize``), so
the examples are the same on every run; the default budget keeps the fast tier quick and
the slow tier tries more.
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from ccsim.cli import main
from ccsim.model.loading import read_scenario_mapping

ROOT = Path(__file__).resolve().parents[1]
# The hand-written examples; the generated schedules (thousands of shift templates, made
# by the staffing planner) would only make each mutant slower to read and write.
CONFIGS = [
    path
    for path in sorted((ROOT / "configs").rglob("*.yaml"))
    if not path.name.startswith("_") and path.stat().st_size < 10_000
]

# Small enough that any mutant the limits let through simulates in well under a second.
FUZZ_LIMITS = {"contacts": 20_000, "agents": 600, "intervals": 200, "concurrency": 10}


def _one_hour(path: Path) -> dict:
    data = read_scenario_mapping(path)
    data["horizon"] = "1h"
    data.pop("warmup", None)
    data["limits"] = dict(FUZZ_LIMITS)
    return data


BASES = {path.relative_to(ROOT).as_posix(): _one_hour(path) for path in CONFIGS}


def _places(node, path=()):
    """Every place in the tree (mappings, lists and leaves), except the limits."""
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            if path == () and key == "limits":
                continue
            yield from _places(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node[:8]):  # long profiles: a few weights are enough
            yield from _places(value, (*path, index))


ODD_VALUES = st.sampled_from(
    [
        math.inf,
        -math.inf,
        math.nan,
        0,
        -1,
        0.5,
        1e-300,
        1e300,
        10**25,
        2**63,
        "",
        "nan",
        "1e400min",
        "inf/min",
        "0s",
        "-3min",
        "1e9/min",
        "1/1e-300s",
        "25:00",
        "\u00e9\u00e9",
        "mon",
        None,
        True,
        [],
        {},
        [1, 2],
        {"dist": "exponential"},
        {"dist": ["exponential"]},
        {"file": "/dev/zero"},
    ]
)


def _scaled(value, power: int):
    """A number, or the number in a duration or rate, times 10**power."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        scaled = value * 10.0**power
        return round(scaled) if isinstance(value, int) and math.isfinite(scaled) else scaled
    if isinstance(value, str) and value[:1].isdigit():
        head = "".join(ch for ch in value if ch.isdigit() or ch == ".")
        return value.replace(head, f"{float(head or 0) * 10.0**power:g}", 1)
    return value


@st.composite
def mutants(draw):
    name = draw(st.sampled_from(sorted(BASES)))
    data = copy.deepcopy(BASES[name])
    for _ in range(draw(st.sampled_from([1, 1, 2, 3]))):
        places = list(_places(data))
        path = draw(st.sampled_from(places[1:] or places))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1] if path else None
        kind = draw(st.sampled_from(["odd", "scale", "tweak", "delete", "unknown", "nest"]))
        if kind == "odd":
            parent[key] = copy.deepcopy(draw(ODD_VALUES))  # later steps may change it
        elif kind == "scale":
            parent[key] = _scaled(parent[key], draw(st.sampled_from([-300, -6, -1, 3, 9, 300])))
        elif kind == "tweak":  # a plausible change: most such mutants are valid and run
            parent[key] = _scaled(parent[key], draw(st.sampled_from([-0.3, 0.3])))
        elif kind == "delete":
            if isinstance(parent, dict):
                del parent[key]
            else:
                parent.pop(key)
        elif kind == "unknown":
            target = parent[key] if isinstance(parent[key], dict) else parent
            if isinstance(target, dict):
                target[draw(st.sampled_from(["extra", "handle_tme", "agent", "1"]))] = 1
        else:
            depth = draw(st.sampled_from([1, 3, 70]))
            value = parent[key]
            for level in range(depth):
                value = [value] if level % 2 else {"a": value}
            parent[key] = value
    return name, data


def _run(data: dict) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mutant.yaml"
        with path.open("w", encoding="utf-8") as stream:
            YAML(typ="safe", pure=True).dump(data, stream)
        err, out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try:
                code = main(["run", str(path), "--reps", "1", "--out", str(Path(folder) / "o")])
            except SystemExit as stop:  # argparse
                code = stop.code
        return code, err.getvalue()


def _check(mutant) -> None:
    name, data = mutant
    code, err = _run(data)
    event(f"exit {code}")  # the mix of run and refused, in --hypothesis-show-statistics
    assert code in (0, 2), (name, code, err)
    assert "Traceback" not in err, (name, err)
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("ccsim: "), (name, err)


_FUZZ = dict(
    derandomize=True,
    deadline=timedelta(seconds=10),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


@settings(max_examples=60, **_FUZZ)
@given(mutants())
def test_mutated_scenarios_run_or_are_refused_in_one_line(mutant):
    _check(mutant)


@pytest.mark.slow
@settings(max_examples=600, **_FUZZ)  # about 45 s idle: the CI suite stays well inside its budget
@given(mutants())
def test_many_more_mutated_scenarios(mutant):
    _check(mutant)


def test_the_unmutated_bases_run():
    """The fuzz starts from valid scenarios: each base runs as it is."""
    for name in ("configs/example.yaml", "configs/ai_first_chat.yaml"):
        assert _run(copy.deepcopy(BASES[name])) == (0, ""), name
