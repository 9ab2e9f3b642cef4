"""The what-if form's fields: which inputs of a scenario the page shows, under which
heading and label, with the base value as the scenario file writes it (durations with their
unit, ``never`` for an overflow that never happens). :mod:`ccsim.whatif.form` reads a
filled-in form back; the form-only paths (``scale:``, ``headcount:``) are described there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ccsim.model import Scenario
from ccsim.model.units import parse_rate

__all__ = [
    "HEADCOUNT",
    "MAX_SHIFT_FIELDS",
    "SCALE",
    "SHARE_HINT",
    "FormField",
    "plain",
    "scenario_fields",
    "shift_groups",
    "silent",
]

#: A site with more shift groups of one start and length than this is grouped by length only.
MAX_SHIFT_FIELDS = 12
_DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
#: The hint of a share's field: such a field also takes a percentage (``40%`` is 0.4), as the
#: command line's share options do.
SHARE_HINT = "a share, 0-1, or a percentage: 0.4 or 40%"
#: The prefixes of the form-only paths.
SCALE, HEADCOUNT = "scale:", "headcount:"


@dataclass(frozen=True)
class FormField:
    """One input of the form: where it goes, what it is called, its base value as text."""

    path: str
    group: str
    label: str
    value: str
    hint: str


def silent(channel: Any) -> bool:
    """Whether a channel's own arrivals are none at all: a daily volume of 0 on every day
    (a rate is always above 0; a channel without arrivals of its own, such as a tier
    reached by escalation, is not silent: its contacts come from another)."""
    arrivals = channel.arrivals
    volume = None if arrivals is None else arrivals.volume
    if volume is None:
        return False
    return sum(volume.values()) == 0 if isinstance(volume, dict) else volume == 0


def plain(value: Any) -> Any:
    """A value as a planner writes it: ``1200`` rather than ``1200.0``; others unchanged."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def _number(value: float | int) -> str:
    """A number as a planner types it: ``1200`` not ``1200.0``, ``0.4`` not ``4e-01``."""
    return repr(plain(value))


def _text(value: Any) -> str:
    return (
        _number(value)
        if isinstance(value, int | float) and not isinstance(value, bool)
        else str(value)
    )


def _days(days: list[str]) -> str:
    order = list(_DAY_NAMES)
    if len(days) == 7:
        return "every day"
    index = sorted(order.index(day) for day in days)
    if len(index) > 2 and index == list(range(index[0], index[-1] + 1)):
        return f"{days[0].title()}-{order[index[-1]].title()}"
    return ", ".join(order[i].title() for i in index)


def _demand(name: str, arrivals: dict[str, Any]) -> list[FormField]:
    out = []
    volume = arrivals.get("volume")
    base = f"channels.{name}.arrivals"
    if isinstance(volume, dict):
        for day, count in volume.items():
            label = f"{name}: contacts on {_DAY_NAMES[day]}"
            out.append(
                FormField(f"{base}.volume.{day}", "Demand", label, _text(count), "contacts a day")
            )
        hint = (
            "a percentage of each day's volume: 110% is 10% more; a day typed above stays as typed"
        )
        label = f"{name}: volume on every day (%)"
        out.append(FormField(f"{SCALE}{base}.volume", "Demand", label, "100%", hint))
    elif volume is not None:
        out.append(
            FormField(
                f"{base}.volume",
                "Demand",
                f"{name}: contacts a day",
                _text(volume),
                "contacts a day",
            )
        )
    elif arrivals.get("rate") is not None:
        # Dumped per second ("0.05/s"); a planner counts contacts an hour.
        rate = f"{parse_rate(arrivals['rate']) * 3600:.10g}/h"
        out.append(
            FormField(
                f"{base}.rate", "Demand", f"{name}: arrival rate", rate, "a rate: 600/h, 10/min"
            )
        )
    return out


def _channel_times(name: str, channel: dict[str, Any]) -> list[FormField]:
    out = []
    hint = "a duration: 20s, 4.5min"
    for key, what in (("handle_time", "handle time"), ("patience", "mean patience")):
        spec = channel.get(key)
        if isinstance(spec, dict) and isinstance(spec.get("mean"), str):
            label = f"{name}: mean {what}" if key == "handle_time" else f"{name}: {what}"
            out.append(
                FormField(
                    f"channels.{name}.{key}.mean",
                    "Handle time and patience",
                    label,
                    spec["mean"],
                    hint,
                )
            )
    return out


