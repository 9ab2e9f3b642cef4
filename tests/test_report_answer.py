"""The top of the experiment report: the one-sentence answer, the headline chart and the
target table, composed from the study's tables (small fixtures with the study's columns), and
the sentences that stand in when a table is absent."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from ccsim.report import study_figures
from ccsim.report.answer import Study, answer_sentence, cheapest_flips, selection_sentence
from ccsim.report.formatting import input_label
from ccsim.report.page import render_macro
from ccsim.report.targets import target_table

MINUS = "\N{MINUS SIGN}"
MODELS = ["onshore", "offshore", "hybrid"]


def equal_service(costs=(100_000.0, 66_000.0, 70_000.0), p_holm=(math.nan, 0.001, 0.2)):
    rows = []
    for name, cost, p in zip(MODELS, costs, p_holm, strict=True):
        diff = cost - costs[0]
        rows.append(
            {
                "scenario": name,
                "cost": cost,
                "cost_low": cost * 0.98,
                "cost_high": cost * 1.02,
                "binding_channel": "voice",
                "difference": diff,
                "difference_low": diff - 3000 if diff else 0.0,
                "difference_high": diff + 3000 if diff else 0.0,
                "difference_pct": 100 * diff / costs[0],
                "difference_pct_low": 100 * (diff - 3000) / costs[0] if diff else 0.0,
                "difference_pct_high": 100 * (diff + 3000) / costs[0] if diff else 0.0,
                "p_value": p,
                "p_holm": p,
                "significant": bool(p < 0.05),
                "extrapolated": False,
            }
        )
    return pd.DataFrame(rows)


def sensitivity(flip: bool):
    """The cost at equal service at base and at the ends of two inputs; with ``flip`` the
    offshore wage at its high end makes hybrid cheapest."""
    rows = []
    base = {"onshore": 100_000.0, "offshore": 66_000.0, "hybrid": 70_000.0}
    ends = {
        ("sites.manila.cost_per_hour", "low"): {"offshore": 55_000.0},
        ("sites.manila.cost_per_hour", "high"): {"offshore": 75_000.0 if flip else 68_000.0},
        ("channels.chat.bot.containment", "low"): {"hybrid": 74_000.0},
        ("channels.chat.bot.containment", "high"): {"hybrid": 67_000.0},
    }
    for (parameter, end), changes in [(("base", "base"), {}), *ends.items()]:
        for model, cost in (base | changes).items():
            rows.append(
                {
                    "model": model,
                    "parameter": parameter,
                    "end": end,
                    "value": math.nan,
                    "operating_cost": cost,
                    "cost_per_resolved_contact": cost / 10_000,
                    "service_level": 0.8,
                    "cost_per_resolved_contact_difference": 0.0,
                    "cost_at_equal_service": cost,
                }
            )
    return pd.DataFrame(rows)


def targets():
    rows = []
    for name in MODELS:
        for channel, level in (("voice", 0.83), ("chat", 0.78 if name == "hybrid" else 0.9)):
            met = level - 0.01 >= 0.8
            rows.append(
                {
                    "scenario": name,
                    "channel": channel,
                    "service_level": level,
                    "sl_low": level - 0.01,
                    "sl_high": level + 0.01,
                    "target": 0.8,
                    "met_weekly": met,
                    "share_at_floor": 0.97,
                    "floor": 0.65,
                    "floor_share_required": 0.95,
                    "met_floor": True,
                    "met": met,
                    "occupancy": math.nan,
                    "occupancy_low": math.nan,
                    "occupancy_high": math.nan,
                }
            )
        rows.append(
            {"scenario": name, "channel": f"site_{name}", "occupancy": 0.78}
            | {"occupancy_low": 0.77, "occupancy_high": 0.79}
        )
    return pd.DataFrame(rows)


def selection():
    return pd.DataFrame(
        {
            "scenario": MODELS,
            "mean": [100_000.0, 66_000.0, 70_000.0],
            "mcb_low": [0.0, -4000.0, 0.0],
            "mcb_high": [34_000.0, 0.0, 4000.0],
            "eligible": [True, True, True],
            "selected": [False, True, False],
            "can_be_best": [False, True, False],
        }
    )


def _study(**tables) -> Study:
    fields = {"equal_service": None, "frontier": None, "targets": None, "selection": None}
    fields |= {"sensitivity": None, "selection_sentence": ""}
    return Study(**(fields | tables))


def _summary():
    rows = []
    for name, cost in zip(MODELS, (16.4, 10.8, 11.3), strict=True):
        rows.append(
            {"scenario": name, "channel": "all", "site": "all"}
            | {"kpi": "cost_per_resolved_contact", "estimate": cost}
            | {"ci_low": cost - 0.2, "ci_high": cost + 0.2}
        )
    return pd.DataFrame(rows)


def test_the_answer_at_equal_service_names_the_flips():
    study = _study(equal_service=equal_service(), sensitivity=sensitivity(flip=True))
    sentence = answer_sentence(_summary(), None, study, "all", "onshore", "USD")
    assert sentence.startswith(
        f"offshore is cheapest at equal service: {MINUS}34% [{MINUS}37, {MINUS}31] against "
        "onshore (significant), 66,000 USD per week"
    )
    assert sentence.endswith(
        "stays cheapest over every input range except Manila hourly wage at its high end "
        "(hybrid cheapest)."
    )
    study = _study(equal_service=equal_service(), sensitivity=sensitivity(flip=False))
    sentence = answer_sentence(_summary(), None, study, "all", "onshore", "USD")
    assert sentence.endswith("stays cheapest over the range of every uncertain input (2).")


def test_the_selection_decides_the_model_named():
    """The selected model is named even when its point estimate is not the least (the
    selection's guarantee is the stated one); its difference is then not significant."""
    chosen = selection().assign(selected=[False, False, True])
    study = _study(equal_service=equal_service(), selection=chosen)
    sentence = answer_sentence(_summary(), None, study, "all", "onshore", "USD")
    assert sentence.startswith("hybrid is cheapest at equal service: −30% [−33, −27]")
    assert "(not significant)" in sentence


def test_without_a_frontier_the_answer_is_at_planned_staffing():
    sentence = answer_sentence(_summary(), None, _study(), "all", "onshore", "USD")
    assert sentence == (
        "offshore has the lowest cost per resolved contact at planned staffing: 10.80 USD "
        "[10.60, 11.00]."
    )
    assert answer_sentence(_summary().assign(estimate=0.0), None, _study(), "all", None, "") == ""


def test_flips_are_read_off_the_given_column():
    best, flips = cheapest_flips(sensitivity(flip=True), "cost_at_equal_service")
    assert best == "offshore"
    assert flips == [("sites.manila.cost_per_hour", "high", "hybrid")]


def test_the_target_table_says_met_or_not_per_model_and_channel():
    html = render_macro("target_table", target_table(targets(), MODELS, "onshore"))
    assert html.count('<tr data-scenario="') == 3
    assert html.count('class="met"') == 5 and html.count('class="notmet"') == 1
    assert "78.0% <span" in html and "tier-1 occupancy" in html
    assert "floor 65%: 97% of intervals ≥ 95%" in html
    assert "site_hybrid 78%" in html


@pytest.mark.parametrize("flat", [True, False])
def test_a_channel_without_variation_is_said_not_drawn(flat):
    from ccsim.report.run_figures import service_level_chart

    rows = []
    for channel in ("voice", "email"):
        for i in range(48):
            level = 1.0 if (channel == "email" and flat) else 0.8 + 0.1 * np.sin(i / 5)
            rows.append(
                {"scenario": "a", "channel": channel, "site": "all", "kpi": "service_level"}
                | {"interval_start": 1800.0 * i, "estimate": level}
                | {"ci_low": level - 0.02, "ci_high": min(level + 0.02, 1.0)}
                | {"local_start": f"2026-03-02T{i // 2:02d}:{30 * (i % 2):02d}:00-05:00"}
            )
    chart = service_level_chart(pd.DataFrame(rows), ["a"], ["voice", "email"], None)
    assert chart.png is not None
    said = "the same in every interval of every model: email: 100.0%"
    assert (said in chart.caption) is flat


def write_study(folder, models: list[str]) -> None:
    """The study's tables for ``models`` (the first is the baseline) in an output folder, as
    the study step writes them, from the fixtures above (model names replaced)."""
    names = dict(zip(MODELS, models, strict=True))
    tables = {
        "equal_service.csv": equal_service(),
        "targets.csv": targets(),
        "selection.csv": selection(),
        "sensitivity.csv": sensitivity(flip=True),
    }
    for file, table in tables.items():
        key = "model" if "model" in table else "scenario"
        table.assign(**{key: table[key].map(names)}).to_csv(folder / file, index=False)
    manifest_path = folder / "manifest.json"
    if manifest_path.exists():  # the fixtures replace the run's own tables: unlist them
        manifest = json.loads(manifest_path.read_text())
        for file in tables:
            manifest.get("files", {}).pop(file, None)
        manifest_path.write_text(json.dumps(manifest))


def _manifest(guaranteed=True):
    selection = {"on": "equal_service", "selected": "offshore", "guaranteed": guaranteed}
    selection |= {"indifference_zone": 2000.0, "confidence": 0.95, "replications": 8}
    selection |= {"replications_needed": 6 if guaranteed else 11, "sentence": "(MCB, 95%)"}
    return {"study": {"selection": selection}}


def test_the_selection_says_its_money_and_mcb_in_words():
    """The guarantee's zone in the scenario's currency and as a share of the baseline's cost,
    and multiple comparisons with the best named and explained (issue #30: "27,892" and
    "MCB, 95%" alone)."""
    study = _study(selection=selection())
    sentence = selection_sentence(study, _manifest(), "onshore", "EUR", "week")
    assert sentence.startswith(
        "offshore has the lowest cost at equal service, guaranteed the cheapest with "
        "probability at least 95% whenever the cheapest model is cheaper than every other by "
        "at least 2,000 EUR per week, 2% of onshore's cost (the indifference zone)."
    )
    assert "Every other model is costlier by multiple comparisons with the best (MCB:" in sentence
    rivals = selection().assign(can_be_best=[False, True, True])
    sentence = selection_sentence(
        _study(selection=rivals), _manifest(False), "onshore", "EUR", "day"
    )
    assert "but the guarantee" in sentence and "needs 11 replications, not 8" in sentence
    assert "2,000 EUR per day" in sentence
    assert "hybrid may still be the cheapest: multiple comparisons with the best" in sentence
    # Without the figures (an older manifest), the study's own sentence.
    older = _study(selection=selection(), selection_sentence="as the study said")
    assert selection_sentence(older, {}, "onshore", "EUR", "week") == "as the study said"


def test_the_answer_names_the_costs_period():
    study = _study(equal_service=equal_service())
    sentence = answer_sentence(_summary(), None, study, "all", "onshore", "USD", "day")
    assert "66,000 USD per day" in sentence and "per week" not in sentence


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("sites.manila.cost_per_hour", "Manila hourly wage"),
        ("sites.new_york.cost_per_hour", "New York hourly wage"),
        ("channels.voice.bot.containment", "Voice bot containment"),
        ("channels.chat.bot.cost_per_session", "Chat bot cost per session"),
        ("channels.chat.handle_time.mean", "Chat mean handle time"),
        ("routing.shares.voice.vendor", "Vendor share of voice"),
        ("sites.0.agents", "First site agents"),
        ("horizon", "Horizon"),
    ],
)
def test_uncertain_inputs_are_named_in_words(path, words):
    assert input_label(path) == words


