"""Experiments: variants, determinism across jobs and backends, resume after a kill,
the stopping rule, and what common random numbers buy."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ccsim
from ccsim.cli import main
from ccsim.experiment.replications import run_block
from ccsim.experiment.stats import ratio_ci
from ccsim.model import ConfigError
from ccsim.sim.metrics import KPI_NAMES

ROOT = Path(__file__).resolve().parents[1]

SCENARIO = textwrap.dedent(
    """\
    name: small
    horizon: 2h
    warmup: 0s
    channels:
      voice:
        arrivals: {rate: 3/min}
        handle_time: {dist: exponential, mean: 3min}
        patience: {dist: exponential, mean: 2min}
        service_level: {threshold: 20s, target: 0.8}
    sites:
      - name: main
        agents: 11
    """
)

EXPERIMENT = textwrap.dedent(
    """\
    name: small_study
    scenario: scenario.yaml
    seed: 7
    replications: 24
    baseline: base
    scenarios:
      base: {}
      patient: {channels.voice.patience.mean: 4min}
    grid:
      sites.0.agents: [10, 12]
    """
)


def write_experiment(folder: Path, text: str = EXPERIMENT, scenario: str = SCENARIO) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.yaml").write_text(scenario)
    path = folder / "experiment.yaml"
    path.write_text(text)
    return path


def assert_same_tables(a, b):
    for name in ("replications", "intervals", "summary", "comparisons"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


# --- experiment files ----------------------------------------------------------------------


def test_scenarios_from_overrides_and_grid(tmp_path):
    experiment = ccsim.load_experiment(write_experiment(tmp_path))
    assert list(experiment.scenarios) == ["base", "patient", "agents=10", "agents=12"]
    assert experiment.baseline == "base"
    assert experiment.scenarios["patient"].channels["voice"].patience.expected() == 240
    assert experiment.scenarios["agents=12"].sites[0].agents == 12
    assert experiment.scenarios["base"] == ccsim.load_scenario(tmp_path / "scenario.yaml")


def test_grid_is_a_cartesian_product_named_by_template(tmp_path):
    text = EXPERIMENT.split("scenarios:")[0] + textwrap.dedent(
        """\
        grid:
          sites.0.agents: [10, 11, 12]
          channels.voice.patience.mean: [1min, 3min]
        grid_name: "n{sites.0.agents}_p{channels.voice.patience.mean}"
        """
    ).replace("baseline: base\n", "")
    experiment = ccsim.load_experiment(
        write_experiment(tmp_path, text.replace("baseline: base", ""))
    )
    assert len(experiment.scenarios) == 6
    assert "n11_p3min" in experiment.scenarios
    assert experiment.scenarios["n11_p3min"].channels["voice"].patience.expected() == 180
    assert experiment.baseline == "n10_p1min"  # the first scenario when none is named


BAD = [
    ("base: {}", "base: {sites.0.agnets: 3}", "scenarios.base.sites.0.agnets", "did you mean"),
    ("base: {}", "base: {sites.4.agents: 3}", "scenarios.base.sites.4.agents", "no index"),
    (
        "base: {}",
        "base: {channels.chat.patience: 3}",
        "scenarios.base.channels.chat.patience",
        "no field 'chat'",
    ),
    ("base: {}", "base: {sites.0.agents: -3}", "sites.0.agents", "greater than or equal to 0"),
    (
        "base: {}",
        "base: {channels.voice.arrivals.rate: 3}",
        "channels.voice.arrivals.rate",
        "needs a unit",
    ),
    ("baseline: base", "baseline: nope", "baseline", "not a scenario"),
    ("replications: 24", "replications: 0", "replications", "at least 1"),
    ("seed: 7", "seed: -7", "seed", "greater than or equal to 0"),
    ("seed: 7", "sede: 7", "sede", "did you mean 'seed'"),
    ("scenario: scenario.yaml", "scenario: nowhere.yaml", "scenario", "not found"),
    ("sites.0.agents: [10, 12]", "sites.0.agents: []", "grid", "at least one value"),
    (
        "replications: 24",
        "replications: {min: 10, max: 5, batch: 5, relative_half_width: 0.1, kpis: [asa]}",
        "replications",
        "max must be at least min",
    ),
    (
        "replications: 24",
        "replications: {min: 10, max: 50, batch: 5, relative_half_width: 0.1, kpis: [speed]}",
        "replications",
        "unknown KPI",
    ),
]


@pytest.mark.parametrize(("old", "new", "path", "words"), BAD)
def test_bad_experiment_names_the_field(tmp_path, old, new, path, words):
    assert old in EXPERIMENT
    source = write_experiment(tmp_path, EXPERIMENT.replace(old, new))
    with pytest.raises(ConfigError) as info:
        ccsim.load_experiment(source)
    assert str(source) in str(info.value)
    assert path in str(info.value)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_experiment_exits_2_in_one_line(tmp_path, capsys):
    source = write_experiment(tmp_path, EXPERIMENT.replace("base: {}", "base: {horizon.x: 1}"))
    assert main(["experiment", str(source), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "scenarios.base.horizon.x" in err
    assert not (tmp_path / "out").exists()


# --- running -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reference")
    return ccsim.run_experiment(write_experiment(folder), n_jobs=1, out=folder / "out")


def test_results_directory_and_tables(reference):
    out = reference.out
    for name in (
        "replications.parquet",
        "intervals.parquet",
        "summary.csv",
        "comparisons.csv",
        "manifest.json",
    ):
        assert (out / name).is_file()
    reps = reference.replications
    assert len(reps) == 4 * 24  # scenarios x replications x channels
    assert list(reps.columns[:3]) == ["scenario", "replication", "channel"]
    pd.testing.assert_frame_equal(pd.read_parquet(out / "replications.parquet"), reps)
    summary = reference.summary
    assert {"scenario", "channel", "kpi", "estimate", "sd", "ci_low", "ci_high", "n"} <= set(
        summary.columns
    )
    assert set(summary.kpi) == set(KPI_NAMES)
    comparisons = reference.comparisons
    assert set(comparisons.scenario) == {"patient", "agents=10", "agents=12"}
    assert set(comparisons.baseline) == {"base"}
    manifest = reference.manifest
    assert manifest["replications"] == 24 and manifest["seed"] == 7
    assert manifest["versions"]["numpy"] == np.__version__
    assert len(manifest["sha256"]) == 64


def test_replications_are_those_of_simulate_with_spawned_seeds(reference):
    experiment = ccsim.load_experiment(reference.manifest["file"])
    seed = np.random.SeedSequence(7).spawn(24)[5]
    kpis = ccsim.simulate(experiment.scenarios["patient"], seed).kpis
    row = reference.replications.query("scenario == 'patient' and replication == 5").iloc[0]
    assert row.asa == kpis.loc["voice", "asa"] and row.offered == kpis.loc["voice", "offered"]


def test_more_agents_are_significantly_better_under_crn(reference):
    c = reference.comparisons.set_index(["scenario", "kpi"])
    assert c.loc[("agents=12", "service_level"), "difference"] > 0
    assert c.loc[("agents=12", "service_level"), "significant"]
    assert c.loc[("agents=10", "asa"), "ci_low"] > 0
    # With common random numbers every scenario sees the same arrivals.
    assert c.loc[("agents=12", "offered"), "difference"] == 0


def test_interval_profile_agrees_with_the_replications(reference):
    intervals = reference.intervals
    base = intervals[(intervals.scenario == "base") & (intervals.kpi == "offered")]
    assert len(base) == 4  # 2 h in 30 min intervals
    total = reference.summary.query("scenario == 'base' and kpi == 'offered'").estimate.item()
    assert base.estimate.sum() == pytest.approx(total)
    # The interval service level is a ratio of totals: recompute one from run_block.
    experiment = ccsim.load_experiment(reference.manifest["file"])
    seeds = [experiment.seed_for("base", r) for r in range(24)]
    rows = pd.DataFrame(
        [
            row
            for seed in seeds
            for row in ccsim.simulate(experiment.scenarios["base"], seed).interval_rows()
            if row["interval"] == 2
        ]
    )
    expected = ratio_ci(rows.answered_within_threshold, rows.answered + rows.abandoned)
    got = intervals.query("scenario == 'base' and kpi == 'service_level' and interval == 2")
    assert got.estimate.item() == pytest.approx(expected.value)
    assert got.ci_high.item() == pytest.approx(expected.high)


def test_identical_for_any_number_of_jobs(reference, tmp_path):
    source = write_experiment(tmp_path)
    two = ccsim.run_experiment(source, n_jobs=2, out=tmp_path / "out")
    assert_same_tables(reference, two)
    for name in ("summary.csv", "comparisons.csv"):
        assert (reference.out / name).read_bytes() == (two.out / name).read_bytes()


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_tables_as_loky(reference, tmp_path):
    pytest.importorskip("distributed")
    source = write_experiment(tmp_path)
    dask = ccsim.run_experiment(source, n_jobs=2, out=tmp_path / "out", backend="dask")
    assert_same_tables(reference, dask)
    assert dask.manifest["backend"] == "dask"


def test_a_finished_experiment_reruns_from_its_blocks(reference, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(reference.out.parent, folder)
    again = ccsim.run_experiment(folder / "experiment.yaml", out=folder / "out")
    assert_same_tables(reference, again)


def test_changing_one_scenario_recomputes_only_that_one(reference, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(reference.out.parent, folder)
    chunks = folder / "out" / ".chunks"
    before = {p.name: p.stat().st_mtime_ns for p in chunks.iterdir()}
    changed = EXPERIMENT.replace("patience.mean: 4min", "patience.mean: 5min")
    (folder / "experiment.yaml").write_text(changed)
    result = ccsim.run_experiment(folder / "experiment.yaml", out=folder / "out")
    after = {p.name: p.stat().st_mtime_ns for p in chunks.iterdir()}
    assert len(set(after) - set(before)) == 1  # the new 'patient'
    assert len(set(before) - set(after)) == 1  # the old one, pruned
    kept = set(before) & set(after)
    assert all(before[name] == after[name] for name in kept)
    pd.testing.assert_frame_equal(
        result.replications.query("scenario == 'base'").reset_index(drop=True),
        reference.replications.query("scenario == 'base'").reset_index(drop=True),
    )


@pytest.mark.slow
def test_resume_after_kill_minus_9_matches_an_uninterrupted_run(tmp_path):
    # Long enough that the kill lands mid-run: 2 scenarios x 60 replications of 40 h, saved
    # in blocks of 42 replications (about 300,000 contacts) as they finish.
    text = EXPERIMENT.replace("replications: 24", "replications: 60").split("grid:")[0]
    scenario = SCENARIO.replace("horizon: 2h", "horizon: 40h")
    killed = write_experiment(tmp_path / "killed", text, scenario)
    whole = write_experiment(tmp_path / "whole", text, scenario)
    out = tmp_path / "killed" / "out"
    command = [
        sys.executable,
        "-m",
        "ccsim",
        "experiment",
        str(killed),
        "--out",
        str(out),
        "--jobs",
        "2",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    chunks = out / ".chunks"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if chunks.is_dir() and any(chunks.rglob("reps-*.parquet")):
            break
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    saved = list(chunks.rglob("reps-*.parquet"))
    assert saved, "the run was killed before it saved anything"
    assert not (out / "summary.csv").exists(), "the run finished before it could be killed"
    # What a write cut short by the kill leaves: a temporary of ccsim's form, of the dead process.
    half = f".reps-00000000-00000001.parquet.ccsim-{process.pid}-abcdefgh.tmp"
    (saved[0].parent / half).write_bytes(b"half")
    resumed = ccsim.run_experiment(killed, out=out, n_jobs=2)
    assert not list(chunks.rglob("*.tmp"))  # writes cut short by the kill are cleared
    uninterrupted = ccsim.run_experiment(whole, out=tmp_path / "whole" / "out", n_jobs=1)
    assert_same_tables(resumed, uninterrupted)
    assert sorted(resumed.replications.replication.unique()) == list(range(60))


def _relative_half_width(table: pd.DataFrame, kpi: str) -> float:
    from ccsim.sim.metrics import RATIO_KPIS

    numerator, denominator = RATIO_KPIS[kpi]
    estimate = ratio_ci(table[list(numerator)].sum(axis=1), table[list(denominator)].sum(axis=1))
    return estimate.half_width / abs(estimate.value)


def test_stopping_rule_stops_when_the_target_is_met_and_not_before(tmp_path):
    rule = "{min: 10, max: 400, batch: 10, relative_half_width: 0.03, kpis: [service_level]}"
    text = EXPERIMENT.replace("replications: 24", f"replications: {rule}").split("grid:")[0]
    result = ccsim.run_experiment(write_experiment(tmp_path, text), out=tmp_path / "out")
    n = result.manifest["replications"]
    assert result.stopped_early and 10 < n < 400 and n % 10 == 0
    reps = result.replications
    for scenario, table in reps.groupby("scenario"):
        assert _relative_half_width(table, "service_level") <= 0.03, scenario
    worst_before = max(
        _relative_half_width(table[table.replication < n - 10], "service_level")
        for _, table in reps.groupby("scenario")
    )
    assert worst_before > 0.03  # one batch earlier, some scenario was not precise enough


def test_stopping_rule_runs_to_max_when_the_target_is_out_of_reach(tmp_path):
    rule = "{min: 4, max: 12, batch: 4, relative_half_width: 0.0001, kpis: [voice.asa]}"
    text = EXPERIMENT.replace("replications: 24", f"replications: {rule}").split("grid:")[0]
    result = ccsim.run_experiment(write_experiment(tmp_path, text), out=tmp_path / "out")
    assert result.manifest["replications"] == 12 and not result.stopped_early


def test_reps_option_replaces_the_stopping_rule(tmp_path):
    rule = "{min: 4, max: 12, batch: 4, relative_half_width: 0.0001, kpis: [asa]}"
    text = EXPERIMENT.replace("replications: 24", f"replications: {rule}").split("grid:")[0]
    result = ccsim.run_experiment(write_experiment(tmp_path, text), reps=5, out=tmp_path / "o")
    assert result.manifest["replications"] == 5


def test_common_random_numbers_shrink_the_variance_of_paired_differences(tmp_path):
    def paired_variance(crn: bool) -> dict[str, float]:
        text = EXPERIMENT.replace("replications: 24", "replications: 80").split("grid:")[0]
        text = text.replace(
            "patient: {channels.voice.patience.mean: 4min}", "more: {sites.0.agents: 12}"
        )
        text += f"common_random_numbers: {'true' if crn else 'false'}\n"
        folder = tmp_path / f"crn_{crn}"
        result = ccsim.run_experiment(write_experiment(folder, text), out=folder / "out")
        wide = result.replications.pivot(index="replication", columns="scenario")
        return {
            kpi: float(np.var(wide[kpi]["more"] - wide[kpi]["base"], ddof=1))
            for kpi in ("service_level", "asa", "abandon_rate")
        }

    crn, independent = paired_variance(True), paired_variance(False)
    ratios = {kpi: crn[kpi] / independent[kpi] for kpi in crn}
    print("variance of paired differences, CRN / independent:", ratios)
    assert all(ratio < 0.5 for ratio in ratios.values()), ratios


def test_run_block_sums_are_additive():
    scenario = ccsim.parse_scenario(
        ccsim.load_scenario(ROOT / "configs" / "example.yaml").model_dump() | {"horizon": 3600.0}
    )
    seeds = ccsim.experiment.replications.replication_seeds(3, 6)
    _, whole = run_block(scenario, seeds, 0)
    _, first = run_block(scenario, seeds[:2], 0)
    _, rest = run_block(scenario, seeds[2:], 2)
    keys = ccsim.experiment.summary.INTERVAL_KEYS
    added = first.set_index(keys).add(rest.set_index(keys)).reset_index()
    pd.testing.assert_frame_equal(added, whole, check_exact=False, rtol=1e-12)


def test_a_spec_from_a_notebook(tmp_path, monkeypatch):
    write_experiment(tmp_path)
    monkeypatch.chdir(tmp_path)
    spec = {
        "name": "nb",
        "scenario": "scenario.yaml",
        "replications": 3,
        "scenarios": {"a": {}, "b": {"sites.0.agents": 12}},
    }
    result = ccsim.run_experiment(spec)
    assert result.out == Path("results") / "nb"
    assert set(result.summary.scenario) == {"a", "b"}
    assert (tmp_path / "results" / "nb" / "summary.csv").is_file()


def test_a_scenario_may_come_from_a_file_of_its_own(tmp_path):
    path = write_experiment(
        tmp_path,
        EXPERIMENT.replace(
            "  patient: {channels.voice.patience.mean: 4min}",
            "  other: {scenario: other.yaml, sites.0.agents: 12}",
        ),
    )
    (tmp_path / "other.yaml").write_text(
        "extends: scenario.yaml\nname: other\ndescription: a second site file\n"
    )
    experiment = ccsim.load_experiment(path)
    other = experiment.scenarios["other"]
    assert other.name == "other" and other.sites[0].agents == 12
    assert other.description == "a second site file"
    with pytest.raises(ccsim.ConfigError) as error:
        ccsim.load_experiment(
            write_experiment(
                tmp_path / "bad",
                EXPERIMENT.replace(
                    "  patient: {channels.voice.patience.mean: 4min}",
                    "  x: {scenario: nowhere.yaml}",
                ),
            )
        )
    assert error.value.path == "scenarios.x.scenario"


def test_an_experiment_keeps_the_rows_per_type_apart_and_again_on_resume(tmp_path):
    # Request types (tests/test_request_types.py): the rows per type ride in the blocks.
    config = Path(__file__).parent.parent / "configs/request_types.yaml"
    experiment = tmp_path / "exp.yaml"
    experiment.write_text(
        f"name: types\nscenario: {config}\nseed: 7\nreplications: 2\nbaseline: base\n"
        "scenarios:\n  base: {horizon: 2h}\n"
        "  more_simple: {horizon: 2h, channels.voice.request_types.simple.containment: 0.6}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    tables = []
    for _ in range(2):  # the second run reads the saved blocks back
        ccsim.run_experiment(experiment, out=out)
        reps = pd.read_parquet(out / "replications.parquet")
        types = pd.read_parquet(out / "request_types.parquet")
        assert "request_type" not in reps.columns
        assert not reps.duplicated(["scenario", "replication", "channel", "site"]).any()
        voice = types[types.channel == "voice"].groupby(["scenario", "replication"]).offered.sum()
        whole = reps[(reps.channel == "voice") & (reps.site == "all")]
        assert voice.to_numpy().tolist() == whole.offered.to_numpy().tolist()
        tables.append(types)
    pd.testing.assert_frame_equal(tables[0], tables[1])
