"""The what-if comparison (ccsim.whatif.job): a child process that runs the experiment the page
describes, its progress, its result equal to ``ccsim experiment`` on the file it hands back,
a failure in one line, and a cancel that leaves no process behind."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from ccsim.report.formatting import format_interval, format_value
from ccsim.study.run import run_experiment
from ccsim.whatif.job import Comparison, rule_kpis
from ccsim.whatif.outcome import STYLE_WHATIF, comparison_rows

ROOT = Path(__file__).resolve().parent.parent
VOICE = ROOT / "configs/planner/voice_week.yaml"
LONGER = {"channels.voice.handle_time.mean": "5.5min"}


@pytest.fixture(scope="module")
def voice_day(tmp_path_factory) -> Path:
    """The planner's voice week cut to its Monday: a comparison of a few seconds."""
    text = VOICE.read_text(encoding="utf-8").replace("horizon: 7d", "horizon: 1d")
    path = tmp_path_factory.mktemp("scenario") / "voice_day.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _wait(comparison: Comparison, timeout: float = 120) -> tuple[dict, list[tuple[int, int]]]:
    seen = []
    end = time.monotonic() + timeout
    while (status := comparison.status())["state"] == "running":
        assert time.monotonic() < end, status
        seen.append((status["done"], status["total"]))
        time.sleep(0.1)
    return status, seen


