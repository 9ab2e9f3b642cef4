"""The experiment report: a real (tiny) experiment rendered to one self-contained page,
checked by parsing the HTML (tables, embedded PNGs, nothing loaded from outside), rendered
twice to the same bytes, and rendered from folders with files or KPIs missing."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import textwrap
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ccsim
from ccsim.experiment.folder import IncompleteOutputError
from ccsim.files import file_digest
from ccsim.model import ConfigError
from ccsim.report.formatting import format_difference, format_estimate
from ccsim.report.html import render_report, report_main

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ["after_0s", "after_30s", "never"]
FIGURES = [
    "headline",
    "service_level",
    "cost_service_level",
    "occupancy_by_site",
    "waiting_times",
    "staffing",
]


def _load_checker():
    spec = importlib.util.spec_from_file_location("check_report", ROOT / "scripts/check_report.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_report"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


checker = _load_checker()


def _experiment(folder: Path) -> Path:
    """Two hours of the overflow design with priced sites, three thresholds."""
    common = "horizon: 2h, sites.0.agents: 14, sites.0.cost_per_hour: 30, sites.1.cost_per_hour: 12"
    path = folder / "overflow_report.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            name: overflow_report
            description: When should the shared team start taking the home team's calls?
            scenario: {ROOT / "configs/overflow.yaml"}
            seed: 11
            replications: 3
            baseline: after_30s
            scenarios:
              after_0s: {{{common}, routing.overflow.voice.1.after: 0s}}
              after_30s: {{{common}, routing.overflow.voice.1.after: 30s}}
              never: {{{common}, routing.overflow.voice.1.after: 10d}}
            """
        )
    )
    return path


def _add_waits(folder: Path) -> None:
    """Waiting-time tallies as a ccsim that writes them would (kept if already there)."""
    path = folder / "replications.parquet"
    reps = pd.read_parquet(path)
    if "waits_within_0s" in reps:
        return
    previous = np.zeros(len(reps))
    for seconds in (0, 10, 20, 30, 60, 120, 300, 600):
        share = 1 - 0.4 * np.exp(-seconds / 30)
        previous = np.maximum(previous, np.floor(reps["answered"] * share))
        reps[f"waits_within_{seconds}s"] = previous
    reps.to_parquet(path, index=False)


def _add_requirements(folder: Path) -> None:
    """A requirements table as ``ccsim staff`` writes it (local ISO times)."""
    starts = pd.date_range("2026-03-02 07:00", periods=4, freq="30min", tz="America/New_York")
    rows = [
        {
            "interval_start": start.isoformat(),
            "channel": channel,
            "method": "erlang-a",
            "required": 10 + i,
            "scheduled": 12 + i,
            "available": 11 + i,
        }
        for channel in ("voice", "chat")
        for i, start in enumerate(starts)
    ]
    (folder / "staffing").mkdir()
    pd.DataFrame(rows).to_csv(folder / "staffing" / "requirements.csv", index=False)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    out = folder / "out"
    ccsim.run_experiment(_experiment(folder), reps=3, out=out)
    _add_waits(out)
    _add_requirements(out)
    return out


@pytest.fixture(scope="module")
def page(outputs):
    path = render_report(outputs)
    assert path == outputs / "report.html"
    page, lines, problems = checker.check(path)
    assert problems == [], "\n".join(lines + problems)
    return page, path.read_text(encoding="utf-8")


def test_models_side_by_side(page, outputs):
    page, _ = page
    models = page.tables["models"]
    assert models.columns == SCENARIOS  # one column per model, in the experiment's order
    for kpi in ("cost_per_handled_contact", "labour_cost", "abandon_rate"):
        assert kpi in models.rows
    # Voice and chat together: their waits blend thresholds (issue #26), so service level
    # and ASA are each channel's only, here and in the differences.
    assert not {"service_level", "asa"} & set(models.rows)
    assert models.n_rows == len(models.rows)
    assert set(page.tables["channels"].rows) >= {"offered", "service_level", "asa"}
    assert page.tables["channels"].n_rows == 2 * len(set(page.tables["channels"].rows))
    assert page.tables["sites"].n_rows > 0  # home and shared
    differences = page.tables["differences"]
    assert differences.columns == ["after_0s", "never"]  # every model but the baseline
    # All channels, then each: service level and ASA in the two channels' groups only.
    assert differences.rows.count("service_level") == 2 and differences.rows.count("asa") == 2