def shift_groups(shifts: list[dict[str, Any]]) -> dict[tuple[str, ...], list[int]]:
    """The site's shifts with a single headcount, by start and length, or by length alone
    where a staffed model has too many starts for a form."""
    fixed = [i for i, shift in enumerate(shifts) if isinstance(shift["headcount"], int)]
    by_start: dict[tuple[str, ...], list[int]] = {}
    for i in fixed:
        by_start.setdefault((shifts[i]["start"], shifts[i]["length"]), []).append(i)
    if len(by_start) <= MAX_SHIFT_FIELDS:
        return by_start
    by_length: dict[tuple[str, ...], list[int]] = {}
    for i in fixed:
        by_length.setdefault((shifts[i]["length"],), []).append(i)
    return by_length


def _staffing(site: dict[str, Any]) -> list[FormField]:
    name = site["name"]
    if site.get("agents") is not None:
        return [
            FormField(
                f"sites.{name}.agents",
                "Staffing",
                f"{name}: agents",
                _text(site["agents"]),
                "agents",
            )
        ]
    out = []
    shifts = site.get("shifts") or []
    for key, members in shift_groups(shifts).items():
        if len(members) == 1:
            shift = shifts[members[0]]
            label = (
                f"{name} {shift['start']} shift ({shift['length']}, {_days(shift['days'])}): agents"
            )
            path = f"sites.{name}.shifts.{members[0]}.headcount"
            out.append(FormField(path, "Staffing", label, _text(shift["headcount"]), "agents"))
            continue
        total = sum(shifts[i]["headcount"] for i in members)
        what = f"{key[0]} shifts ({key[1]}" if len(key) == 2 else f"{key[0]} shifts ("
        label = f"{name} {what}{len(members)} shift rows): agents in all"
        path = f"{HEADCOUNT}sites.{name}.shifts@{'/'.join(key)}"
        hint = "agents in all, spread over the shifts in proportion"
        out.append(FormField(path, "Staffing", label, str(total), hint))
    return out


def _routing(routing: dict[str, Any]) -> list[FormField]:
    out = []
    for channel, shares in routing.get("shares", {}).items():
        for site, share in shares.items():
            label = f"{channel}: share to {site}"
            out.append(
                FormField(
                    f"routing.shares.{channel}.{site}",
                    "Routing",
                    label,
                    _text(share),
                    SHARE_HINT,
                )
            )
    for channel, steps in routing.get("overflow", {}).items():
        for i, step in enumerate(steps):
            label = f"{channel}: {step['site']} takes waiting contacts after"
            path = f"routing.overflow.{channel}.{i}.after"
            out.append(FormField(path, "Routing", label, str(step["after"]), "a duration or never"))
    return out


def scenario_fields(scenario: Scenario) -> list[FormField]:
    """The scenario's key inputs in page order (Demand, Handle time and patience, Bot,
    Staffing, Routing, Costs): only those it has. The currency is not one: a comparison's
    amounts are in one currency (``ccsim experiment`` refuses models in two), and writing
    another code would relabel the costs, not convert them; the page shows it as text."""
    data = scenario.model_dump()
    channels = data["channels"].items()
    out = [f for name, ch in channels if ch.get("arrivals") for f in _demand(name, ch["arrivals"])]
    out += [f for name, channel in channels for f in _channel_times(name, channel)]
    for name, channel in channels:
        if channel.get("bot") is not None:
            value = _text(channel["bot"]["containment"])
            label = f"{name}: bot containment"
            out.append(
                FormField(f"channels.{name}.bot.containment", "Bot", label, value, SHARE_HINT)
            )
    out += [f for site in data["sites"] for f in _staffing(site)]
    out += _routing(data["routing"])
    currency = data["currency"]
    for site in data["sites"]:
        label = f"{site['name']}: cost per agent hour ({currency})"
        path = f"sites.{site['name']}.cost_per_hour"
        out.append(
            FormField(path, "Costs", label, _text(site["cost_per_hour"]), f"{currency} an hour")
        )
    return out
