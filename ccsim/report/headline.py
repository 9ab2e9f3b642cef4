"""The headline chart's numbers: per model the cost the answer ranks by (at equal service,
else per resolved contact at the plan), its interval, its range over the uncertain inputs,
and what the interval leaves out (a site's crossing taken as fixed)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from ccsim.report.answer import EQUAL_SERVICE_SENSITIVITY, Study
from ccsim.report.uncertainty import fixed_crossings

__all__ = ["Headline", "headline_costs"]


@dataclass(frozen=True)
class Headline:
    """Per model the cost the answer ranks by, its interval and its range over the uncertain
    inputs (``sens_low``, ``sens_high``: NaN without sensitivity.csv); ``equal_service``
    tells which cost it is."""

    costs: pd.DataFrame  # index scenario: cost, low, high, sens_low, sens_high
    equal_service: bool
    joint: bool = False  # the ranges are the joint sample's 5%-95% (uncertainty.csv)
    # Some site's equal-service crossing is one figure for every replication: its sampling
    # error is not in the intervals (report.uncertainty.guarantee_scope).
    fixed_crossings: bool = False
    # Each site at its own equal-service point (``frontier: per_site``): what binds is a
    # site's constraint, a channel's floor or an occupancy cap as often as a weekly target.
    per_site: bool = False


def headline_costs(
    summary: pd.DataFrame, study: Study, channel: str, scenarios: Sequence[str]
) -> Headline | None:
    """Cost at equal service per model (else cost per resolved contact at planned staffing),
    with the range the sensitivity runs give it; None when no model has a cost."""
    if study.equal_service is not None and study.equal_service["cost"].notna().any():
        table = study.equal_service.set_index("scenario")
        costs = table[["cost", "cost_low", "cost_high"]].set_axis(["cost", "low", "high"], axis=1)
        column, equal = EQUAL_SERVICE_SENSITIVITY, True
        fixed = fixed_crossings(study.equal_service)
        per_site = any(c.startswith("scale_") for c in table.columns)
    else:
        column, equal, fixed, per_site = "cost_per_resolved_contact", False, False, False
        rows = summary[
            (summary["kpi"] == column)
            & (summary["channel"] == channel)
            & (summary["site"] == "all")
        ].set_index("scenario")
        costs = rows[["estimate", "ci_low", "ci_high"]].set_axis(["cost", "low", "high"], axis=1)
    costs = costs[costs["cost"].notna() & (costs["cost"] > 0)].astype(float)
    costs = costs.reindex([s for s in scenarios if s in costs.index])
    if costs.empty:
        return None
    costs["sens_low"] = costs["sens_high"] = math.nan
    joint = study.uncertainty
    if equal and joint is not None and not joint.empty:  # the joint sample's 5-95% range
        ranges = joint.drop_duplicates("model").set_index("model")[["cost_p05", "cost_p95"]]
        ranges = ranges.reindex(costs.index)
        costs["sens_low"], costs["sens_high"] = ranges["cost_p05"], ranges["cost_p95"]
        return Headline(costs, equal, True, fixed, per_site)
    sensitivity = study.sensitivity
    if sensitivity is not None and column in sensitivity and sensitivity[column].notna().any():
        ranges = sensitivity.groupby("model")[column].agg(["min", "max"])
        ranges = ranges.reindex(costs.index)
        costs["sens_low"], costs["sens_high"] = ranges["min"], ranges["max"]
    return Headline(costs, equal, False, fixed, per_site)
