"""A run's KPIs on the terminal: those that measure something the scenario models, each
channel's with its confidence interval, durations in the unit the scenario file writes them
in, and the sites side by side. summary.csv and the report keep every KPI."""

from __future__ import annotations

import math
from pathlib import Path

from ccsim.model.errors import UserError
from ccsim.model.units import UNIT_SECONDS

__all__ = ["applicable_kpis", "print_summary", "print_types", "written_units"]


#: KPIs that exist only where the scenario models what they measure, and what that is (a
#: test of the scenario and one channel, or None for the channels together). The terminal
#: leaves out the others (a cost of 0.00 where no cost was given, an FCR of 100% where no
#: resolution was modelled, a call list's KPIs where nothing is dialled); summary.csv and
#: the report keep every KPI.
def _features(scenario, channel) -> dict[str, bool]:
    channels = [channel] if channel is not None else list(scenario.channels.values())
    dialled = any(c.kind == "outbound" for c in channels)
    contracts = [site.contract for site in scenario.sites if site.contract is not None]
    ai_fixed = any(
        c.bot is not None and (c.bot.platform_cost_per_month or c.bot.operations_cost_per_month)
        for c in channels
    )
    costs = (
        any(site.cost_per_hour > 0 for site in scenario.sites)
        or any(
            c.bot is not None
            and (c.bot.cost_per_session or c.bot.cost_per_minute or c.bot.cost_per_resolution)
            for c in channels
        )
        or bool(contracts)
        or ai_fixed
    )
    resolution = any(
        c.resolution < 1 or c.repeat is not None or c.escalation is not None or c.bot is not None
        for c in channels
    ) or any(site.resolution for site in scenario.sites)
    return {
        "costs": costs,
        "bot": any(c.bot is not None for c in channels),
        "bot_costs": costs and any(c.bot is not None for c in channels),
        # Costs as vendors bill them (issue #27).
        "ai_fixed": ai_fixed,
        "contract": bool(contracts),
        "credits": any(contract.penalties for contract in contracts),
        "resolution": resolution,
        "patience": any(c.patience is not None for c in channels),
        "balking": any(c.balking is not None for c in channels),
        "message": any(c.message is not None for c in channels),
        "close": any(c.close is not None for c in channels),
        "callback": any(c.callback is not None for c in channels),
        "retrial": any(c.retrial is not None for c in channels),
        "lines": any(c.lines is not None for c in channels),
        "repeat": any(c.repeat is not None for c in channels),
        "escalation": any(c.escalation is not None for c in channels),
        "email": any(c.kind == "email" for c in channels),
        "staged": any(c.retrial is not None or c.staged for c in channels),
        # The call list's KPIs on an outbound channel's row (and the channels together);
        # the inbound/outbound split of agents' time wherever the scenario dials at all.
        "outbound": dialled,
        "outbound_costs": costs and dialled,
        "blend": any(c.kind == "outbound" for c in scenario.channels.values()),
        # Customer outcome: the customers who called in (not a call list's), and churn.
        "inbound": any(c.kind != "outbound" for c in channels),
        "churn": scenario.satisfaction.churn is not None,
    }


_NEEDS = {
    "abandoned": "patience",
    "abandon_rate": "patience",
    "service_level_excl_short_abandons": "patience",
    "blocked": "lines",
    "contained": "bot",
    "containment_rate": "bot",
    "bot_cost": "bot_costs",
    "ai_fixed_cost": "ai_fixed",
    "contract_cost": "contract",
    "service_credits": "credits",
    "vendor_pay": "contract",
    "callbacks": "callback",
    "balked": "balking",
    "balk_rate": "balking",
    "messages": "message",
    "disconnected": "close",
    "retrials": "retrial",
    "repeat_contacts": "repeat",
    "backlog": "email",
    "labour_cost": "costs",
    "operating_cost": "costs",
    "cost_per_handled_contact": "costs",
    "cost_per_resolved_contact": "costs",
    "fcr": "resolution",
    "resolution_rate": "resolution",
    "request_resolution_time": "resolution",
    "mean_resolution_time": "resolution",
    "median_resolution_time": "resolution",
    "escalation_rate": "escalation",
    "service_level_total_wait": "staged",
    "occupancy_inbound": "blend",
    "occupancy_outbound": "blend",
    "records": "outbound",
    "right_party_contacts": "outbound",
    "dropped": "outbound",
    "list_penetration": "outbound",
    "attempts_per_record": "outbound",
    "outbound_abandon_rate": "outbound",
    "rpc_per_agent_hour": "outbound",
    "cost_per_right_party_contact": "outbound_costs",
    "csat": "inbound",
    "contact_csat": "inbound",
    "poor_journey_share": "inbound",
    "customers_lost": "churn",
    "revenue_at_risk": "churn",
}


def applicable_kpis(scenario, channel: str | None) -> list[str]:
    """The KPIs that measure something ``scenario`` models, for one channel (or None: the
    channels together), in the order of the KPI table."""
    from ccsim.sim.kpis import KPIS

    features = _features(scenario, scenario.channels[channel] if channel else None)
    return [name for name in KPIS if features.get(_NEEDS.get(name, ""), True)]


