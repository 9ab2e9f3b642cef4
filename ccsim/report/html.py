"""The experiment report: one self-contained HTML page that a planner opens in a browser.

:func:`render_report` reads an experiment's output folder (``manifest.json``,
``summary.csv``, ``comparisons.csv``, ``intervals.parquet``, ``replications.parquet``, and a
``requirements.csv`` when staffing was planned) and writes ``report.html``: the question and
the assumptions, the models side by side with 95% confidence intervals, the paired
differences to the baseline in planners' words, and the figures of :mod:`ccsim.report.plots`,
embedded as PNG data URIs (each also saved under ``figures/``). The page needs no other
file, no network and no JavaScript, and prints cleanly.

The report shows whatever KPIs the files hold: a KPI an older or newer ccsim did not write
is left out, never an error. Every file is written atomically (:mod:`~ccsim.files`),
and the same folder always gives the same bytes. ``docs/report.md`` describes the page.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ccsim.experiment.folder import check_generation, output_folder
from ccsim.files import atomic_write, write_text
from ccsim.model import ConfigError
from ccsim.model.units import format_duration
from ccsim.report.answer import (
    Study,
    answer_caveat,
    answer_sentence,
    flag,
    headline_costs,
    read_csv,
    read_study,
    target_table,
)
from ccsim.report.formatting import format_difference, format_estimate
from ccsim.sim.kpis import KPIS, MEAN, SITE_SUMMARY

__all__ = ["format_difference", "format_estimate", "render_report", "report_main"]

_KEYS = ("scenario", "channel", "site", "kpi")
_SUMMARY_COLUMNS = (*_KEYS, "estimate", "ci_low", "ci_high")
_COMPARISON_COLUMNS = (*_KEYS, "difference", "ci_low", "ci_high", "significant")
_INTERVAL_COLUMNS = (*_KEYS, "interval_start", "local_start", "estimate", "ci_low", "ci_high")
_INTERVAL_KPIS = ["service_level", "busy_agents", "available_agents"]
_TABLES = ("summary.csv", "comparisons.csv", "replications.parquet", "intervals.parquet")

# fmt: off
#: Rows of each table, in order; KPIs absent from the files are left out.
_MODEL_ROWS = ("cost_per_resolved_contact", "cost_per_handled_contact", "operating_cost",
               "labour_cost", "bot_cost", "service_level", "asa", "abandon_rate",
               "containment_rate", "bot_resolution_share", "fcr", "agent_fcr",
               "ticket_resolution_time", "mean_resolution_time", "median_resolution_time",
               "resolved_within_24h",
               "resolved_within_72h", "censored_share", "occupancy")
_CHANNEL_ROWS = ("offered", "service_level", "asa", "abandon_rate", "aht", "occupancy",
                 "containment_rate", "fcr", "agent_fcr", "escalation_rate",
                 "ticket_resolution_time", "mean_resolution_time", "median_resolution_time",
                 "backlog", "cost_per_handled_contact", "labour_cost")
# fmt: on


# --- reading an output folder ---------------------------------------------------------------


@dataclass(frozen=True)
class _Outputs:
    """The tables of one experiment output folder, and what the page needs to know of them."""

    folder: Path
    manifest: dict[str, Any]
    summary: pd.DataFrame
    comparisons: pd.DataFrame | None
    intervals: pd.DataFrame | None
    replications: pd.DataFrame | None
    requirements: pd.DataFrame | None
    scenarios: list[str]
    baseline: str | None
    study: Study

    @property
    def channels(self) -> list[str]:  # without "all"
        return [c for c in dict.fromkeys(self.summary["channel"]) if c != "all"]

    @property
    def headline(self) -> str:  # the channel of the headline figures
        return "all" if "all" in set(self.summary["channel"]) else self.channels[0]

    @property
    def shown_channels(self) -> list[str]:  # the headline, then each channel if several
        return [self.headline] + (self.channels if len(self.channels) > 1 else [])

    @property
    def currency(self) -> str:
        """The ISO code of every amount: the scenarios' ``currency``, which a run records in
        its manifest; USD, the scenarios' default, for a run from before the field."""
        return str(self.manifest.get("currency") or "USD")

    @property
    def priced(self) -> bool:
        costs = self.summary.loc[self.summary["kpi"] == "labour_cost", "estimate"]
        return bool((costs.abs() > 0).any())

    @property
    def window(self) -> float:
        """Seconds counted per replication: the replications' observed time, else the
        manifest's horizon less warm-up; NaN if unknown."""
        reps, manifest = self.replications, self.manifest
        if reps is not None and "observed_time" in reps:
            return float(reps.loc[reps["site"] == "all", "observed_time"].max())
        if isinstance(manifest.get("horizon_s"), int | float):
            return float(manifest["horizon_s"]) - float(manifest.get("warmup_s") or 0)
        return math.nan


