"""Scenario builders shared by the tests.

A test states a scenario as the plain data a YAML file would hold and has it validated like
one (``ccsim.parse_scenario``), so a builder can never make a scenario a user could not
write. Test modules import these functions (``from conftest import channel, scenario``) and
fix their own defaults with :func:`functools.partial` or a short wrapper.
"""

from __future__ import annotations

from typing import Any

import ccsim

#: Every way a contact ends, stated here rather than taken from the code, so that a
#: conservation test (offered = the sum of these) catches an outcome the code forgets to count.
OUTCOMES = (
    "contained",
    "blocked",
    "balked",
    "abandoned",
    "callbacks",
    "messages",
    "disconnected",
    "carried_over",
    "resolved",
    "escalated",
    "unresolved",
)


def exponential(mean: Any) -> dict:
    """An exponential distribution of the given mean (``"3min"`` or seconds)."""
    return {"dist": "exponential", "mean": mean}


def service_level(threshold: Any = "20s", target: float = 0.8) -> dict:
    return {"threshold": threshold, "target": target}


def _distribution(spec: Any) -> dict:
    return spec if isinstance(spec, dict) else exponential(spec)


def channel(
    rate: str = "1/min",
    handle: Any = "3min",
    patience: Any = "2min",
    *,
    threshold: Any = "20s",
    dist: str = "exponential",
    **extra: Any,
) -> dict:
    """A channel with Poisson arrivals at ``rate``. ``handle`` and ``patience`` are means of
    exponential times, or whole distributions as dicts; ``patience=None`` is a channel
    nobody abandons. ``dist`` names another handle-time distribution given by its mean
    (``deterministic``: by its value). ``extra`` adds or replaces channel fields."""
    if isinstance(handle, dict):
        handle_time = handle
    elif dist == "exponential":
        handle_time = exponential(handle)
    else:
        handle_time = {"dist": dist, "value" if dist == "deterministic" else "mean": handle}
    spec = {
        "arrivals": {"rate": rate},
        "handle_time": handle_time,
        "service_level": service_level(threshold),
    }
    if patience is not None:
        spec["patience"] = _distribution(patience)
    return spec | extra


def scenario_data(
    channels: dict, sites: list, routing: dict | None = None, *, name: str = "t", **fields: Any
) -> dict:
    """A scenario file's content: ``fields`` are top-level keys (``horizon``, ``warmup``,
    ``start``, ...); a field or ``routing`` given as None is left out."""
    data = {"name": name, **fields, "channels": channels, "sites": sites, "routing": routing}
    return {key: value for key, value in data.items() if value is not None}


def scenario(
    channels: dict,
    sites: list,
    routing: dict | None = None,
    *,
    source: str = "<scenario>",
    **fields: Any,
) -> ccsim.Scenario:
    """:func:`scenario_data` validated as a scenario file named ``source`` would be."""
    return ccsim.parse_scenario(scenario_data(channels, sites, routing, **fields), source=source)


# --- test tiers ---------------------------------------------------------------------------

#: Every test file's tier (pyproject.toml lists the markers). ``unit``: one layer or a few
#: functions, a model simulated a little, checked against theory where it can be: the
#: edit-test loop (``pytest -m unit``, under two minutes on two cores). ``integration``:
#: experiments, studies, staffing searches and fits run in-process through several layers.
#: ``e2e``: commands run as a user runs them (``ccsim ...`` through ``main`` or a process),
#: files written, pages rendered, a browser. ``slow`` (marked per test) stays out of
#: ``-m "not slow"`` whatever the tier. A new test file must say its tier here.
TIERS = {
    "e2e": {
        "test_backends.py",
        "test_browser.py",
        "test_cli.py",
        "test_comparisons.py",
        "test_examples.py",
        "test_fuzz.py",
        "test_fuzz_inputs.py",
        "test_planner_tool.py",
        "test_readme.py",
        "test_reliability_inputs.py",
        "test_reliability_folders.py",
        "test_reliability_integrity.py",
        "test_reliability_results.py",
        "test_report.py",
        "test_run_page.py",
        "test_staff_output.py",
        "test_staff_full_time.py",
        "test_tutorials.py",
        "test_whatif_browser.py",
        "test_whatif_cli.py",
    },
    "integration": {
        "test_whatif_job.py",  # the what-if page's comparison (issue #31)
        "test_doc_figures.py",
        "test_experiment.py",
        "test_fit.py",
        "test_fit_checks.py",
        "test_fit_types.py",
        "test_selection.py",
        "test_sensitivity.py",
        "test_search_open_hours.py",
        "test_search_trim.py",
        "test_search_guard.py",
        "test_floor_replications.py",  # the study and the search judge the floor alike (#28)
        "test_staffing_search.py",
        "test_staffing_split.py",
        "test_study.py",
        "test_equal_service_sites.py",
        "test_twins.py",
        "test_total_cost_study.py",
        "test_uncertainty.py",
        "test_validation.py",
        "test_whatif_docs.py",
        "test_whatif_server.py",
    },
    "unit": {
        "test_type_counts.py",  # the request types' counts and draw (#29)
        "test_absence.py",
        "test_analytic.py",
        "test_architecture.py",
        "test_arrivals.py",
        "test_calendar.py",
        "test_intervals.py",
        "test_callcenter1.py",
        "test_channels.py",
        "test_channels_regression.py",
        "test_clock_deadlines.py",
        "test_models_regression.py",
        "test_config.py",
        "test_contracts.py",
        "test_contrasts.py",
        "test_engine.py",
        "test_features.py",
        "test_files.py",
        "test_journeys.py",
        "test_kpis.py",
        "test_resolution_time.py",
        "test_outbound.py",
        "test_queue_features.py",
        "test_request_types.py",
        "test_report_answer.py",
        "test_report_grid.py",
        "test_routing.py",
        "test_routing_policies.py",
        "test_scheduling.py",
        "test_satisfaction.py",
        "test_sites.py",
        "test_speed_gate.py",
        "test_staffing.py",
        "test_staffing_breaks.py",
        "test_stats.py",
        "test_theory_balking.py",
        "test_theory_check.py",
        "test_total_cost.py",
        "test_workforce.py",
        # the what-if page's engine (issue #31)
        "test_whatif_form.py",
        "test_whatif_save.py",
    },
}
_TIER_OF = {name: tier for tier, names in TIERS.items() for name in names}


def pytest_collection_modifyitems(config, items):
    import pytest

    for item in items:
        if any(item.get_closest_marker(tier) for tier in ("e2e", "integration")):
            continue  # a test heavier than its file says so itself
        name = item.path.name
        if name not in _TIER_OF:
            raise pytest.UsageError(f"tests/conftest.py: TIERS does not list {name}")
        tier = _TIER_OF[name]
        if tier == "unit" and item.get_closest_marker("slow"):
            tier = "integration"  # a long run of a unit-tier file (a validation) is no unit test
        item.add_marker(getattr(pytest.mark, tier))