def test_page_reads_like_a_report(page):
    _, text = page
    # Escaped, in whichever form: the apostrophe is &#39; or &#x27;.
    assert "When should the shared team start taking the home team's calls?" in unescape(text)
    assert "routing.overflow.voice.1.after = 0s" in text  # each model described
    assert "Labour cost per run (2 h)" in text
    # Differences in percentage points, signed, with their interval and a verdict.
    cell = r'<td class="\w+"><strong>[+\N{MINUS SIGN}]?\d+\.\d pts</strong><br><span class="ci">\['
    assert re.search(cell, text)
    assert re.search(r'<span class="verdict">(not )?significant', text)
    assert "wall time" in text and "seed 11" in text  # the footer


def test_a_channels_occupancy_says_what_it_divides(page):
    """A channel's occupancy is its busy time over the time of every agent who may take it,
    other channels' work included: a mixed site's voice, chat and email add up to the
    site's. Labelled "Occupancy" alone it read as a team's own (voice 53%: half idle)."""
    _, text = page
    label = "Occupancy (the channel&#39;s busy time / time at work of agents who may take it)"
    assert label in text or label.replace("&#39;", "&#x27;") in text
    assert ">Occupancy<" in text  # a site's row keeps the plain word


def test_images_are_embedded_pngs(page, outputs):
    page, _ = page
    assert sorted(image.figure for image in page.images) == sorted(FIGURES)
    for image in page.images:
        png = checker.decode_png(image.src)
        assert len(png) > 10_000
        assert (outputs / "figures" / f"{image.figure}.png").read_bytes() == png
    assert page.external == []
    assert page.notes == {}  # every figure has what it needs


def test_rendering_twice_gives_the_same_bytes(page, outputs):
    _, first = page
    pngs = {name: (outputs / "figures" / f"{name}.png").read_bytes() for name in FIGURES}
    render_report(outputs)
    assert (outputs / "report.html").read_text(encoding="utf-8") == first
    for name, png in pngs.items():
        assert (outputs / "figures" / f"{name}.png").read_bytes() == png


def test_missing_files_and_kpis_are_left_out(page, outputs, tmp_path):
    """Without intervals, waiting-time tallies, requirements and some KPIs, the page still
    renders, with a note for each figure it leaves out; titles are escaped."""
    folder = tmp_path / "out"
    shutil.copytree(outputs, folder)
    (folder / "intervals.parquet").unlink()
    shutil.rmtree(folder / "staffing")
    reps = pd.read_parquet(folder / "replications.parquet")
    reps.drop(columns=[c for c in reps if c.startswith("waits_within_")]).to_parquet(
        folder / "replications.parquet", index=False
    )
    summary = pd.read_csv(folder / "summary.csv")
    summary = summary[~summary["kpi"].isin(["asa", "fcr", "mean_resolution_time"])]
    summary.to_csv(folder / "summary.csv", index=False)
    # Files changed by hand no longer match the manifest's checksums: list them as they are
    # now, as a run that wrote them would (tests/test_reliability_results.py checks refusal).
    manifest = json.loads((folder / "manifest.json").read_text())
    kept = [name for name in manifest["files"] if (folder / name).is_file()]
    manifest["files"] = {name: file_digest(folder / name) for name in kept}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    path = render_report(folder, title="<b>Overflow & co</b>", assumptions=["a < b"])
    text = path.read_text(encoding="utf-8")
    assert "&lt;b&gt;Overflow &amp; co&lt;/b&gt;" in text and "<b>Overflow" not in text
    assert "<li>a &lt; b</li>" in text
    parsed, lines, problems = checker.check(path)
    assert problems == [], "\n".join(lines + problems)
    assert "asa" not in parsed.tables["models"].rows
    assert {"abandon_rate", "cost_per_handled_contact"} <= set(parsed.tables["models"].rows)
    assert set(parsed.notes) == {"service_level", "occupancy_by_site", "waiting_times", "staffing"}
    figures = sorted(p.name for p in (folder / "figures").iterdir())
    assert figures == ["cost_service_level.png", "headline.png"]