def test_the_tornado_labels_its_rows_in_words(monkeypatch):
    drawn = []
    monkeypatch.setattr(study_figures, "png_bytes", lambda figure: drawn.append(figure) or b"")
    chart = study_figures.tornado_chart(sensitivity(flip=True), "offshore", "EUR")
    labels = {label.get_text() for label in drawn[0].axes[0].get_yticklabels()}
    assert labels == {"Manila hourly wage", "Chat bot containment"}
    assert "Manila hourly wage at its high end" in chart.caption
    assert "sites." not in chart.caption and "channels." not in chart.caption


def test_waiting_time_ticks_are_distinct_near_100_percent(monkeypatch):
    """Shares between 99% and 100% once read "100%" at five ticks of the run page's
    waiting-time figure."""
    from ccsim.report import run_figures

    drawn = []
    monkeypatch.setattr(run_figures, "png_bytes", lambda figure: drawn.append(figure) or b"")
    answered = np.array([1000.0, 1010.0, 990.0])
    reps = pd.DataFrame(
        {"scenario": "a", "channel": "voice", "site": "all"}
        | {"replication": [0, 1, 2], "answered": answered}
    )
    for seconds, share in ((0, 0.993), (10, 0.996), (20, 0.998), (60, 1.0)):
        reps[f"waits_within_{seconds}s"] = np.floor(answered * share)
    run_figures.waiting_time_chart(reps, ["a"], ["voice"], None)
    axes = drawn[0].axes[0]
    drawn[0].canvas.draw()
    labels = [label.get_text() for label in axes.get_yticklabels() if label.get_text()]
    assert len(labels) == len(set(labels)) > 2, labels