def _group(pgid: int) -> list[int]:
    """The live processes of a process group, read from /proc (no psutil needed)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


@pytest.fixture(scope="module")
def finished(voice_day, tmp_path_factory):
    out = tmp_path_factory.mktemp("comparison")
    comparison = Comparison(
        voice_day, LONGER, out=out, max_replications=40, relative_half_width=0.02
    )
    comparison.start()
    status, seen = _wait(comparison)
    return comparison, status, seen, out


def test_a_comparison_runs_in_a_child_and_reports_its_progress(finished):
    comparison, status, seen, _ = finished
    assert status["state"] == "done", status
    result = comparison.result()
    n = result["replications"]
    assert n % 5 == 0 and 5 <= n < 40 and result["stopped_early"]  # the rule stopped it
    assert (status["done"], status["total"]) == (2 * n, 2 * n)
    assert all(done <= total for done, total in seen) and seen[0][1] == 80
    assert result["seed"] == 2026 and result["currency"] == "USD"
    assert result["rule"].startswith(f"stopping rule stopped early at {n} replications")
    assert comparison.pid is not None and _group(comparison.pid) == []


def test_the_result_is_ccsim_experiment_on_the_file_it_hands_back(finished, tmp_path):
    comparison, _, _, out = finished
    result = comparison.result()
    path = tmp_path / "whatif.yaml"
    path.write_text(result["experiment_yaml"], encoding="utf-8")
    again = run_experiment(path, out=tmp_path / "again")
    assert int(again.manifest["replications"]) == result["replications"]
    for name in ("summary.csv", "comparisons.csv"):
        pd.testing.assert_frame_equal(
            pd.read_csv(out / "run" / name), pd.read_csv(tmp_path / "again" / name)
        )
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "run/intervals.parquet"),
        pd.read_parquet(tmp_path / "again/intervals.parquet"),
        check_exact=True,
    )
    paired = again.comparisons.set_index(["scenario", "channel", "site", "kpi"])
    rows = {row["kpi"]: row for row in result["rows"]}
    assert {"service_level", "operating_cost", "asa", "abandon_rate"} <= set(rows)
    for kpi, row in rows.items():
        expected = paired.loc[("variant", "voice", "all", kpi)]
        assert row["values"]["difference"] == expected.difference
        assert (row["values"]["ci_low"], row["values"]["ci_high"]) == (
            expected.ci_low,
            expected.ci_high,
        )
        # the difference in the unit of the two estimates it compares
        reference = max(abs(row["values"]["base"]), abs(row["values"]["variant"]))
        same_unit = {"reference": reference, "signed": True, "difference": True}
        assert row["difference"] == format_value(
            kpi, expected.difference, STYLE_WHATIF, **same_unit
        )
        assert row["interval"] == format_interval(
            kpi, expected.ci_low, expected.ci_high, style=STYLE_WHATIF, **same_unit
        )
    assert "USD" in rows["operating_cost"]["base"]
    assert result["service_level_svg"].lstrip().startswith("<?xml")
    assert "<svg" in result["service_level_svg"]


def test_a_fixed_count_gives_the_same_kpis_and_differences(finished, tmp_path):
    """A plain ``replications: n`` runs the same replications (one block, not one a round):
    the summary and the paired differences are the same to the last digit."""
    comparison, _, _, out = finished
    n = comparison.result()["replications"]
    spec = {**comparison.spec, "replications": n}
    fixed = run_experiment(spec, out=tmp_path / "fixed")
    pd.testing.assert_frame_equal(pd.read_csv(out / "run/comparisons.csv"), fixed.comparisons)
    pd.testing.assert_frame_equal(
        pd.read_csv(out / "run/summary.csv"), pd.read_csv(tmp_path / "fixed/summary.csv")
    )


def test_a_failed_run_says_why_in_one_line(voice_day, tmp_path):
    # A value only the run refuses (the form would have): the child's ConfigError, one line.
    comparison = Comparison(
        voice_day, {"channels.voice.handle_time.mean": 5}, out=tmp_path, max_replications=5
    )
    comparison.start()
    status, _ = _wait(comparison)
    assert status["state"] == "failed"
    message = status["message"]
    assert "\n" not in message and "Traceback" not in message
    assert "channels.voice.handle_time.mean: 5 has no unit" in message


def test_cancel_kills_the_child_and_its_workers(tmp_path):
    comparison = Comparison(
        VOICE, LONGER, out=tmp_path, max_replications=400, relative_half_width=0.001, jobs=2
    )
    comparison.start()
    pid = comparison.pid
    end = time.monotonic() + 60
    while len(_group(pid)) < 2:  # the child and at least one of its workers
        assert time.monotonic() < end and comparison.status()["state"] == "running"
        time.sleep(0.1)
    comparison.cancel()
    assert comparison.status()["state"] == "cancelled"
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert _group(pid) == []
    assert not math.isnan(comparison.status()["total"])


def test_a_server_that_dies_without_cancelling_takes_its_comparison_with_it(tmp_path):
    # The server killed (no cancel, no clean-up): its child sees it is orphaned and ends its
    # process group, workers included, within a second or two.
    server = (
        "import os, sys, time\n"
        "from pathlib import Path\n"
        "from ccsim.whatif.job import Comparison\n"
        f"c = Comparison({str(VOICE)!r}, {LONGER!r}, out=Path({str(tmp_path)!r}),\n"
        "               max_replications=400, relative_half_width=0.001, jobs=2)\n"
        "c.start()\n"
        "print(c.pid, flush=True)\n"
        "while not Path(c.out, 'status.json').read_text().count('running'):\n"
        "    time.sleep(0.05)\n"
        "time.sleep(1)\n"
        "os._exit(0)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", server], capture_output=True, text=True, env=env, timeout=60
    )
    pid = int(done.stdout.split()[0])
    end = time.monotonic() + 10
    while _group(pid):
        assert time.monotonic() < end, _group(pid)
        time.sleep(0.1)


def test_several_channels_give_the_headline_for_all_and_waits_per_channel():
    """As ``ccsim experiment`` prints them: the headline KPIs for all channels together,
    without the waits (a call's seconds and an email's hours do not blend), then service
    level and ASA channel by channel; a KPI a scenario lacks is left out."""
    summary_rows, paired_rows = [], []
    for channel in ("all", "voice", "email"):
        for kpi, base, variant in (("service_level", 0.9, 0.8), ("operating_cost", 1e5, 9e4)):
            for name, value in (("base", base), ("variant", variant)):
                summary_rows.append((name, channel, "all", kpi, value, value / 100))
            paired_rows.append(
                (
                    "variant",
                    channel,
                    "all",
                    kpi,
                    base,
                    variant - base,
                    variant - base - 1e-3,
                    variant - base + 1e-3,
                    1e-4,
                    3e-4,
                    True,
                )
            )
    summary = pd.DataFrame(
        summary_rows, columns=["scenario", "channel", "site", "kpi", "estimate", "half_width"]
    )
    comparisons = pd.DataFrame(
        paired_rows,
        columns=[
            "scenario",
            "channel",
            "site",
            "kpi",
            "baseline_value",
            "difference",
            "ci_low",
            "ci_high",
            "p_value",
            "p_holm",
            "significant",
        ],
    )
    rows = comparison_rows(summary, comparisons, "EUR")
    assert [(r["channel"], r["kpi"]) for r in rows] == [
        ("all", "operating_cost"),
        ("voice", "service_level"),
        ("email", "service_level"),
    ]
    cost = rows[0]
    assert cost["base"] == format_value("operating_cost", 1e5, reference=1e5, currency="EUR")
    assert cost["base"].endswith(" EUR") and cost["relative"] == "-10.0%"
    assert rows[1]["difference"] == "-10.00 pts" and rows[1]["relative"] == ""


def test_an_unadjusted_interval_excluding_zero_shows_its_holm_p_and_family():
    """The interval is ``ccsim experiment``'s unadjusted one, the mark Holm's: a row whose
    interval excludes 0 but whose adjusted p is 5% or more (finding r2-3: tier2 ASA,
    p 0.025, Holm 0.176 over its channel and site comparisons) carries both p-values and
    the size of the family, which counts the site rows the page does not show."""
    summary = pd.DataFrame(
        [
            (name, "voice", "all", "asa", value, 0.5)
            for name, value in (("base", 10), ("variant", 8))
        ],
        columns=["scenario", "channel", "site", "kpi", "estimate", "half_width"],
    )
    columns = ["scenario", "channel", "site", "kpi", "baseline_value", "difference"]
    columns += ["ci_low", "ci_high", "p_value", "p_holm", "significant"]
    comparisons = pd.DataFrame(
        [
            ("variant", "voice", "all", "asa", 10.0, -2.0, -3.0, -1.0, 0.025, 0.176, False),
            ("variant", "voice", "north", "asa", 11.0, -1.0, -3.0, 1.0, 0.3, 0.6, False),
            ("variant", "voice", "south", "asa", 9.0, -3.0, -5.0, -1.0, 0.02, 0.176, False),
        ],
        columns=columns,
    )
    (row,) = comparison_rows(summary, comparisons, "USD")
    assert row["values"]["ci_high"] < 0 and not row["significant"]
    assert (row["p_value"], row["p_holm"], row["family"]) == ("0.025", "0.18", 3)


def test_a_channel_without_contacts_leaves_the_rule_on_what_is_defined(tmp_path):
    """A base whose channel has no calls has no service level to difference: the rule
    skips it rather than wait on ±inf through every replication (finding r2-4: it ran all
    of ``max_replications`` and said "±inf%")."""
    text = VOICE.read_text(encoding="utf-8").replace("horizon: 7d", "horizon: 1d")
    text = text.replace("1200", "0")
    assert "fri: 0, sat: 0" in text
    silent = tmp_path / "silent.yaml"
    silent.write_text(text, encoding="utf-8")
    assert rule_kpis(VOICE, LONGER) == ["service_level", "operating_cost"]
    assert rule_kpis(silent, LONGER) == ["operating_cost"]
    comparison = Comparison(
        silent, {"sites.inhouse.shifts.0.headcount": 10}, out=tmp_path / "c", max_replications=10
    )
    comparison.start()
    status, _ = _wait(comparison)
    assert status["state"] == "done", status
    result = comparison.result()
    assert result["replications"] == 5 and "inf" not in result["rule"]


def test_a_difference_is_in_its_estimates_unit_and_a_count_is_whole_with_separators():
    """Finding r2-7: 9.3min against 11.4min differed by "+127.71s", and offered contacts
    read "207349.4 ±7291.0" beside costs of "816,772 USD"."""
    estimates = [("asa", 558.0, 684.0, 6.0), ("offered", 207349.4, 206861.4, 7291.0)]
    summary = pd.DataFrame(
        [
            (name, "voice", "all", kpi, value, width)
            for kpi, base, variant, width in estimates
            for name, value in (("base", base), ("variant", variant))
        ],
        columns=["scenario", "channel", "site", "kpi", "estimate", "half_width"],
    )
    columns = ["scenario", "channel", "site", "kpi", "baseline_value", "difference"]
    columns += ["ci_low", "ci_high", "p_value", "p_holm", "significant"]
    comparisons = pd.DataFrame(
        [
            ("variant", "voice", "all", "asa", 558.0, 126.0, 63.43, 191.99, 1e-3, 1e-3, True),
            (
                "variant",
                "voice",
                "all",
                "offered",
                207349.4,
                -488.0,
                -876.1,
                -99.9,
                0.02,
                0.1,
                False,
            ),
        ],
        columns=columns,
    )
    rows = {row["kpi"]: row for row in comparison_rows(summary, comparisons, "USD")}
    asa = rows["asa"]
    assert (asa["base"], asa["variant"]) == ("9.3min", "11.4min")
    assert asa["difference"] == "+2.1min"  # 11.4 - 9.3, by eye
    assert asa["interval"] == "[+1.1min, +3.2min]"
    offered = rows["offered"]
    assert (offered["base"], offered["base_half_width"]) == ("207,349", "±7,291")
    assert (offered["difference"], offered["interval"]) == ("-488", "[-876, -100]")
    assert offered["relative"] == "-0.2%"