def written_units(path: Path, scenario) -> dict[str, dict[str, str]]:
    """Per channel, the unit to show each duration KPI in: the handle time's as written in
    the file (an AHT given as 4.5min is shown in minutes), the threshold's for waits."""
    from ccsim.model.loading import read_scenario_mapping

    try:
        raw = read_scenario_mapping(path)
    except UserError:
        return {}
    units = {}
    for name in scenario.channels:
        spec = (raw.get("channels") or {}).get(name) or {}
        handle = _unit_of((spec.get("handle_time") or {}).get("mean"))
        wait = _unit_of((spec.get("service_level") or {}).get("threshold"))
        units[name] = {
            "aht": handle,
            "mean_resolution_time": handle,
            "median_resolution_time": handle,
            "asa": wait,
            "mean_wait": wait,
        }
    return units


def _unit_of(text) -> str | None:
    """``4.5min`` -> ``min``; ``90 seconds`` -> ``s``; None for anything else."""
    if not isinstance(text, str):
        return None
    unit = text.strip().lstrip("+-.0123456789eE").strip().lower()
    if unit not in UNIT_SECONDS:
        return None
    return {1.0: "s", 60.0: "min", 3600.0: "h", 86400.0: "d"}[UNIT_SECONDS[unit]]


def _in_unit(value: float, unit: str) -> str:
    return f"{value / UNIT_SECONDS[unit]:,.2f}{unit}" if math.isfinite(value) else "-"


def print_summary(summary, n_reps: int, scenario=None, units=None) -> None:
    """Each channel's KPIs of ``scenario`` (all of them without one) with their intervals, in
    ``units`` where given (:func:`written_units`), then the sites' estimates side by side.
    The channels together have no waiting-time KPIs (:data:`~ccsim.sim.kpis.PER_CHANNEL`)."""
    from ccsim.report.formatting import format_interval, format_value
    from ccsim.sim.kpis import PER_CHANNEL, SITE_SUMMARY

    units = units or {}
    whole = summary[summary.site == "all"]
    for channel, group in whole.groupby("channel", sort=False):
        shown = (
            applicable_kpis(scenario, channel if channel in scenario.channels else None)
            if scenario is not None
            else list(group["kpi"])
        )
        if channel == "all":  # several channels: their waits only each on its own
            shown = [k for k in shown if k not in PER_CHANNEL]
        group = group[group["kpi"].isin(shown)]
        currency = getattr(scenario, "currency", "USD")
        print(
            f"\n{channel}  (95% confidence intervals over {n_reps} replications; "
            f"amounts in {currency})"
        )
        width = max(len(k) for k in group["kpi"])
        for row in group.itertuples():
            unit = units.get(channel, {}).get(row.kpi)
            if unit is not None:
                value = _in_unit(row.estimate, unit)
                interval = f"[{_in_unit(row.ci_low, unit)}, {_in_unit(row.ci_high, unit)}]"
            else:
                value = format_value(row.kpi, row.estimate)
                interval = format_interval(row.kpi, row.ci_low, row.ci_high, row.estimate)
            print(f"  {row.kpi:<{width}}  {value:>10}  {interval}")
    sites = summary[(summary.site != "all") & (summary.channel == "all")]
    if sites.empty and scenario is not None and len(scenario.channels) == 1:
        sites = summary[(summary.site != "all")]
    if not sites.empty and sites.site.nunique() > 1:
        kpis = [k for k in SITE_SUMMARY if scenario is None or k in applicable_kpis(scenario, None)]
        table = sites.pivot_table(index="site", columns="kpi", values="estimate", sort=False)
        print("\nsites (estimates; intervals in summary.csv)")
        width = max(len(k) for k in kpis) + 2
        print(f"  {'site':<12}" + "".join(f"{k:>{width}}" for k in kpis))
        for site, row in table.iterrows():
            cells = "".join(f"{format_value(k, row.get(k, math.nan)):>{width}}" for k in kpis)
            print(f"  {site:<12}{cells}")


def print_types(types) -> None:
    """Per channel and request type: contacts offered and answered per replication, and
    the shares the bot contained and the agents resolved, escalated or left unresolved
    (ratios of totals over the replications; request_types.csv keeps every count)."""
    print("\nrequest types (per replication; shares of bot sessions and of answered)")
    header = ("channel", "type", "offered", "answered", "contained", "false cont.",
              "resolved", "escalated", "unresolved", "AHT")  # fmt: skip
    print("  " + "  ".join(f"{h:>11}" if k > 1 else f"{h:<11}" for k, h in enumerate(header)))
    for row in types.itertuples(index=False):
        shares = (row.containment_rate, row.false_containment_rate, row.resolution_rate,
                  row.escalation_rate, row.unresolved_rate)  # fmt: skip
        cells = [f"{row.offered:>11.1f}", f"{row.answered:>11.1f}"]
        cells += ["          -" if math.isnan(v) else f"{v:>11.1%}" for v in shares]
        aht = "-" if math.isnan(row.aht) else f"{row.aht:.0f}s"
        cells.append(f"{aht:>11}")
        print(f"  {row.channel:<11}  {row.request_type:<11}  " + "  ".join(cells))
