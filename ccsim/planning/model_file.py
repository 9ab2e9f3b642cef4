"""Staffed model files: a staffing plan written as a short scenario file that ``extends`` its
design, one line per shift template.

A staffed model states only what the plan chose: each staffed site in full (a list replaces
the design's list when a file extends another), with its break rules once and one line per
template, its headcount per local weekday::

    extends: design/onshore.yaml
    sites:
    - name: dallas
      ...
      breaks:
      - at_least: 8h
        breaks: [{after: 2h, length: 15min, within: 30min}, ...]
      shifts:
      - {start: "07:30", length: 8.5h, headcount: {mon: 12, tue: 11, wed: 11, thu: 10, fri: 9}}

:func:`ccsim.model.load_scenario` reads it back to the plan's scenario.
"""

from __future__ import annotations

import os
from pathlib import Path

from ccsim.files import write_text
from ccsim.model import Scenario
from ccsim.model.units import format_duration
from ccsim.planning.scenario_file import dump_yaml, one_line, readable_durations
from ccsim.planning.search import StaffingPlan

__all__ = ["staffed_model_yaml", "write_staffed_model"]


def _site(data: dict) -> dict:
    """A site's fields, then its break rules, then one line per shift."""
    data = dict(data)
    data.pop("agents", None)
    rules, shifts = data.pop("breaks", None), data.pop("shifts", None)
    if rules:
        data["breaks"] = [
            {
                # The model dumps durations with their unit; an older dump gave seconds.
                "at_least": rule["at_least"]
                if isinstance(rule["at_least"], str)
                else format_duration(rule["at_least"]),
                "breaks": one_line(rule["breaks"]),
            }
            for rule in rules
        ]
    if shifts is not None:
        data["shifts"] = [one_line(shift) for shift in shifts]
    return data


def staffed_model_yaml(
    plan: StaffingPlan, design: str | Path, path: str | Path, command: str = ""
) -> str:
    """The text of a staffed model at ``path`` that extends the ``design`` file."""
    scenario: Scenario = plan.scenario
    data = scenario.model_dump(mode="json", exclude_defaults=True)
    sites = [_site(readable_durations(site)) for site in data["sites"]]
    # A share's interval stays within [0, 1] (the delta method's need not).
    levels = ", ".join(
        f"{row.channel} {row.service_level:.1%} [{max(row.low, 0.0):.1%}, {min(row.high, 1.0):.1%}]"
        for row in plan.evaluation.channels.itertuples()
    )
    occupancy = ", ".join(
        f"{row.site} {row.occupancy:.1%}" for row in plan.evaluation.sites.itertuples()
    )
    relative = os.path.relpath(Path(design).resolve(), Path(path).resolve().parent)
    header = [
        f"# {scenario.description or scenario.name}",
        f"# Staffed by `{command or 'ccsim staff'}`",
        "# (docs/staffing.md): the cheapest shifts that meet every target, judged on "
        f"{plan.evaluation.reps} replications",
        f"# (seed {plan.evaluation.seed}); pay over the horizon "
        f"{plan.cost:,.0f} {scenario.currency}"
        + ("" if plan.met else "; TARGETS NOT MET")
        + ("" if plan.trimmed or not plan.met else "; trimming stopped early")
        + ("; an integer program stopped at its time limit" if plan.time_limited else "")
        + ".",
        f"# Service level over the window ({plan.evaluation.confidence:.0%} interval): {levels}.",
        f"# Occupancy: {occupancy}.",
    ]
    if plan.fresh is not None:
        header.append(f"# Guard: {plan.fresh.summary(scenario.currency)}.")
    body = {"extends": relative.replace(os.sep, "/"), "sites": sites}
    if scenario.routing.overflow:  # without the sites the plan left unstaffed
        body["routing"] = {"overflow": data["routing"]["overflow"]}
    return "\n".join(header) + "\n" + dump_yaml(body, width=100)


def write_staffed_model(
    path: str | Path, plan: StaffingPlan, design: str | Path, command: str = ""
) -> Path:
    """Write :func:`staffed_model_yaml` to ``path``, atomically."""
    return write_text(path, staffed_model_yaml(plan, design, path, command))
