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
import csv
import hashlib
import io
import json
import math
import os
import shutil
import signal
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


# --- results folders -------------------------------------------------------------------------
#
# A small real run folder and experiment folder, edited as a user, a script or a damaged disk
# might: the manifest's keys, its `files` list, its text, a table's cells and rows (with the
# manifest's checksum made to match, or not), a file replaced by a pipe, a device, a folder,
# or removed. `ccsim report` must exit 0 with a page, or 2 with one line; never a traceback
# or a hang, and never a page from a table edited behind the manifest's back.

FOLDER_SCENARIO = """\
name: tiny
horizon: 1h
warmup: 0s
channels:
  voice:
    arrivals: {rate: 2/min}
    handle_time: {dist: exponential, mean: 3min}
    service_level: {threshold: 20s, target: 0.8}
sites:
  - name: main
    agents: 7
    cost_per_hour: 20
"""
FOLDER_EXPERIMENT = """\
name: tiny_models
scenario: scenario.yaml
replications: 2
scenarios:
  base: {}
  more: {sites.0.agents: 8}
"""
#: The page each folder's report writes.
PAGES = {"run": "run.html", "experiment": "report.html"}


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("folders")
    (root / "scenario.yaml").write_text(FOLDER_SCENARIO)
    (root / "experiment.yaml").write_text(FOLDER_EXPERIMENT)
    quiet = ["--no-progress", "--no-report"]
    with contextlib.redirect_stdout(io.StringIO()):
        run = ["run", str(root / "scenario.yaml"), "--reps", "2", "--no-progress"]
        assert main([*run, "--out", str(root / "run")]) == 0
        experiment = ["experiment", str(root / "experiment.yaml"), *quiet]
        assert main([*experiment, "--out", str(root / "experiment")]) == 0
    shutil.rmtree(root / "experiment" / ".chunks")  # the report reads the tables only
    return {"run": root / "run", "experiment": root / "experiment"}


ODD_JSON = st.sampled_from(
    [None, "", 0, -1, 1e308, True, [], {}, [1, "x"], {"a": 1}, "x" * 10_000, "USD",
     "<script>alert(1)</script>", "a$\\frac{1}$b", "/dev/zero", "../x", "summary.csv"]
)  # fmt: skip
ODD_CELLS = st.sampled_from(
    ["", "word", "nan", "inf", "-inf", "-1", "0", "1e308", "0.999", "2", "all", "NA",
     "<script>alert(1)</script>", "a$\\frac{1}$b", '"', "x,y"]
)  # fmt: skip
MANIFEST_KEYS = ["files", "currency", "scenarios", "baseline", "command", "thresholds",
                 "replications", "file", "scenario_file", "sha256", "descriptions",
                 "scenario"]  # fmt: skip
NODES = ["fifo", "device", "folder", "empty", "removed"]


@st.composite
def folder_edits(draw):
    """(folder kind, [edits], vouch): each edit a tuple the function ``_edit`` applies."""
    kind = draw(st.sampled_from(["run", "experiment"]))
    tables = {"run": ["summary.csv", "replications.csv", "intervals.csv"],
              "experiment": ["summary.csv", "comparisons.csv", "targets.csv"]}[kind]  # fmt: skip
    edits = []
    for _ in range(draw(st.sampled_from([1, 1, 2, 3]))):
        what = draw(st.sampled_from(["key", "entry", "text", "cell", "row", "node"]))
        if what == "key":
            value = draw(st.one_of(st.just("delete"), ODD_JSON))
            edits.append(("key", draw(st.sampled_from(MANIFEST_KEYS)), value))
        elif what == "entry":
            op = draw(st.sampled_from(["delete", "add", "odd", "size"]))
            name = draw(st.sampled_from([*tables, "../x", "", ".", "manifest.json", "nope.csv"]))
            edits.append(("entry", op, name, draw(ODD_JSON)))
        elif what == "text":
            edits.append(("text", draw(st.sampled_from(
                ["truncate", "latin1", "list", "null", "nan", "deep", "bom"]))))  # fmt: skip
        elif what == "cell":
            place = (draw(st.floats(0, 0.999)), draw(st.floats(0, 0.999)))
            edits.append(("cell", draw(st.sampled_from(tables)), *place, draw(ODD_CELLS)))
        elif what == "row":
            op = draw(st.sampled_from(["delete", "duplicate", "header", "column", "empty"]))
            edits.append(("row", draw(st.sampled_from(tables)), op, draw(st.floats(0, 0.999))))
        else:
            name = draw(st.sampled_from([*tables, "manifest.json"]))
            edits.append(("node", name, draw(st.sampled_from(NODES))))
    return kind, edits, draw(st.booleans())


def _manifest_edit(manifest, edit) -> None:
    if edit[0] == "key":
        _, key, value = edit
        if value == "delete":
            manifest.pop(key, None)
        else:
            manifest[key] = copy.deepcopy(value)
        return
    _, op, name, value = edit
    files = manifest.get("files")
    if not isinstance(files, dict):
        return
    if op == "delete":
        files.pop(name, None)
    elif op == "add":
        files[name] = {"size": 1, "sha256": "0" * 64}
    elif op == "odd":
        files[name] = copy.deepcopy(value)
    elif isinstance(files.get(name), dict):
        files[name]["size"] = value


