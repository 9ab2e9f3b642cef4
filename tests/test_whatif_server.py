"""The what-if page's server through Flask's test client: the form's fields, a bad value
refused with its field's message and nothing run, a comparison on a shortened scenario to
its end and saved, a second Run refused while one runs, a cancel, and every error one line
(JSON for the API, HTML for pages), never a traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ccsim.model import load_scenario
from ccsim.whatif.form import form_fields, variant
from ccsim.whatif.server import BUSY, Runs, Settings, create_app

ROOT = Path(__file__).resolve().parent.parent
VOICE_WEEK = ROOT / "configs/planner/voice_week.yaml"
HANDLE_TIME = "channels.voice.handle_time.mean"
MONDAY = "channels.voice.arrivals.volume.mon"


def _client(scenario: Path, out: Path, **settings):
    runs = Runs(Settings(scenario=scenario, out=out, **settings))
    app = create_app(runs)
    app.testing = False  # errors go through the handlers, as they do when served
    return app.test_client(), runs


@pytest.fixture
def monday(tmp_path) -> Path:
    """voice_week cut to its Monday (1,200 calls): a comparison in a few seconds."""
    text = VOICE_WEEK.read_text(encoding="utf-8").replace("horizon: 7d", "horizon: 1d")
    assert "horizon: 1d" in text
    path = tmp_path / "monday.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _wait(client, number: int, timeout: float = 120) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        status = client.get(f"/api/runs/{number}").get_json()
        if status["state"] != "running":
            return status
        time.sleep(0.2)
    raise AssertionError(f"run {number} still running after {timeout} s")


def _no_traceback(text: str) -> None:
    assert "Traceback" not in text and 'File "' not in text
    assert len(text.strip().splitlines()) == 1, text


def test_the_page_shows_every_field_with_its_base_value(tmp_path):
    client, _ = _client(VOICE_WEEK, tmp_path / "out")
    fields = form_fields(VOICE_WEEK)
    assert client.get("/api/fields").get_json() == [vars(f) for f in fields]
    page = client.get("/").get_data(as_text=True)
    for item in fields:
        assert f'name="{item.path}"' in page
        assert f'data-base="{item.value}"' in page
    for group in {item.group for item in fields}:
        assert f"<legend>{group}</legend>" in page
    assert client.get("/static/whatif.js").status_code == 200
    assert client.get("/static/whatif.css").status_code == 200


def test_a_bad_value_gets_its_fields_message_and_runs_nothing(tmp_path):
    out = tmp_path / "out"
    client, runs = _client(VOICE_WEEK, out)
    values = {MONDAY: "-5", HANDLE_TIME: "5.5"}
    answer = client.post("/api/run", json=values)
    assert answer.status_code == 400
    errors = answer.get_json()["errors"]
    # the command line's wording, from the form's validation, for each field
    assert errors == variant(VOICE_WEEK, values).errors
    assert set(errors) == {MONDAY, HANDLE_TIME}
    assert "no unit" in errors[HANDLE_TIME]
    assert runs.all() == [] and not out.exists()
    assert client.get("/api/runs").get_json() == []


def test_nothing_changed_and_bad_requests_are_refused_in_one_line(tmp_path):
    client, runs = _client(VOICE_WEEK, tmp_path / "out")
    base = {f.path: f.value for f in form_fields(VOICE_WEEK)}
    assert "nothing changed" in client.post("/api/run", json=base).get_json()["message"]
    retyped = {**base, HANDLE_TIME: "300s", MONDAY: "1200.0"}  # 5min and 1200 respelt
    assert "nothing changed" in client.post("/api/run", json=retyped).get_json()["message"]
    for body in ([1, 2], {"x": 3}, None):
        answer = client.post("/api/run", json=body)
        assert answer.status_code == 400
        _no_traceback(answer.get_json()["message"])
    answer = client.post("/api/run", data="{not json", content_type="application/json")
    assert answer.status_code == 400
    assert runs.all() == []


def test_errors_are_one_line_json_for_the_api_and_html_for_pages(tmp_path):
    client, _ = _client(VOICE_WEEK, tmp_path / "out")
    for url, status in (("/api/runs/7", 404), ("/api/nowhere", 404), ("/nowhere", 404)):
        answer = client.get(url)
        assert answer.status_code == status
        if url.startswith("/api/"):
            _no_traceback(answer.get_json()["message"])
        else:
            assert answer.content_type.startswith("text/html")
            _no_traceback(answer.get_data(as_text=True))
    assert client.get("/api/run").status_code == 405
    _no_traceback(client.get("/api/run").get_json()["message"])
    assert client.post("/api/runs/7/save").status_code == 404


def test_an_internal_error_is_one_line_without_a_traceback(tmp_path):
    def broken(*args, **kwargs):
        raise RuntimeError("the disk is on fire\n  File 'x.py', line 3")

    runs = Runs(Settings(scenario=VOICE_WEEK, out=tmp_path / "out"), comparison=broken)
    app = create_app(runs)
    answer = app.test_client().post("/api/run", json={HANDLE_TIME: "6min"})
    assert answer.status_code == 500
    message = answer.get_json()["message"]
    _no_traceback(message)
    assert message == "internal error (RuntimeError): the disk is on fire"


def test_a_run_goes_to_its_end_and_its_variant_is_saved(tmp_path, monday):
    out = tmp_path / "out"
    client, _ = _client(monday, out, max_replications=5)
    answer = client.post("/api/run", json={HANDLE_TIME: "5.5min"})
    assert answer.status_code == 202, answer.get_json()
    number = answer.get_json()["id"]
    status = _wait(client, number)
    assert status["state"] == "done", status
    assert status["done"] == status["total"] or status["result"]["stopped_early"]
    result = status["result"]
    assert result["replications"] == 5 and result["seed"] == 2026
    kpis = {(row["channel"], row["kpi"]): row for row in result["rows"]}
    level = kpis["voice", "service_level"]["values"]
    # a longer handle time with the same agents can only lower the service level
    assert level["difference"] < 0 and level["ci_low"] <= level["difference"] <= level["ci_high"]
    assert result["service_level_svg"].lstrip().startswith(("<svg", "<?xml"))
    assert status["changes"] == ["voice: mean handle time: 5min -> 5.5min"]
    history = client.get("/api/runs").get_json()
    assert [r["id"] for r in history] == [number]
    assert any(
        line.startswith(kpis["voice", "service_level"]["label"]) for line in history[0]["headline"]
    )

    saved = client.post(f"/api/runs/{number}/save").get_json()
    scenario = load_scenario(saved["scenario"])
    assert scenario.channels["voice"].handle_time.mean == pytest.approx(330)
    assert Path(saved["experiment"]).read_text() == result["experiment_yaml"]
    assert Path(saved["scenario"]).parent == Path(saved["experiment"]).parent == out / str(number)
    assert client.get(f"/api/runs/{number}").get_json()["saved"] == saved


def test_a_second_run_is_refused_while_one_runs_and_cancel_stops_it(tmp_path):
    client, runs = _client(VOICE_WEEK, tmp_path / "out", max_replications=40)
    first = client.post("/api/run", json={MONDAY: "1300"})
    assert first.status_code == 202
    number = first.get_json()["id"]
    second = client.post("/api/run", json={MONDAY: "1400"})  # from a second tab
    assert second.status_code == 409
    assert second.get_json()["message"] == BUSY
    assert [r.number for r in runs.all()] == [number]
    assert client.get(f"/api/runs/{number}").get_json()["state"] == "running"
    assert client.post(f"/api/runs/{number}/save").status_code == 400  # not finished

    client.post(f"/api/runs/{number}/cancel")
    assert _wait(client, number, timeout=30)["state"] == "cancelled"
    # the server is free again, and the next run takes the next folder
    third = client.post("/api/run", json={MONDAY: "1400"})
    assert third.status_code == 202 and third.get_json()["id"] == number + 1
    runs.cancel()
    assert _wait(client, number + 1, timeout=30)["state"] == "cancelled"


def test_the_page_files_are_package_data():
    """A non-editable ``pip install .`` copies only what [tool.setuptools.package-data]
    names: every file the page serves must match one of its patterns."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["ccsim.whatif"]
    package = ROOT / "ccsim" / "whatif"
    served = [p for d in ("templates", "static") for p in (package / d).rglob("*") if p.is_file()]
    assert {p.name for p in served} >= {"whatif.html", "whatif.css", "whatif.js"}
    for path in served:
        relative = path.relative_to(package)
        assert any(relative.match(pattern) for pattern in patterns), relative


