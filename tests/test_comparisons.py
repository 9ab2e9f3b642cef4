"""``ccsim experiment`` on a small factorial grid: pairs.csv, effects.csv and the CRN
columns of comparisons.csv written, listed in the manifest, agreeing with the summary's
estimates, and shown on the report's page; ``--pairs none`` leaves no pairs behind."""

from __future__ import annotations

import json
import re
import textwrap

import numpy as np
import pandas as pd
import pytest

from ccsim.cli import main
from ccsim.experiment.folder import check_generation

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
    name: grid_study
    scenario: scenario.yaml
    seed: 3
    replications: 6
    baseline: base
    scenarios:
      base: {}
    grid:
      sites.0.agents: [10, 12]
      channels.voice.patience.mean: [1min, 4min]
    grid_name: "a{sites.0.agents}_p{channels.voice.patience.mean}"
    """
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grid")
    (folder / "scenario.yaml").write_text(SCENARIO)
    (folder / "experiment.yaml").write_text(EXPERIMENT)
    out = folder / "out"
    args = ["experiment", str(folder / "experiment.yaml"), "--out", str(out), "--no-progress"]
    assert main(args) == 0
    return folder, out


def test_the_new_tables_are_part_of_the_generation(run):
    _, out = run
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"pairs.csv", "effects.csv", "comparisons.csv"} <= set(manifest["files"])
    check_generation(out, manifest)


def test_every_pair_once_and_the_baseline_pairs_are_the_comparisons(run):
    _, out = run
    pairs = pd.read_csv(out / "pairs.csv")
    comparisons = pd.read_csv(out / "comparisons.csv")
    level = pairs[(pairs.kpi == "service_level") & (pairs.site == "all")]
    assert len(level) == 5 * 4 // 2
    assert len(set(zip(level.scenario, level.reference, strict=True))) == 10
    merged = comparisons.merge(
        pairs.rename(columns={"reference": "baseline"}),
        on=["scenario", "baseline", "channel", "site", "kpi"],
    )
    assert len(merged) == len(comparisons)
    for column in ("difference", "half_width", "half_width_unpaired", "variance_reduction"):
        np.testing.assert_allclose(merged[f"{column}_x"], merged[f"{column}_y"], rtol=1e-9)
    # The same callers in both: more agents move the service level by far less noise than
    # two independent runs would show.
    more = comparisons[(comparisons.scenario == "a12_p1min") & (comparisons.kpi == "service_level")]
    assert (more.half_width < more.half_width_unpaired).all()
    assert (more.variance_reduction > 1).all()


def test_effects_are_contrasts_of_the_summary_estimates(run):
    _, out = run
    effects = pd.read_csv(out / "effects.csv", dtype={"level": str, "level_2": str})
    summary = pd.read_csv(out / "summary.csv")
    level = summary[(summary.kpi == "service_level") & (summary.site == "all")]
    cell = level.set_index("scenario").estimate
    grand = np.mean([cell[f"a{a}_p{p}"] for a in (10, 12) for p in ("1min", "4min")])
    twelve = (cell["a12_p1min"] + cell["a12_p4min"]) / 2
    patient = (cell["a10_p4min"] + cell["a12_p4min"]) / 2
    sl = effects[effects.kpi == "service_level"].fillna("")
    row = sl[(sl.term == "main") & (sl.factor == "sites.0.agents") & (sl.level == "12")]
    assert row.effect.iloc[0] == pytest.approx(twelve - grand)
    assert row.grand_mean.iloc[0] == pytest.approx(grand)
    both = sl[(sl.term == "interaction") & (sl.level == "12") & (sl.level_2 == "4min")]
    assert both.effect.iloc[0] == pytest.approx(cell["a12_p4min"] - twelve - patient + grand)
    assert len(sl[sl.term == "main"]) == 4 and len(sl[sl.term == "interaction"]) == 4
    assert "base" not in set(sl.level)  # the baseline is no cell of the grid


def test_the_page_shows_pairs_effects_and_what_crn_bought(run):
    _, out = run
    page = (out / "report.html").read_text()
    for anchor in (
        'id="every-pair"',
        'id="pairs"',
        'id="effects-main"',
        'id="effects-interaction"',
        'id="crn-bought"',
    ):
        assert anchor in page
    assert "First site agents = 12 × Voice mean patience = 4min" in page
    assert "sites.0.agents" not in page.split('id="effects"')[1].split("</section>")[0]


def test_pairs_none_leaves_no_pairs_behind(run):
    folder, out = run
    args = ["experiment", str(folder / "experiment.yaml"), "--out", str(out), "--no-progress"]
    assert main([*args, "--pairs", "none", "--no-report"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert not (out / "pairs.csv").exists() and "pairs.csv" not in manifest["files"]
    assert "effects.csv" in manifest["files"]
    check_generation(out, manifest)


def test_the_new_ids_of_the_page_are_unique(run):
    _, out = run
    ids = re.findall(r'\sid="([^"]+)"', (out / "report.html").read_text())
    ours = ("every-pair", "pairs", "effects", "effects-main", "effects-interaction", "crn-bought")
    assert all(ids.count(name) == 1 for name in ours), [(n, ids.count(n)) for n in ours]
