"""``ccsim run --plot`` and ``ccsim report`` on a run's folder: one self-contained page."""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path

from ruamel.yaml import YAML
from test_report import vendor_files

from ccsim.cli import main

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"


def _scenario(tmp_path: Path) -> Path:
    """The README's example, shortened: two hours are enough to draw every figure."""
    data = YAML(typ="safe", pure=True).load((ROOT / "configs" / "example.yaml").read_text())
    data["horizon"] = "2h"
    path = tmp_path / "example.yaml"
    path.write_text(json.dumps(data))  # JSON is YAML
    return path


def _images(page: str) -> list[bytes]:
    return [
        base64.b64decode(data) for data in re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    ]


def test_run_plot_writes_a_self_contained_page(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(_scenario(tmp_path)), "--reps", "4", "--out", str(out), "--plot"]) == 0
    assert f"page: {out / 'run.html'}" in capsys.readouterr().out
    page = (out / "run.html").read_text(encoding="utf-8")
    images = _images(page)
    assert len(images) == 4 and all(image.startswith(PNG) for image in images)
    assert 'class="note"' not in page  # every figure drawn, none left out
    # Nothing outside the page: no other source, stylesheet, script or address.
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert all(source.startswith("data:image/png;base64,") for source in sources), sources
    assert "<script" not in page and "<link" not in page and "http" not in page
    for heading in ("Service level", "Offered load", "Waiting-time", "Occupancy"):
        assert heading in page, heading
    assert "Average speed of answer" in page and "95% interval" in page


def test_run_without_plot_writes_no_page(tmp_path):
    out = tmp_path / "out"
    assert main(["run", str(_scenario(tmp_path)), "--reps", "2", "--out", str(out)]) == 0
    assert not (out / "run.html").exists()


def test_report_renders_a_run_folder_again(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(_scenario(tmp_path)), "--reps", "3", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["report", str(out)]) == 0
    assert f"wrote {out / 'run.html'}" in capsys.readouterr().out
    assert all(image.startswith(PNG) for image in _images((out / "run.html").read_text()))
    # A table its manifest lists is missing: refused, never a page from part of a run.
    copy = tmp_path / "partial"
    shutil.copytree(out, copy)
    (copy / "intervals.csv").unlink()
    assert main(["report", str(copy)]) == 2
    # A run's folder without intervals.csv (its manifest lists none): the page leaves out
    # the figures that need it.
    manifest = json.loads((copy / "manifest.json").read_text())
    del manifest["files"]["intervals.csv"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert main(["report", str(copy)]) == 0
    assert "No intervals.csv" in (copy / "run.html").read_text()


def test_report_of_a_folder_without_results_is_one_line(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["report", str(empty)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("ccsim: ")


def test_money_on_the_page_carries_the_scenarios_currency(tmp_path):
    data = json.loads(_scenario(tmp_path).read_text())
    data["currency"] = "EUR"
    for site in data.get("sites") or []:
        site["cost_per_hour"] = 30
    path = tmp_path / "priced.yaml"
    path.write_text(json.dumps(data))  # JSON is YAML
    out = tmp_path / "out"
    assert main(["run", str(path), "--reps", "2", "--out", str(out), "--plot"]) == 0
    page = (out / "run.html").read_text(encoding="utf-8")
    assert re.search(r"<th>Cost per handled contact</th><td>[\d.,]+ EUR</td>", page)


def test_one_channel_at_two_sites_fills_the_table(tmp_path):
    vendor_files(tmp_path)
    out = tmp_path / "run"
    assert (
        main(["run", str(tmp_path / "vendor.yaml"), "--reps", "2", "--out", str(out), "--plot"])
        == 0
    )
    page = (out / "run.html").read_text(encoding="utf-8")
    tables = page.split("<table")[1:]
    assert tables and all("<td" in table for table in tables)  # no table without rows
    assert "all channels" not in page
    assert "Average speed of answer" in page and "EUR" in page