def test_only_the_local_host_names_and_small_json_bodies_are_served(tmp_path):
    client, runs = _client(VOICE_WEEK, tmp_path / "out")
    assert client.get("/", headers={"Host": "127.0.0.1:5000"}).status_code == 200
    rebound = client.get("/api/fields", headers={"Host": "evil.example:5000"})
    assert rebound.status_code == 400 and "unknown host" in rebound.get_json()["message"]
    # a cross-site form post (text/plain) is no JSON: refused, nothing runs
    form = client.post("/api/run", data='{"x": "1"}', content_type="text/plain")
    assert form.status_code == 400
    huge = client.post("/api/run", json={HANDLE_TIME: "x" * (2 << 20)})
    assert huge.status_code == 413
    _no_traceback(huge.get_json()["message"])
    assert runs.all() == []


def test_the_history_names_the_channel_when_there_are_several():
    from ccsim.whatif.server import Run

    def row(channel, kpi, label, difference, interval, significant):
        return {
            "channel": channel,
            "kpi": kpi,
            "label": label,
            "difference": difference,
            "interval": interval,
            "significant": significant,
        }

    run = Run(1, Path("1"), {}, [], comparison=None)
    run.result = {
        "currency": "EUR",
        "rows": [
            row("all", "operating_cost", "Operating cost", "-5,302", "[-5,400, -5,204]", True),
            row("voice", "service_level", "Service level", "-7.04 pts", "[-8.00, -6.08]", True),
            row("chat", "service_level", "Service level", "+0.10 pts", "[-0.20, +0.40]", False),
        ],
    }
    assert run.headline() == [
        "voice Service level ● -7.04 pts [-8.00, -6.08]",
        "chat Service level +0.10 pts [-0.20, +0.40]",
        "all Operating cost ● -5,302 EUR [-5,400, -5,204]",
    ]
    # finding r2-6: a cost within the noise read "-4.23 USD", bare, as an effect would
    cost = row("voice", "operating_cost", "Operating cost", "-4.23", "[-12.15, +3.70]", False)
    run.result["rows"] = [cost]
    assert run.headline() == ["Operating cost -4.23 EUR [-12.15, +3.70]"]


