"""The KPI table: in step with docs/metrics.md and the tallies, read by every view, and
formatted alike on the terminal and in the report."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ccsim.report.formatting import PAGE, TERMINAL, format_interval, format_value
from ccsim.sim.kpis import KINDS, KPIS, QUANTILE, RATIO, SITE_SUMMARY
from ccsim.sim.metrics import TALLY_NAMES

DOCS = (Path(__file__).resolve().parents[1] / "docs" / "metrics.md").read_text()


def _section(title: str) -> str:
    start = DOCS.index(f"\n## {title}\n")
    end = DOCS.find("\n## ", start + 1)
    return DOCS[start : end if end >= 0 else None]


def test_every_kpi_is_defined_in_docs_metrics_and_every_defined_kpi_exists():
    first_cells = [
        line.split("|")[1]
        for line in _section("Per replication and channel").splitlines()
        if line.startswith("| `")
    ]
    documented = [name for cell in first_cells for name in re.findall(r"`(\w+)`", cell)]
    assert sorted(documented) == sorted(KPIS)
    assert len(documented) == len(set(documented))


def test_site_rows_of_docs_metrics_list_the_site_level_kpis():
    text = _section("Rows: channels and sites")
    sentence = text[text.index("rows of one site have only") : text.index("(`site_level`")]
    assert set(re.findall(r"`(\w+)`", sentence)) == {
        kpi.name for kpi in KPIS.values() if kpi.site_level
    }


def test_kpis_are_made_of_tallies_and_shares_are_ratios():
    for kpi in KPIS.values():
        assert kpi.kind in KINDS
        assert kpi.numerator and set(kpi.numerator + kpi.denominator) <= set(TALLY_NAMES)
        if kpi.kind in ("share", "duration", "level"):
            assert kpi.aggregate in (RATIO, QUANTILE), kpi.name
        if kpi.aggregate == QUANTILE:
            assert kpi.kind == "duration" and len(kpi.points) == len(kpi.numerator)
        assert kpi.better in ("higher", "lower", None)
        assert kpi.label and kpi.label[0].isupper()


def test_every_view_names_kpis_of_the_table():
    from ccsim.cli.experiment import HEADLINE
    from ccsim.report import outputs, tables

    views = (SITE_SUMMARY, HEADLINE, tables.MODEL_ROWS, tables.CHANNEL_ROWS)
    for view in (*views, outputs.INTERVAL_KPIS):
        assert set(view) <= set(KPIS)


@pytest.mark.parametrize(
    ("kpi", "value", "terminal", "page"),
    [
        ("service_level", 0.96244, "96.24%", "96.2%"),
        ("asa", 4.31, "4.31s", "4.3 s"),
        ("aht", 402.0, "402.00s", "6.7 min"),
        ("mean_resolution_time", 90000.0, "1,500.0min", "25.0 h"),
        ("labour_cost", 154634.2, "154,634", "154,634"),
        ("cost_per_handled_contact", 7.291, "7.29", "7.29"),
        ("offered", 1234.56, "1234.6", "1,235"),
        ("available_agents", 11.0, "11", "11.0"),
        ("asa", float("nan"), "-", "\N{EM DASH}"),
    ],
)
def test_a_value_reads_in_its_kpis_unit(kpi, value, terminal, page):
    assert format_value(kpi, value, TERMINAL) == terminal
    assert format_value(kpi, value, PAGE) == page


def test_bounds_and_half_widths_take_the_unit_of_their_estimate():
    # Each bound on its own would switch to minutes at 600 s: "[590.00s, 10.2min]".
    assert format_interval("asa", 590.0, 610.0, 595.0) == "[590.00s, 610.00s]"
    assert format_value("aht", 30.0, reference=900.0) == "0.5min"
    assert format_interval("labour_cost", 980.0, 1020.0, 1000.0, PAGE) == "[980, 1,020]"


def test_a_difference_that_rounds_to_zero_has_no_sign():
    assert format_value("abandon_rate", -0.00001, signed=True, difference=True) == "0.00 pts"
    assert format_value("abandon_rate", 0.0123, signed=True, difference=True) == "+1.23 pts"
    assert format_value("offered", -0.01) == "0.0"


def test_the_command_line_formats_without_matplotlib():
    code = "import sys, ccsim.cli; print('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_waits_of_several_channels_are_shown_per_channel_only(capsys):
    """Issue #26: `ccsim run` printed an ASA of 32.9 min for all channels, a call's seconds
    blended with an email's hours. The channels together keep their counts and occupancy;
    their waiting-time KPIs appear under each channel only."""
    from ccsim.cli.summary import print_summary
    from ccsim.sim.kpis import PER_CHANNEL

    assert {"asa", "service_level", "mean_wait"} <= PER_CHANNEL <= set(KPIS)
    import pandas as pd

    rows = [
        {"channel": channel, "site": "all", "kpi": kpi, "estimate": value}
        | {"ci_low": value, "ci_high": value}
        for channel, asa in (("voice", 12.0), ("email", 7200.0), ("all", 1974.0))
        for kpi, value in (("offered", 100.0), ("asa", asa), ("service_level", 0.9))
        + (("occupancy", 0.8),)
    ]
    print_summary(pd.DataFrame(rows), 3)
    blocks = [block.strip() for block in capsys.readouterr().out.split("\n\n")]
    shown = {
        block.split()[0]: {line.split()[0] for line in block.splitlines()[1:]} for block in blocks
    }
    assert shown["voice"] == shown["email"] == {"offered", "asa", "service_level", "occupancy"}
    assert shown["all"] == {"offered", "occupancy"}


def test_the_experiment_prints_service_level_and_asa_by_channel(capsys):
    """Under the headline of several channels, each channel's service level and ASA, in
    columns wide enough for an email's wait in minutes."""
    from types import SimpleNamespace

    from ccsim.cli.experiment import _print_by_channel

    values = {("a", "voice", "asa"): 7.2, ("a", "email", "asa"): 21341.0}
    values |= {("b", "voice", "asa"): 3.1, ("a", "voice", "service_level"): 0.858}

    def row_of(name, channel, kpi):
        value = values.get((name, channel, kpi))
        return None if value is None else SimpleNamespace(estimate=value, half_width=value / 3)

    _print_by_channel(row_of, ["a", "b"], ["voice", "email"], 8)
    lines = capsys.readouterr().out.splitlines()
    asa = lines.index("asa by channel ('-': the scenario has no such channel)")
    header, voice, email = lines[asa + 1 : asa + 4]
    assert header.split() == ["a", "b"] and len(header) == len(voice) == len(email)
    assert email.split() == ["email", "355.7", "±118.6min", "-"]
    assert voice.split()[0] == "voice" and "service_level by channel" in lines[1]