def test_bad_folders_raise_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="no such folder"):
        render_report(tmp_path / "missing")
    with pytest.raises(ConfigError, match="no such folder"):
        report_main(str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="no manifest.json"):
        render_report(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not JSON"):
        render_report(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"experiment": "x"}))
    with pytest.raises(IncompleteOutputError, match="has no 'files' list"):
        render_report(tmp_path)

    def listed(*tables):  # a manifest that lists the tables, as a run lists what it wrote
        files = {table: file_digest(tmp_path / table) for table in tables}
        (tmp_path / "manifest.json").write_text(json.dumps({"experiment": "x", "files": files}))

    (tmp_path / "notes.txt").write_text("no tables\n")
    listed("notes.txt")
    with pytest.raises(ConfigError, match="no summary.csv"):
        render_report(tmp_path)
    (tmp_path / "summary.csv").write_text("scenario,channel\na,voice\n")
    listed("summary.csv")
    with pytest.raises(ConfigError, match="missing column"):
        render_report(tmp_path)


def test_numbers_in_planners_words():
    assert format_difference("service_level", -0.032, -0.040, -0.024) == (
        "\N{MINUS SIGN}3.2 pts",
        "[\N{MINUS SIGN}4.0, \N{MINUS SIGN}2.4]",
    )
    assert format_estimate("service_level", 0.9624, 0.9448, 0.9797) == ("96.2%", "[94.5, 98.0]")
    assert format_estimate("asa", 4.31, 3.8, 4.8) == ("4.3 s", "[3.8, 4.8]")
    assert format_estimate("aht", 402.0, 396.0, 408.0) == ("6.7 min", "[6.6, 6.8]")
    assert format_estimate("labour_cost", 154634.2, 154454.0, 154813.0) == (
        "154,634",
        "[154,454, 154,813]",
    )
    assert format_estimate("cost_per_handled_contact", 7.291, 6.75, 7.82)[0] == "7.29"
    assert format_difference("labour_cost", 192.9, 98.9, 287.0, baseline=154634.2)[0] == "+193"
    assert format_estimate("asa", float("nan"), float("nan"), float("nan")) == ("—", "")


def test_check_script_flags_outside_resources(page, outputs, tmp_path, capsys):
    _, text = page
    assert checker.main([str(outputs / "report.html")]) == 0
    assert "OK" in capsys.readouterr().out
    broken = tmp_path / "report.html"
    broken.write_text(text.replace("</head>", '<link rel="stylesheet" href="https://x/y.css">'))
    shutil.copytree(outputs / "figures", tmp_path / "figures")
    assert checker.main([str(broken)]) == 1
    assert "loads from outside the page" in capsys.readouterr().out


