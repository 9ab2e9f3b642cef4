"""The pages ccsim writes, as a person sees them: rendered by headless Chromium.

An experiment's report and one run's page are loaded in the browser; after load, a script
added to a copy of the page records what the reader would see: the answer sentence and
whether it fits the first screen, then (with the detail below the fold opened) the heading,
the tables, and for every figure whether the browser decoded the image and how large it drew
it. A
screenshot of the page must not be blank. Chromium is a Debian package (`apt-get install
chromium`); `.ci/run` installs it, so on CI (``CI`` set) a missing browser fails the test
instead of skipping it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pytest

import ccsim
from ccsim.cli import main

ROOT = Path(__file__).resolve().parent.parent
BROWSER = next(
    (b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None
)

pytestmark = pytest.mark.slow  # a browser start per page: the full suite (and CI) runs them

if BROWSER is None:
    if os.environ.get("CI"):
        pytest.fail(
            "no Chromium on CI: .ci/run installs it (apt-get install chromium)", pytrace=False
        )
    pytestmark = pytest.mark.skip(
        reason="headless Chromium is not installed: apt-get install chromium"
    )

_PROBE = """<script>
window.addEventListener("load", () => {
  const answer = document.getElementById("answer-sentence");
  const box = answer ? answer.getBoundingClientRect() : null;
  const first = {answer: answer ? answer.innerText : null,
                 answer_bottom: box ? box.bottom : null, screen: window.innerHeight};
  // What is below the fold is there when the reader opens it.
  document.querySelectorAll("details").forEach(d => { d.open = true; });
  setTimeout(() => {
    const images = [...document.images].map(i => ({
      figure: i.closest("figure")?.id, ok: i.complete && i.naturalWidth > 0,
      width: i.naturalWidth, shown: i.clientWidth}));
    const tables = [...document.querySelectorAll("table")].map(t => t.rows.length);
    const ids = [...document.querySelectorAll("table")].map(t => t.id);
    const report = {title: document.querySelector("h1")?.innerText, images, tables, ids,
                    headings: [...document.querySelectorAll("h2")].map(h => h.innerText),
                    ...first};
    document.body.setAttribute("data-probe", JSON.stringify(report));
  }, 0);
});
</script>"""

SCREEN = (1280, 900)  # the first screen of a laptop


def _chromium(*args: str) -> subprocess.CompletedProcess:
    command = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    command += ["--virtual-time-budget=5000", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def _seen(page: Path) -> dict:
    """What the browser shows of ``page``: the probe's record after load."""
    probed = page.with_name(f"probed-{page.name}")
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"))
    dom = _chromium(f"--window-size={SCREEN[0]},{SCREEN[1]}", "--dump-dom", probed.as_uri()).stdout
    match = re.search(r'data-probe="([^"]*)"', dom)
    assert match, f"the browser did not load {page.name}"
    return json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def _screenshot(page: Path, tmp_path: Path) -> np.ndarray:
    import matplotlib.image

    shot = tmp_path / f"{page.stem}.png"
    _chromium("--window-size=1280,2000", f"--screenshot={shot}", page.as_uri())
    assert shot.is_file() and shot.stat().st_size > 0, "no screenshot"
    return matplotlib.image.imread(shot)


def _assert_seen(seen: dict, figures: int) -> None:
    assert seen["title"]
    assert seen["tables"] and all(rows > 1 for rows in seen["tables"])
    assert len(seen["images"]) >= figures
    for image in seen["images"]:
        assert image["ok"] and image["width"] > 200 and image["shown"] > 200, image


def test_the_experiment_report_in_a_browser(tmp_path):
    """The report as a planner sees it: the answer in the first screen, then the headline
    chart and the target table, every figure decoded and drawn (the detail opened)."""
    from test_report_answer import write_study

    experiment = tmp_path / "overflow_report.yaml"
    common = "horizon: 2h, sites.0.cost_per_hour: 30, sites.1.cost_per_hour: 12"
    experiment.write_text(
        textwrap.dedent(
            f"""\
            name: overflow_report
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
    ccsim.run_experiment(experiment, out=tmp_path / "out")
    write_study(tmp_path / "out", ["after_30s", "after_0s", "never"])
    page = ccsim.render_report(tmp_path / "out")
    seen = _seen(page)
    _assert_seen(seen, figures=5)
    assert seen["answer"].startswith("after_0s is cheapest at equal service")
    assert 0 < seen["answer_bottom"] <= seen["screen"], "the answer is below the first screen"
    figures = {image["figure"] for image in seen["images"]}
    assert {"fig-headline", "fig-tornado", "fig-service_level", "fig-staffing"} <= figures
    assert "targets" in seen["ids"] and "models" in seen["ids"]
    assert seen["headings"][0] == "Does each model meet its targets?"
    assert "The models side by side" in seen["headings"]
    pixels = _screenshot(page, tmp_path)
    assert pixels.std() > 0.01, "the screenshot is blank"


def test_one_runs_page_in_a_browser(tmp_path):
    out = tmp_path / "run"
    config = ROOT / "configs/example.yaml"
    assert main(["run", str(config), "--reps", "3", "--out", str(out), "--plot"]) == 0
    seen = _seen(out / "run.html")
    _assert_seen(seen, figures=3)
    assert _screenshot(out / "run.html", tmp_path).std() > 0.01