def test_the_interval_column_says_it_is_not_adjusted_and_the_legend_names_holms_family(
    tmp_path,
):
    client, _ = _client(VOICE_WEEK, tmp_path / "out")
    page = " ".join(client.get("/").get_data(as_text=True).split())
    assert "[95% interval, not adjusted]" in page
    assert 'p, Holm <span class="sub-head">(unadjusted)' in page
    assert "each site (the site rows are in <code>run/comparisons.csv</code>, not shown" in page


def test_a_currency_is_shown_as_text_and_refused_before_anything_runs(tmp_path):
    client, runs = _client(VOICE_WEEK, tmp_path / "out")
    page = client.get("/").get_data(as_text=True)
    assert 'name="currency"' not in page
    assert "Amounts in USD, the base's currency" in page
    answer = client.post("/api/run", json={"currency": "EUR"})
    assert answer.status_code == 400
    assert answer.get_json()["message"].startswith("currency: the page compares amounts in")
    assert runs.all() == [] and not (tmp_path / "out").exists()


def test_a_path_not_on_the_form_is_refused_in_words_the_page_shows(tmp_path):
    client, runs = _client(VOICE_WEEK, tmp_path / "out")
    answer = client.post("/api/run", json={"horizon": "1h"})
    assert answer.status_code == 400
    assert answer.get_json()["message"] == "horizon: not an input of this page"
    assert runs.all() == []


def test_the_header_says_the_precision_is_of_the_bases_value(tmp_path):
    # finding r2-11: "known to ±10%" did not say of what
    client, _ = _client(VOICE_WEEK, tmp_path / "out", relative_half_width=0.05)
    page = " ".join(client.get("/").get_data(as_text=True).split())
    assert "within ±5% of the base's value (a service level of 80%: ±4 pts)" in page