_csv = read_csv


def _checked(path: Path, columns: Sequence[str], names: Sequence[str]) -> None:
    missing = [column for column in columns if column not in names]
    if missing:
        raise ConfigError(str(path), "", f"missing column(s): {', '.join(missing)}")


def _parquet(path: Path, columns: Sequence[str], wanted=lambda name: False, filters=None):
    if not path.is_file():
        return None
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except (OSError, ValueError) as exc:
        raise ConfigError(str(path), "", f"cannot read file ({exc})") from None
    _checked(path, columns, names)
    keep = [name for name in names if name in columns or wanted(name)]
    try:
        return pd.read_parquet(path, columns=keep, filters=filters)
    except (OSError, ValueError) as exc:
        raise ConfigError(str(path), "", f"cannot read file ({exc})") from None


def _manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.is_file():
        if any((folder / name).is_file() for name in _TABLES):
            # A run writes the manifest last: tables without it are a run cut short.
            raise ConfigError(
                str(folder),
                "",
                "no manifest.json: the run that wrote these tables did not finish; run the "
                "experiment again (it resumes from the saved blocks and rewrites the tables)",
            )
        raise ConfigError(str(folder), "", "no manifest.json: not an experiment's output folder")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), "", f"cannot read file ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(str(path), "", f"not JSON: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(manifest, dict):
        raise ConfigError(str(path), "", "expected a JSON object")
    return manifest


def _read(out_dir: str | Path) -> _Outputs:
    folder = Path(out_dir)
    if not folder.is_dir():
        what = "not a folder" if folder.exists() else "no such folder"
        raise ConfigError(str(out_dir), "", what)
    manifest = _manifest(folder)
    check_generation(folder, manifest)  # never a page from tables of different runs
    summary = _csv(folder / "summary.csv", _SUMMARY_COLUMNS)
    if summary is None or summary.empty:
        raise ConfigError(str(folder), "", "no summary.csv: the experiment did not finish")
    comparisons = _csv(folder / "comparisons.csv", _COMPARISON_COLUMNS)
    intervals = _parquet(
        folder / "intervals.parquet", _INTERVAL_COLUMNS, filters=[("kpi", "in", _INTERVAL_KPIS)]
    )
    replications = _parquet(
        folder / "replications.parquet",
        ("scenario", "channel", "site"),
        lambda name: name in ("answered", "observed_time") or name.startswith("waits_within_"),
    )
    requirements = None
    for path in (folder / "requirements.csv", folder / "staffing" / "requirements.csv"):
        if requirements is None:
            requirements = _csv(path, ("interval_start", "channel", "method", "required"))

    found = list(dict.fromkeys(summary["scenario"]))
    listed = [s for s in manifest.get("scenarios") or [] if s in found]
    scenarios = listed + [s for s in found if s not in listed]
    baseline = manifest.get("baseline")
    if baseline not in scenarios and comparisons is not None and "baseline" in comparisons:
        baseline = next(iter(comparisons["baseline"]), None)
    baseline = baseline if baseline in scenarios else None
    tables = (summary, comparisons, intervals, replications, requirements)
    study = read_study(folder, manifest)
    return _Outputs(folder, manifest, *tables, scenarios, baseline, study)


# --- numbers in planners' words -------------------------------------------------------------


def _duration(seconds: float) -> str:
    for size, unit in ((86400, "day"), (3600, "h"), (60, "min")):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if unit == 'day' and count > 1 else ''}"
    return format_duration(seconds)


