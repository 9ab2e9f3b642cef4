"""KPI values as text, in the KPI's unit: the terminal's and the report's numbers.

How a number reads follows from its KPI's kind (:data:`ccsim.sim.kpis.KPIS`): a share in
per cent (a difference of shares in percentage points), a duration in seconds or, when long,
in minutes and more, money and counts with a precision that depends on their size. The
terminal (:data:`TERMINAL`) shows more digits, for reading figures off; the report
(:data:`PAGE`) fewer, for planners. An interval and a ± half-width take the unit and
precision of their estimate, so that the three numbers read alike.

This module imports neither pandas nor matplotlib: the command line loads it on every run.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ccsim.sim.kpis import KPIS, Kpi

__all__ = [
    "BY_CHANNEL",
    "HEADLINE",
    "PAGE",
    "TERMINAL",
    "Scale",
    "Style",
    "flag",
    "format_difference",
    "format_estimate",
    "format_interval",
    "format_plus_minus",
    "format_value",
    "input_label",
]


#: KPIs shown per scenario by ``ccsim experiment`` and the what-if page, for all channels
#: together (a scenario of one channel: that channel); every KPI (per channel and site) is in
#: summary.csv and the report. Service level and ASA of several channels are shown each
#: channel on its own (:data:`BY_CHANNEL`): all channels together would blend a call's seconds
#: with an email's hours.
HEADLINE = (
    "offered",
    "operating_cost",
    "cost_per_resolved_contact",
    "service_level",
    "asa",
    "abandon_rate",
    "fcr",
    "csat",
    "median_resolution_time",
    "mean_resolution_time",
    "occupancy",
)

#: KPIs shown per channel, below the headline, when a scenario has several channels.
BY_CHANNEL = ("service_level", "asa")


@dataclass(frozen=True)
class Scale:
    """Numbers of magnitude below ``below`` are shown times ``factor`` with the format
    ``spec`` and the unit ``unit``."""

    below: float
    factor: float
    spec: str
    unit: str


@dataclass(frozen=True)
class Style:
    """The scales of each kind of KPI (the first whose ``below`` exceeds the magnitude) and
    how a missing value, a minus sign and the unit of a difference of shares are written;
    ``interval_units`` says whether the bounds of an interval carry the unit too."""

    scales: dict[str, tuple[Scale, ...]]
    missing: str
    minus: str
    points: str
    interval_units: bool


_INF = math.inf

#: The command line: two decimals for shares and short durations; `.4g` for levels.
TERMINAL = Style(
    scales={
        "share": (Scale(_INF, 100.0, ".2f", "%"),),
        "duration": (Scale(600, 1.0, ".2f", "s"), Scale(_INF, 1 / 60, ",.1f", "min")),
        "money": (Scale(1000, 1.0, ",.2f", ""), Scale(_INF, 1.0, ",.0f", "")),
        "count": (Scale(_INF, 1.0, ".1f", ""),),
        "level": (Scale(_INF, 1.0, ".4g", ""),),
    },
    missing="-",
    minus="-",
    points=" pts",
    interval_units=True,
)

#: The report: one decimal for shares and durations, which go up to days.
PAGE = Style(
    scales={
        "share": (Scale(_INF, 100.0, ",.1f", "%"),),
        "duration": (
            Scale(120, 1.0, ",.1f", " s"),
            Scale(7200, 1 / 60, ",.1f", " min"),
            Scale(172800, 1 / 3600, ",.1f", " h"),
            Scale(_INF, 1 / 86400, ",.1f", " d"),
        ),
        "money": (Scale(1000, 1.0, ",.2f", ""), Scale(_INF, 1.0, ",.0f", "")),
        "count": (Scale(100, 1.0, ",.2f", ""), Scale(_INF, 1.0, ",.0f", "")),
        "level": (Scale(100, 1.0, ",.1f", ""), Scale(_INF, 1.0, ",.0f", "")),
    },
    missing="\N{EM DASH}",
    minus="\N{MINUS SIGN}",
    points=" pts",
    interval_units=False,
)


def _kpi(kpi: str | Kpi) -> Kpi:
    return kpi if isinstance(kpi, Kpi) else KPIS[kpi]


def _scale(kpi: Kpi, reference: float, style: Style, difference: bool) -> Scale:
    size = abs(reference) if math.isfinite(reference) else 0.0
    scale = next(s for s in style.scales[kpi.kind] if size < s.below)
    if difference and kpi.kind == "share":
        return Scale(scale.below, scale.factor, scale.spec, style.points)
    return scale


def _number(value: float, scale: Scale, style: Style, signed: bool) -> str:
    if not math.isfinite(value):
        return style.missing
    text = format(value * scale.factor, scale.spec)
    if text.startswith("-") and not any(c in "123456789" for c in text.split("e")[0]):
        text = text[1:]  # a negative that rounds to zero is zero, not "-0.0"
    if signed and not text.startswith("-") and any(c in "123456789" for c in text):
        text = "+" + text
    return text.replace("-", style.minus)


def format_value(
    kpi: str | Kpi,
    value: float,
    style: Style = TERMINAL,
    *,
    reference: float | None = None,
    signed: bool = False,
    difference: bool = False,
    currency: str = "",
) -> str:
    """``value`` in the KPI's unit: ``"96.21%"``, ``"4.31s"``, ``"1,234"``. The unit and
    precision follow ``reference`` (an interval's bounds follow their estimate), else the
    value itself; ``difference`` shows shares in percentage points; ``signed`` puts a +
    before a positive number; ``currency`` (an ISO code) follows an amount of money:
    ``"12.40 USD"``."""
    kpi = _kpi(kpi)
    scale = _scale(kpi, value if reference is None else reference, style, difference)
    text = _number(value, scale, style, signed)
    if not math.isfinite(value):
        return text
    unit = f" {currency}" if currency and kpi.kind == "money" else scale.unit
    return text + unit


def format_interval(
    kpi: str | Kpi,
    low: float,
    high: float,
    reference: float,
    style: Style = TERMINAL,
    *,
    signed: bool = False,
    difference: bool = False,
) -> str:
    """``"[low, high]"`` in the unit and precision of ``reference`` (the estimate), or
    ``""`` if either bound is missing."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return ""
    kpi = _kpi(kpi)
    scale = _scale(kpi, reference, style, difference)
    unit = scale.unit if style.interval_units else ""
    bounds = (_number(bound, scale, style, signed) + unit for bound in (low, high))
    return "[{}, {}]".format(*bounds)


def format_plus_minus(
    kpi: str | Kpi,
    value: float,
    half_width: float,
    reference: float | None = None,
    style: Style = TERMINAL,
) -> str:
    """``"96.21 ±0.52%"``: an estimate and its half-width in one unit (that of
    ``reference``, else of the value), the unit written once."""
    scale = _scale(_kpi(kpi), value if reference is None else reference, style, False)
    if not math.isfinite(value):
        return style.missing
    text = _number(value, scale, style, signed=False)
    if math.isfinite(half_width) and half_width > 0:
        text += f" ±{_number(half_width, scale, style, signed=False)}"
    return text + scale.unit


def format_estimate(
    kpi: str | Kpi,
    estimate: float,
    low: float,
    high: float,
    style: Style = PAGE,
    currency: str = "",
) -> tuple[str, str]:
    """An estimate with its unit and its interval: ``("96.2%", "[94.5, 98.0]")``; an amount
    of money carries ``currency`` (the interval is in the same unit)."""
    return (
        format_value(kpi, estimate, style, currency=currency),
        format_interval(kpi, low, high, estimate, style),
    )


def format_difference(
    kpi: str | Kpi,
    difference: float,
    low: float,
    high: float,
    baseline: float = math.nan,
    style: Style = PAGE,
    currency: str = "",
) -> tuple[str, str]:
    """A paired difference with its unit and interval: ``("−3.2 pts", "[−4.0, −2.4]")``.
    Money, counts and levels take their precision from the baseline's value (a difference
    of 193 on 154,634 is shown as whole units), durations their unit from the difference."""
    kpi = _kpi(kpi)
    finite = [abs(v) for v in (difference, low, high) if math.isfinite(v)]
    reference = max(finite, default=0.0)
    if kpi.kind in ("money", "count", "level") and math.isfinite(baseline):
        reference = baseline
    options = {"reference": reference, "signed": True, "difference": True}
    return (
        format_value(kpi, difference, style, currency=currency, **options),
        format_interval(kpi, low, high, style=style, **options),
    )


# --- an uncertain input in words ----------------------------------------------------------

#: The last segments of a dotted path in a planner's words (longest match first).
_FIELD_WORDS = {
    ("cost_per_hour",): "hourly wage",
    ("bot", "containment"): "bot containment",
    ("bot", "cost_per_session"): "bot cost per session",
    ("bot", "cost_per_minute"): "bot cost per minute",
    ("bot", "share"): "share sent to the bot",
    ("bot", "false_containment"): "bot false containment",
    ("arrivals", "volume"): "volume",
    ("arrivals", "rate"): "arrival rate",
    ("handle_time", "mean"): "mean handle time",
    ("handle_time", "cv"): "handle-time variability (cv)",
    ("patience", "mean"): "mean patience",
    ("patience", "cv"): "patience variability (cv)",
    ("service_level", "target"): "service-level target",
    ("service_level", "threshold"): "service-level threshold",
    ("agents",): "agents",
    ("shrinkage",): "shrinkage",
    ("concurrency",): "concurrency",
    # A multiplier of handle time: 1 is no assist, lower is stronger, so "high" is weaker.
    ("agent_assist",): "agent-assist handle-time factor (1 = no assist)",
}
#: Words a planner writes in capitals, and one hyphenated, wherever a name has them.
_WORDS = {"ai": "AI", "fcr": "FCR", "csat": "CSAT", "aht": "AHT", "asa": "ASA", "sl": "SL"}
_PHRASES = {r"\bin house\b": "in-house"}
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")


def _owner(kind: str, name: str) -> str:
    """A site or channel of a path: its name (a site's as a place, ``new_york`` as New
    York), or its position when the path gives an index (``sites.0``: the first site)."""
    if name.isdigit():
        index = int(name)
        ordinal = _ORDINALS[index] if index < len(_ORDINALS) else f"#{index}"
        return f"{ordinal} {kind}"
    words = name.replace("_", " ")
    return words.title() if kind == "site" else words


def _path_words(parts: list[str]) -> str:
    if len(parts) == 5 and parts[:2] == ["routing", "overflow"] and parts[4] == "after":
        step = f"step {int(parts[3]) + 1}" if parts[3].isdigit() else parts[3]
        return f"wait before {_owner('channel', parts[2])} overflows ({step})"
    if len(parts) == 4 and parts[:2] == ["routing", "shares"]:  # a split's share
        return f"{_owner('site', parts[3])} share of {_owner('channel', parts[2])}"
    if len(parts) == 4 and parts[0] == "sites" and parts[2] == "proficiency":
        return f"{_owner('site', parts[1])} {_owner('channel', parts[3])} proficiency"
    if len(parts) == 5 and parts[0] == "channels" and parts[2] == "request_types":
        what = _FIELD_WORDS.get((parts[4],), parts[4].replace("_", " "))
        return f"{_owner('channel', parts[1])} {parts[3].replace('_', ' ')} requests' {what}"
    owner, rest = "", parts
    if len(parts) >= 3 and parts[0] in ("sites", "channels"):
        owner, rest = _owner(parts[0][:-1], parts[1]), parts[2:]
    for size in (2, 1):
        words = _FIELD_WORDS.get(tuple(rest[-size:])) if len(rest) >= size else None
        if words is not None:
            head = " ".join(part.replace("_", " ") for part in rest[:-size])
            break
    else:
        words, head = " ".join(part.replace("_", " ") for part in rest), ""
    return " ".join(part for part in (owner, head, words) if part)


def input_label(path: str, capital: bool = True) -> str:
    """A dotted path of an uncertain input in words, as the tornado and the answer name it:
    ``sites.manila.cost_per_hour`` -> "Manila hourly wage",
    ``channels.voice.bot.containment`` -> "Voice bot containment",
    ``routing.shares.voice.vendor`` -> "Vendor share of voice", ``sites.0.agents`` -> "First
    site agents", ``routing.overflow.voice.1.after`` -> "Wait before voice overflows (step
    2)", ``channels.chat.request_types.simple.containment`` -> "Chat simple requests'
    containment", ``agent_assist`` -> "Agent-assist handle-time factor (1 = no assist)" (its
    high end is the weaker assist), ``ai_fees`` -> "AI fees", ``in_house_fcr`` -> "In-house
    FCR"; a path of no known shape keeps its segments, with spaces. ``capital``: the
    first letter upper case (a label); else as within a sentence (a site's name keeps its
    capital)."""
    label = " ".join(_WORDS.get(word, word) for word in _path_words(path.split(".")).split(" "))
    for phrase, written in _PHRASES.items():
        label = re.sub(phrase, written, label)
    return label[:1].upper() + label[1:] if capital else label


def flag(value: Any) -> bool:
    """A true/false cell as pandas reads it: a bool, 1/0 or the words."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value) and not (isinstance(value, float) and math.isnan(value))