def _text_edit(path: Path, op: str) -> None:
    data = path.read_bytes()
    path.write_bytes(
        {
            "truncate": data[: len(data) // 2],
            "latin1": b"\xff\xfe" + data,
            "list": b"[]",
            "null": b"null",
            "nan": b'{"files": NaN}',
            "deep": b"[" * 100_000,
            "bom": b"\xef\xbb\xbf" + data,
        }[op]
    )


def _table_edit(path: Path, edit) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines:
        return
    if edit[0] == "cell":
        _, _, row_at, column_at, value = edit
        row = 1 + int(row_at * max(1, len(lines) - 1)) if len(lines) > 1 else 0
        cells = next(csv.reader([lines[row]]))
        cells[int(column_at * len(cells))] = value
        text = io.StringIO()
        csv.writer(text, lineterminator="").writerow(cells)
        lines[row] = text.getvalue()
    else:
        _, _, op, at = edit
        row = 1 + int(at * max(1, len(lines) - 1))
        if op == "delete" and len(lines) > 1:
            del lines[min(row, len(lines) - 1)]
        elif op == "duplicate" and len(lines) > 1:
            lines.append(lines[min(row, len(lines) - 1)])
        elif op == "header":
            lines = lines[1:]
        elif op == "column":
            lines = [",".join(line.split(",")[:-1]) for line in lines]
        else:
            lines = []
    path.write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")


def _regular(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _node_edit(path: Path, node: str) -> None:
    if path.is_dir() and not path.is_symlink():
        path.rmdir()
    elif path.exists() or path.is_symlink():
        path.unlink()
    if node == "fifo":
        os.mkfifo(path)
    elif node == "device":
        path.symlink_to("/dev/zero")
    elif node == "folder":
        path.mkdir()
    elif node == "empty":
        path.write_bytes(b"")


def _vouch(folder: Path, names: set[str]) -> None:
    """The manifest's checksums made to match the edited tables, as an editor would."""
    if not _regular(folder / "manifest.json"):
        return
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        files = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return
    for name in names:
        if (
            isinstance(files, dict)
            and isinstance(files.get(name), dict)
            and _regular(folder / name)
        ):
            data = (folder / name).read_bytes()
            files[name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def _edited_folder(base: Path, into: Path, edits, vouch: bool) -> set[str]:
    """A copy of ``base`` with ``edits`` applied; the tables whose bytes changed unvouched."""
    folder = into / base.name
    shutil.copytree(base, folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    tables = set()
    for edit in edits:
        path = folder / (edit[1] if edit[0] in ("cell", "row", "node") else "manifest.json")
        if edit[0] == "node":
            _node_edit(path, edit[2])
        elif not _regular(path):
            continue
        elif edit[0] in ("key", "entry"):
            try:
                manifest = json.loads(path.read_text(encoding="utf-8"))
            except (ValueError, RecursionError):
                continue
            if isinstance(manifest, dict):
                _manifest_edit(manifest, edit)
                path.write_text(json.dumps(manifest), encoding="utf-8")
        elif edit[0] == "text":
            _text_edit(path, edit[1])
        else:
            _table_edit(path, edit)
            tables.add(edit[1])
    if vouch:
        _vouch(folder, tables)
    changed = {name for name in tables if not _regular(folder / name)
               or (folder / name).read_bytes() != before.get(name)}  # fmt: skip
    return set() if vouch else changed


class _Hung(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Hung


def _report(folder: Path, seconds: int = 60) -> tuple[int, str]:
    """``ccsim report folder`` in this process; past ``seconds`` it is a hang, and fails."""
    err = io.StringIO()
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(seconds)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["report", str(folder)])
    except _Hung:
        pytest.fail(f"ccsim report {folder} ran past {seconds}s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return code, err.getvalue()


def _check_folder(folders, case) -> None:
    kind, edits, vouch = case
    with tempfile.TemporaryDirectory() as into:
        folder = folders[kind]
        unvouched = _edited_folder(folder, Path(into), edits, vouch)
        code, err = _report(Path(into) / folder.name)
        event(f"{kind} exit {code}")
        assert code in (0, 2) and "Traceback" not in err, (edits, code, err)
        if code == 2:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("ccsim: "), (edits, err)
            return
        # A table changed behind the manifest's back is never drawn.
        assert not unvouched, (edits, "rendered from an edited table")
        page = (Path(into) / folder.name / PAGES[kind]).read_text(encoding="utf-8")
        assert "<script" not in page, edits  # every text the folder gives is escaped


_FOLDER_FUZZ = dict(
    derandomize=True,
    deadline=None,  # a hang is caught by _report's alarm; a slow machine is not a failure
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


@settings(max_examples=40, **_FOLDER_FUZZ)
@given(case=folder_edits())
def test_edited_results_folders_are_reported_or_refused_in_one_line(folders, case):
    _check_folder(folders, case)


@pytest.mark.slow
@settings(max_examples=400, **_FOLDER_FUZZ)
@given(case=folder_edits())
def test_many_more_edited_results_folders(folders, case):
    _check_folder(folders, case)


def test_the_unedited_folders_are_reported(folders):
    for kind, folder in folders.items():
        with tempfile.TemporaryDirectory() as into:
            shutil.copytree(folder, Path(into) / folder.name)
            assert _report(Path(into) / folder.name) == (0, ""), kind