def _cost_label(window: float, what: str = "Labour cost") -> str:
    if not math.isfinite(window) or window <= 0:
        return f"{what} per run"
    for length, name in ((7 * 86400, "week"), (86400, "day")):
        if abs(window - length) <= 3600:  # a week or a day with a daylight-saving change
            return f"{what} per {name}"
    return f"{what} per run ({_duration(window)})"


# --- tables ---------------------------------------------------------------------------------


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _rows(frame: pd.DataFrame, kpis: Sequence[str], channels, outputs: _Outputs, site="all"):
    """The (KPI, label) rows with a value somewhere, the cost rows only if costs exist."""
    value = "estimate" if "estimate" in frame else "difference"
    rows = frame[frame["channel"].isin(channels) & (frame["site"] == site) & frame[value].notna()]
    present = set(rows["kpi"])
    return [
        (kpi, _cost_label(outputs.window, KPIS[kpi].label) if _per_period(kpi) else KPIS[kpi].label)
        for kpi in kpis
        if kpi in present and (outputs.priced or KPIS[kpi].kind != "money")
    ]


def _per_period(kpi: str) -> bool:
    """An amount over the whole window (labour, bot, operating cost), not per contact: its
    label names the period."""
    return KPIS[kpi].kind == "money" and KPIS[kpi].aggregate == MEAN


def _estimate_cell(row: pd.Series | None, currency: str = "") -> str:
    if row is None:
        return '<td class="na">—</td>'
    text, interval = format_estimate(
        row["kpi"], row["estimate"], row["ci_low"], row["ci_high"], currency=currency
    )
    return f'<td>{text}<br><span class="ci">{interval}</span></td>'


def _verdict(kpi: str, value: float, low: float, high: float, significant) -> tuple[str, str]:
    """The CSS class and the words of a difference. "no difference" only when the models
    gave identical values in every replication (a zero difference with a zero-width
    interval); a difference that merely rounds to zero is "not significant", never that."""
    if value == 0 and low == 0 and high == 0:
        return "same", "no difference"
    if flag(significant):
        direction = KPIS[kpi].direction * math.copysign(1, value) if value else 0
        css = {1: "better", -1: "worse"}.get(int(direction), "sig")
        return css, f"significant, {css}" if css != "sig" else "significant"
    return "ns", "not significant"


def _difference_cell(row: pd.Series | None, currency: str = "") -> str:
    if row is None:
        return '<td class="na">—</td>'
    kpi, value, low, high = row["kpi"], row["difference"], row["ci_low"], row["ci_high"]
    baseline = row.get("baseline_value", math.nan)
    text, interval = format_difference(kpi, value, low, high, baseline, currency=currency)
    p_holm = row.get("p_holm", math.nan)  # Holm-adjusted, where the table has it
    significant = p_holm < 0.05 if pd.notna(p_holm) else row["significant"]
    css, words = _verdict(kpi, value, low, high, significant)
    return (
        f'<td class="{css}"><strong>{text}</strong><br><span class="ci">{interval}</span>'
        f'<br><span class="verdict">{words}</span></td>'
    )