def test_importing_ccsim_leaves_matplotlib_and_jinja2_alone():
    code = (
        "import sys, ccsim; ccsim.render_report; "
        "print('matplotlib' in sys.modules, 'jinja2' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False False"


def test_the_page_answers_first(outputs, tmp_path):
    """With the study's tables, the page opens with the answer, the headline chart, the
    target table and the tornado, and keeps everything else below the fold; without them,
    a sentence stands in for each, never an empty box."""
    from test_report_answer import write_study

    folder = tmp_path / "out"
    shutil.copytree(outputs, folder)
    write_study(folder, ["after_30s", "after_0s", "never"])
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["selection_sentence"] = "after_0s is the cheapest with probability at least 95%."
    (folder / "manifest.json").write_text(json.dumps(manifest))
    parsed, lines, problems = checker.check(render_report(folder))
    assert problems == [], "\n".join(lines + problems)
    text = (folder / "report.html").read_text(encoding="utf-8")
    top = text[: text.index('<details id="detail">')]
    assert top.index('id="answer-sentence"') < top.index('id="fig-headline"')
    assert top.index('id="fig-headline"') < top.index('id="targets"') < top.index("fig-tornado")
    assert "after_0s is cheapest at equal service: \N{MINUS SIGN}34%" in top
    assert "after_0s is the cheapest with probability at least 95%." in top
    assert parsed.tables["targets"].n_rows == 3
    assert {"headline", "tornado"} <= {image.figure for image in parsed.images}
    assert "cost per week at equal service" not in parsed.notes  # drawn, not a note

    # The same folder without the study: a sentence for each part, the answer at planned
    # staffing, and no figure left as an empty box.
    page, _ = checker.check(render_report(outputs))[:2]
    text = (outputs / "report.html").read_text(encoding="utf-8")
    assert "at planned staffing" in text and "Not compared at equal service" in text
    assert 'id="targets"' in text  # every experiment judges its targets
    assert "Not analysed: the experiment names no uncertain inputs" in text
    assert "headline" in {image.figure for image in page.images}


def test_the_target_tables_text_says_what_it_shows(outputs, tmp_path):
    """The text names the occupancy column only when the table has it, and says why not
    otherwise (issue #30: it referred to a column that was not shown)."""
    from test_report_answer import write_study

    folder = tmp_path / "out"
    shutil.copytree(outputs, folder)
    write_study(folder, ["after_30s", "after_0s", "never"])
    text = render_report(folder).read_text(encoding="utf-8")
    assert "tier-1 occupancy (daytime)</th>" in text and "The last column: the occupancy" in text
    # A table with the judgement names the customers' core hours in its heading.
    targets = pd.read_csv(folder / "targets.csv")
    sites = targets["target"].isna()
    targets.loc[sites, "window"] = "10:00-16:00 America/New_York"
    targets.loc[sites, ["occupancy_cap", "met_occupancy"]] = [0.95, True]
    targets.to_csv(folder / "targets.csv", index=False)
    text = render_report(folder).read_text(encoding="utf-8")
    assert "tier-1 occupancy, customers' core hours (10:00-16:00 America/New_York)</th>" in text
    assert "over the customers' core hours, 10:00-16:00 America/New_York" in text
    targets = pd.read_csv(folder / "targets.csv")
    targets[targets["target"].notna()].to_csv(folder / "targets.csv", index=False)
    text = render_report(folder).read_text(encoding="utf-8")
    assert "tier-1 occupancy (daytime)</th>" not in text
    assert "last column" not in text and "No occupancy column" in text


#: Voice from 08:00 to 11:00, 60% to the in-house team and 40% to a cheaper, slower vendor;
#: a call waiting 30 s may go to either.
SCENARIO = """\
    name: vendor_split
    start: 2026-03-02 08:00
    timezone: America/New_York
    horizon: 3h
    interval: 30min
    currency: EUR
    channels:
      voice:
        arrivals: {rate: 130/h}
        handle_time: {dist: lognormal, mean: 300s, cv: 0.9}
        patience: {dist: exponential, mean: 180s}
        service_level: {threshold: 20s, target: 0.8}
    sites:
      - {name: inhouse, agents: 9, cost_per_hour: 30}
      - {name: vendor, agents: 7, cost_per_hour: 9, proficiency: {voice: 0.87}}
    routing:
      policy: split
      shares: {voice: {inhouse: 0.6, vendor: 0.4}}
      overflow:
        voice: [{site: inhouse, after: 30s}, {site: vendor, after: 30s}]
    """


def vendor_files(folder: Path) -> Path:
    """The vendor what-if of docs/planner.md, small: one voice channel split between an
    in-house team and a vendor, two shares; such a run has rows of channel ``all`` only per
    site (a site's totals over its channels), never of the whole centre (issue #30)."""
    (folder / "vendor.yaml").write_text(textwrap.dedent(SCENARIO))
    path = folder / "vendor_share.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            name: vendor_share
            scenario: vendor.yaml
            seed: 3
            replications: 3
            baseline: share40
            scenarios:
              share40: {}
              share50: {routing.shares.voice.inhouse: 0.5, routing.shares.voice.vendor: 0.5}
            """
        )
    )
    return path


@pytest.fixture(scope="module")
def vendor_outputs(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("vendor")
    out = folder / "out"
    ccsim.run_experiment(vendor_files(folder), reps=3, out=out)
    return out


def test_one_channel_at_two_sites_headlines_the_channel(vendor_outputs):
    from ccsim.report.outputs import headline_channel

    summary = pd.read_csv(vendor_outputs / "summary.csv")
    whole = summary[summary["channel"] == "all"]
    assert not whole.empty and set(whole["site"]) == {"inhouse", "vendor"}
    assert headline_channel(summary) == "voice"


def test_one_channel_at_two_sites_shows_every_table_and_figure(vendor_outputs):
    page, lines, problems = checker.check(ccsim.render_report(vendor_outputs))
    assert problems == [], "\n".join(lines + problems)
    assert page.tables["models"].n_rows > 0 and page.tables["differences"].n_rows > 0
    text = (vendor_outputs / "report.html").read_text(encoding="utf-8")
    assert "no site has a cost_per_hour" not in text
    assert "Labour cost is zero" not in text
    assert "Channel voice" in text and " EUR" in text
    drawn = {image.figure for image in page.images}
    assert {"headline", "service_level", "cost_service_level", "waiting_times"} <= drawn