def _kpi_table(table_id: str, frame: pd.DataFrame, groups, rows, outputs, cell, scenarios=None):
    """One column per scenario and, per group ``(heading, channel, site)``, one row per
    ``(KPI, label)``, each cell drawn by ``cell``; group headings only for several groups."""
    scenarios = outputs.scenarios if scenarios is None else scenarios
    frame = frame[frame["kpi"].isin([kpi for kpi, _ in rows])]
    index = {tuple(row[k] for k in _KEYS): row for _, row in frame.iterrows()}
    mark = {outputs.baseline: "<br><small>baseline</small>"}
    head = "".join(
        f'<th scope="col" data-scenario="{_e(s)}">{_e(s)}{mark.get(s, "")}</th>' for s in scenarios
    )
    body = []
    for heading, channel, site in groups:
        if len(groups) > 1:
            body.append(
                f'<tr class="group"><th colspan="{len(scenarios) + 1}">{_e(heading)}</th></tr>'
            )
        for kpi, label in rows:
            cells = "".join(
                cell(index.get((s, channel, site, kpi)), outputs.currency) for s in scenarios
            )
            body.append(
                f'<tr data-kpi="{_e(kpi)}" data-channel="{_e(channel)}" data-site="{_e(site)}">'
                f'<th scope="row">{_e(label)}</th>{cells}</tr>'
            )
    return (
        f'<div class="wide"><table id="{_e(table_id)}"><thead><tr><th scope="col"></th>{head}'
        f"</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _heading(channel: str) -> str:
    return "All channels" if channel == "all" else f"Channel {channel}"


def _models_section(outputs: _Outputs) -> str:
    summary, headline = outputs.summary, outputs.headline
    rows = _rows(summary, _MODEL_ROWS, [headline], outputs)
    parts = [
        '<section id="models"><h2>The models side by side</h2>'
        f"<p>{_e(_heading(headline))}, every site. Each cell: the estimate over "
        f"{_e(_replications(outputs))} replications, and below it its 95% confidence "
        "interval.</p>",
        _kpi_table("models", summary, [("", headline, "all")], rows, outputs, _estimate_cell),
    ]
    if not outputs.priced:
        parts.append(
            '<p class="note">Labour cost is zero in every model (no site has a cost_per_hour), '
            "so the cost rows are left out.</p>"
        )
    if len(outputs.channels) > 1:
        groups = [(_heading(c), c, "all") for c in outputs.channels]
        rows = _rows(summary, _CHANNEL_ROWS, outputs.channels, outputs)
        parts.append("<h3>By channel</h3>")
        parts.append(_kpi_table("channels", summary, groups, rows, outputs, _estimate_cell))
    sites = dict.fromkeys(summary.loc[summary["channel"] == headline, "site"])
    sites = [s for s in sites if s != "all"]
    if sites:
        groups = [(f"Site {s}", headline, s) for s in sites]
        rows = _rows(summary, SITE_SUMMARY, [headline], outputs, sites[0])
        parts.append("<h3>By site</h3><p>What each site answered, its agents and their cost.</p>")
        parts.append(_kpi_table("sites", summary, groups, rows, outputs, _estimate_cell))
    return "".join(parts) + "</section>"


def _differences_section(outputs: _Outputs) -> str:
    head = '<section id="differences"><h2>Differences to the baseline</h2>'
    comparisons, baseline = outputs.comparisons, outputs.baseline
    others = [s for s in outputs.scenarios if s != baseline]
    if comparisons is None or baseline is None or not others:
        why = "no comparisons.csv" if comparisons is None else "a single model"
        return f'{head}<p class="note">No paired differences ({why}).</p></section>'
    pairing = (
        "Replication <em>r</em> of every model saw the same contacts (common random numbers), "
        "so each difference is taken replication by replication and is far more precise than "
        "the intervals of the two models suggest."
        if outputs.manifest.get("common_random_numbers", True)
        else "The models ran on independent random numbers: the differences are not paired."
    )
    channels = outputs.shown_channels
    groups = [(_heading(c), c, "all") for c in channels]
    rows = _rows(comparisons, _MODEL_ROWS, channels, outputs)
    table = _kpi_table("differences", comparisons, groups, rows, outputs, _difference_cell, others)
    return (
        f"{head}<p>Each model minus the baseline <strong>{_e(baseline)}</strong>, with the 95% "
        f"confidence interval of the difference. {pairing} A difference is <em>significant</em> "
        "when its p-value, Holm-adjusted over every comparison of the same KPI (all models, "
        "channels and sites), is below 5%; it is then called better or worse for the "
        "operation. <em>No difference</em> means identical values in every replication. "
        "These intervals and tests cover simulation noise only, not the uncertainty of the "
        "inputs. "
        f"Shares differ in percentage points (pts).</p>{table}</section>"
    )


# --- the question, the assumptions, the footer ----------------------------------------------


def _replications(outputs: _Outputs) -> str:
    n = outputs.manifest.get("replications")  # else the most replications behind a row
    return str(n if n is not None else outputs.summary.get("n", pd.Series(["?"])).max())


def _experiment_file(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The experiment file, if it is still the one that ran (the manifest's sha256)."""
    from ccsim.model import read_yaml_mapping

    try:
        paths = [Path(manifest["file"]), Path(manifest["scenario_file"])]
        digest = hashlib.sha256(b"".join(path.read_bytes() for path in paths)).hexdigest()
        return read_yaml_mapping(paths[0]) if digest == manifest.get("sha256") else None
    except (KeyError, TypeError, OSError, ConfigError):
        return None


def _descriptions(manifest: dict[str, Any], spec: dict[str, Any] | None) -> dict[str, str]:
    """Each model in words: its scenario's description, else its overrides, else both."""
    given = manifest.get("descriptions") if isinstance(manifest.get("descriptions"), dict) else {}
    given = {str(k): str(v) for k, v in given.items() if v}
    if spec is None:
        return given
    from ccsim.model.overrides import expand_grid

    points = dict(spec.get("scenarios") or {})
    if isinstance(spec.get("grid"), dict) and spec["grid"]:
        points.update(expand_grid(spec["grid"], spec.get("grid_name")))
    changes = {
        str(name): "; ".join(
            f"{path} = {v if isinstance(v, str) else json.dumps(v)}"
            for path, v in point.items()
            if path != "scenario"
        )
        for name, point in points.items()
        if isinstance(point, dict)
    }
    names = set(given) | set(changes)
    return {
        name: " — ".join(part for part in (given.get(name), changes.get(name)) if part)
        or "the base scenario unchanged"
        for name in names
    }


def _grid_points(manifest: dict[str, Any]) -> tuple[str, dict[str, float]]:
    """The parameter of a grid over one numeric dotted path, and each model's value of it
    (nothing for a grid over several parameters or over text)."""
    spec = _experiment_file(manifest)
    grid = spec.get("grid") if spec is not None else None
    if not isinstance(grid, dict) or len(grid) != 1:
        return "", {}
    from ccsim.model.overrides import expand_grid

    ((parameter, values),) = grid.items()
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "", {}
    points = expand_grid(grid, spec.get("grid_name"))
    return str(parameter), {str(name): float(point[parameter]) for name, point in points.items()}


def _derived_assumptions(outputs: _Outputs) -> list[str]:
    m = outputs.manifest
    items = []
    if m.get("scenario_file"):
        items.append(f"Base scenario {m['scenario_file']}, experiment file {m.get('file', '?')}.")
    runs = f"{_replications(outputs)} replications of each model, seed {m.get('seed', '?')}"
    rule = m.get("stopping_rule")
    if isinstance(rule, dict):
        runs += (
            f", by a stopping rule (95% intervals of {', '.join(map(str, rule.get('kpis', [])))} "
            f"within {100 * float(rule.get('relative_half_width', 0)):g}% of the estimate, at "
            f"most {rule.get('max')} replications{'; met early' if m.get('stopped_early') else ''})"
        )
    items.append(runs + ".")
    items.append(
        "Common random numbers on: in replication r every model sees the same arrivals, handle "
        "times and patience."
        if m.get("common_random_numbers", True)
        else "Common random numbers off: each model has random numbers of its own."
    )
    if math.isfinite(outputs.window):
        text = f"Each replication counts {_duration(outputs.window)} of customer time"
        intervals = outputs.intervals
        if intervals is not None and not intervals.empty:
            starts = intervals.drop_duplicates("interval_start").sort_values("interval_start")
            first = str(starts["local_start"].iloc[0])
            step = starts["interval_start"].diff().median()
            text += f" from {first[:10]} {first[11:16]} (UTC{first[19:] or '+00:00'})"
            text += f", in {_duration(step)} reporting intervals" if math.isfinite(step) else ""
        items.append(text + ".")
    items.append(
        "Counts and costs are means per replication; rates, times and costs per contact are "
        "ratios of totals over replications; every interval is a 95% confidence interval "
        "(docs/metrics.md)."
    )
    return items


def _question_section(outputs: _Outputs, question, assumptions) -> str:
    m, baseline = outputs.manifest, outputs.baseline
    spec = _experiment_file(m)
    if assumptions is None:
        assumptions = _derived_assumptions(outputs)
    elif isinstance(assumptions, str):
        assumptions = [assumptions]
    descriptions = _descriptions(m, spec)
    models = "".join(
        f"<dt>{_e(s)}{' (baseline)' if s == baseline else ''}</dt>"
        f"<dd>{_e(descriptions.get(s, 'no description'))}</dd>"
        for s in outputs.scenarios
    )
    return (
        f'<section id="question"><h2>The question and the assumptions</h2><p>{_e(question)}</p>'
        f"<h3>Assumptions</h3><ul>{''.join(f'<li>{_e(a)}</li>' for a in assumptions)}</ul>"
        f"<h3>Models</h3><dl>{models}</dl></section>"
    )


def _footer(outputs: _Outputs) -> str:
    from ccsim.version import __version__

    m = outputs.manifest
    facts = [
        f"experiment {m.get('experiment', '?')}",
        f"seed {m.get('seed', '?')}",
        f"{_replications(outputs)} replications",
        f"common random numbers {'on' if m.get('common_random_numbers', True) else 'off'}",
        f"started {m.get('started', '?')}",
        f"wall time {m.get('wall_time_s', '?')} s",
        f"backend {m.get('backend', '?')}, {m.get('jobs', '?')} job(s)",
        str(m.get("platform", "")),
    ]
    versions = m.get("versions") if isinstance(m.get("versions"), dict) else {}
    software = [f"report by ccsim {__version__}", f"run by ccsim {m.get('ccsim', '?')}"]
    software += [f"{name} {version}" for name, version in versions.items()]
    command = f"<p><code>{_e(m['command'])}</code></p>" if m.get("command") else ""
    return (
        f"<footer><p>{_e(' · '.join(f for f in facts if f))}</p>"
        f"<p>{_e(' · '.join(software))}</p>{command}</footer>"
    )


# --- figures and the page -------------------------------------------------------------------


def _figure_html(chart) -> str:
    name, title = _e(chart.name), _e(chart.title)
    if chart.png is None:
        note = _e(chart.note)
        return f'<p class="note" id="fig-{name}"><strong>{title}</strong>: not shown. {note}</p>'
    width, height = struct.unpack(">II", chart.png[16:24])  # the PNG's IHDR chunk
    data = base64.b64encode(chart.png).decode("ascii")
    return (
        f'<figure id="fig-{name}"><img src="data:image/png;base64,{data}" width="{width}" '
        f'height="{height}" alt="{title}"><figcaption><strong>{title}.</strong> '
        f"{_e(chart.caption)}</figcaption></figure>"
    )


_CSS = """
body{font:15px/1.45 system-ui,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1b1b1b;
 max-width:1180px;margin:2em auto;padding:0 1em}h1{font-size:1.7em;margin:0 0 .2em}
h2{margin-top:2em;border-bottom:1px solid #bbb}.question{font-size:1.15em}dt{font-weight:bold}
dd{margin:0 0 .4em 1.5em}.wide{overflow-x:auto}table{border-collapse:collapse;margin:.6em 0 1em;
 font-variant-numeric:tabular-nums}th,td{border:1px solid #cfcfcf;padding:.3em .6em;
 vertical-align:top}thead th{background:#f1f1f1}tbody th{text-align:left;font-weight:normal}
td{text-align:right;white-space:nowrap}tr.group th{background:#f8f8f8;font-weight:bold}
.ci,.verdict{color:#555;font-size:.85em}.better,.better .verdict{color:#17692f}
.worse,.worse .verdict{color:#a8231b}.ns{color:#555}.na{color:#999;text-align:center}
figure{margin:1.5em 0}img{max-width:100%;height:auto}figcaption{font-size:.9em;max-width:80ch}
.note{color:#555;font-style:italic}footer{margin-top:3em;border-top:1px solid #bbb;
 font-size:.8em;color:#555}@media print{body{max-width:none;margin:0;font-size:11pt}
 h2,h3{break-after:avoid}figure,tr{break-inside:avoid}.wide{overflow:visible}}
.answer{font-size:1.3em;font-weight:600;margin:.6em 0;padding:.5em .8em;background:#eef4fb;
 border-left:4px solid #2c6db3}.selection{color:#333}td.met{color:#17692f;text-align:left}
td.notmet{color:#a8231b;text-align:left;background:#fdf1f0}details{margin-top:2em}
details>summary{font-size:1.3em;font-weight:bold;cursor:pointer;padding:.4em 0;
 border-bottom:1px solid #bbb}#targets td{font-size:.85em;padding:.25em .45em}
"""


def _question(outputs: _Outputs, question) -> str:
    m, spec = outputs.manifest, _experiment_file(outputs.manifest)
    question = question or m.get("question") or m.get("description")
    question = question or (spec or {}).get("description")
    if not question:
        baseline = outputs.baseline
        others = [s for s in outputs.scenarios if s != baseline]
        against = f" with the baseline {baseline}" if baseline and others else ""
        question = f"How do the models {', '.join(others or outputs.scenarios)} compare{against}?"
    return str(question)


def _answer_section(outputs: _Outputs, question: str, headline_figure: str) -> str:
    """The question, the one-sentence answer, how sure the selection is, the headline chart."""
    sentence = answer_sentence(
        outputs.summary,
        outputs.comparisons,
        outputs.study,
        outputs.headline,
        outputs.baseline,
        outputs.currency,
    )
    answer = (
        f'<p class="answer" id="answer-sentence">{_e(sentence)}</p>'
        if sentence
        else '<p class="answer note" id="answer-sentence">No model has a cost (no site has a '
        "cost_per_hour), so the report cannot say which is cheapest; the service each gives "
        "is in the detail below.</p>"
    )
    extra = [outputs.study.selection_sentence, answer_caveat(outputs.study)]
    selection = "".join(f'<p class="selection">{_e(text)}</p>' for text in extra if text)
    return (
        f'<section id="answer"><p class="question"><strong>Question.</strong> {_e(question)}</p>'
        f"{answer}{selection}{headline_figure}</section>"
    )


def _targets_section(outputs: _Outputs) -> str:
    head = '<section id="targets-met"><h2>Does each model meet its targets?</h2>'
    targets = outputs.study.targets
    if targets is None or targets.empty or "target" not in targets:
        return (
            f'{head}<p class="note">Not judged: there is no targets.csv (the study step that '
            "checks each channel against its weekly target and interval floor did not run). "
            "Each model's service level is in the detail below.</p></section>"
        )
    return (
        f"{head}<p>Per model and channel: <strong>met</strong> when the lower 95% bound of "
        "the weekly service level reaches the target <em>and</em> enough intervals with "
        "demand reach the interval floor. Each cell: the weekly service level with its 95% "
        "interval against the target; then the floor, and the share of intervals with demand "
        "that reach it against the share required. "
        "Occupancy of the tier-1 sites over their staffed daytime hours is in the last "
        f"column.</p>{target_table(targets, outputs.scenarios, outputs.baseline)}</section>"
    )


def _page(outputs: _Outputs, charts, title, question, assumptions) -> str:
    name = outputs.manifest.get("experiment") or outputs.folder.name
    title = title or f"{name}: {len(outputs.scenarios)} models compared"
    by_name = {chart.name: chart for chart in charts}
    top = [by_name.pop(n) for n in ("tornado",) if n in by_name]
    headline = by_name.pop("headline")
    question = _question(outputs, question)
    tornado = (
        '<section id="sensitivity"><h2>What the uncertain inputs do</h2>'
        + "".join(_figure_html(chart) for chart in top)
        + "</section>"
        if top
        else '<section id="sensitivity"><h2>What the uncertain inputs do</h2><p class="note">'
        "Not analysed: the experiment names no uncertain inputs (no sensitivity.csv), so the "
        "intervals on this page cover simulation noise only.</p></section>"
    )
    detail = [
        _question_section(outputs, question, assumptions),
        _models_section(outputs),
        _differences_section(outputs),
        '<section id="figures"><h2>Figures</h2>'
        + "".join(_figure_html(chart) for chart in by_name.values())
        + "</section>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body><header>"
        f"<h1>{_e(title)}</h1><p>Experiment <strong>{_e(name)}</strong>: "
        f"{len(outputs.scenarios)} models, {_e(_replications(outputs))} replications each.</p>"
        "</header>\n"
        + _answer_section(outputs, question, _figure_html(headline))
        + "\n"
        + _targets_section(outputs)
        + "\n"
        + tornado
        + '\n<details id="detail"><summary>Detail: the assumptions, every KPI of every model '
        "with its interval, the differences to the baseline, and the figures behind them"
        "</summary>\n"
        + "\n".join(detail)
        + "\n</details>\n"
        + _footer(outputs)
        + "\n</body></html>\n"
    )


def render_report(
    out_dir: str | Path,
    *,
    title: str | None = None,
    question: str | None = None,
    assumptions: Sequence[str] | str | None = None,
) -> Path:
    """Write ``out_dir/report.html`` (self-contained) and ``out_dir/figures/*.png`` for the
    experiment whose outputs are in ``out_dir``; return the page's path.

    ``title``, ``question`` and ``assumptions`` (sentences) replace what the page would
    otherwise take from the manifest and the experiment file. A missing folder or a
    missing or unreadable file raises :class:`~ccsim.model.ConfigError`; tables that do not
    match the manifest's checksums (a run cut short, or files from different runs) raise
    :class:`~ccsim.experiment.folder.IncompleteOutputError`, and a folder another run is
    writing to :class:`~ccsim.experiment.folder.OutputLockedError`.
    """
    from ccsim.report import plots  # matplotlib: loaded only when a report is drawn

    if not Path(out_dir).is_dir():
        _read(out_dir)  # says which: no such folder, or not a folder
    with output_folder(out_dir):  # no run rewrites the tables while the page is drawn
        return _render(plots, out_dir, title, question, assumptions)


def _render(plots, out_dir, title, question, assumptions) -> Path:
    outputs = _read(out_dir)
    channels, scenarios, baseline = outputs.shown_channels, outputs.scenarios, outputs.baseline
    parameter, points = _grid_points(outputs.manifest)
    from ccsim.report import plan_plots
    from ccsim.report.requirement import staffing_against_requirement

    study = outputs.study
    period = _cost_label(outputs.window, "cost").removeprefix("cost per ")
    headline = headline_costs(outputs.summary, study, outputs.headline, scenarios)
    requirement, why = staffing_against_requirement(outputs.manifest, outputs.intervals)
    staffing = (
        plan_plots.requirement_chart(requirement, why, baseline)
        if requirement is not None or outputs.requirements is None
        else plots.staffing_chart(outputs.requirements, outputs.intervals)
    )
    charts = [
        plan_plots.headline_chart(headline, baseline, outputs.currency, period),
        plots.service_level_chart(
            outputs.intervals, scenarios, channels, baseline, _targets_by_channel(study)
        ),
        plots.cost_service_chart(
            outputs.summary, scenarios, outputs.headline, baseline, outputs.currency
        ),
        plots.occupancy_chart(outputs.intervals, scenarios, outputs.headline),
        plots.waiting_time_chart(outputs.replications, scenarios, channels, baseline),
        staffing,
    ]
    if study.sensitivity is not None:
        # The model the answer names (the cheapest at base), whose saving the tornado tests.
        from ccsim.study.sensitivity import ranking_flips

        model = ranking_flips(study.sensitivity)[0]
        charts.append(plots.tornado_chart(study.sensitivity, model, outputs.currency))
    else:
        (outputs.folder / "figures" / "tornado.png").unlink(missing_ok=True)
    if points:  # a sweep over one parameter: its trade-off, after cost against service
        charts.insert(3, plots.grid_chart(outputs.summary, points, parameter, baseline))
    else:
        (outputs.folder / "figures" / "grid.png").unlink(missing_ok=True)
    for chart in charts:
        path = outputs.folder / "figures" / f"{chart.name}.png"
        if chart.png is not None:
            atomic_write(path, lambda tmp, png=chart.png: Path(tmp).write_bytes(png))
        else:  # a figure of an earlier report that no longer applies
            path.unlink(missing_ok=True)
    page = _page(outputs, charts, title, question, assumptions)
    return write_text(outputs.folder / "report.html", page)


def _targets_by_channel(study: Study) -> dict[str, float]:
    """Each channel's service-level target (the first model's: the study sets one per
    channel), for the lines of the service-level figure."""
    targets = study.targets
    if targets is None or "target" not in targets:
        return {}
    rows = targets[targets["target"].notna()].drop_duplicates("channel")
    return dict(zip(rows["channel"], rows["target"].astype(float), strict=True))


def report_main(out_dir: str | Path) -> int:
    """``ccsim report DIR``: render the report and say where it is. Bad input raises
    :class:`~ccsim.model.ConfigError` (the command line prints it in one line, exit 2)."""
    print(f"wrote {render_report(out_dir)}")
    return 0
