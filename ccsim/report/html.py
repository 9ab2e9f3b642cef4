"""The experiment report: one self-contained HTML page that a planner opens in a browser.

:func:`render_report` reads an experiment's output folder (:mod:`ccsim.report.outputs`:
``manifest.json``, ``summary.csv``, ``comparisons.csv``, ``intervals.parquet``,
``replications.parquet``, the study's tables, and a ``requirements.csv`` when staffing was
planned) and writes ``report.html`` from the template ``templates/report.html``: the answer
and the target table first, then the question and the assumptions, the models side by side
with 95% confidence intervals (:mod:`ccsim.report.tables`), the paired differences to the
baseline in planners' words, and the figures, embedded as PNG data URIs (each also saved
under ``figures/``). The page needs no other file, no network and no JavaScript, and prints
cleanly.

The report shows whatever KPIs the files hold: a KPI an older or newer ccsim did not write
is left out, never an error. Every file is written atomically (:mod:`~ccsim.files`),
and the same folder always gives the same bytes. ``docs/report.md`` describes the page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from ccsim.experiment.folder import output_folder
from ccsim.files import atomic_write, write_text
from ccsim.report.answer import (
    Study,
    answer_caveat,
    answer_sentence,
    selection_sentence,
)
from ccsim.report.contrasts import contrast_sections
from ccsim.report.headline import headline_costs
from ccsim.report.outputs import (
    ExperimentOutputs,
    descriptions,
    experiment_file,
    grid_points,
    read_outputs,
)
from ccsim.report.tables import (
    channel_heading,
    cost_label,
    difference_table,
    duration,
    model_tables,
)
from ccsim.report.targets import target_table
from ccsim.report.total_cost import horizon_ranges, total_cost_section
from ccsim.report.uncertainty import (
    break_even_sentence,
    fitted_points,
    guarantee_scope,
    uncertainty_rows,
)
from ccsim.sim.kpis import KPIS

__all__ = ["frontier_replications", "render_report", "report_main", "stopping_rule_words"]


# --- the question, the assumptions, the footer ----------------------------------------------


def _question(outputs: ExperimentOutputs, question: str | None) -> str:
    m, spec = outputs.manifest, experiment_file(outputs.manifest)
    question = question or m.get("question") or m.get("description")
    question = question or (spec or {}).get("description")
    if not question:
        baseline = outputs.baseline
        others = [s for s in outputs.scenarios if s != baseline]
        against = f" with the baseline {baseline}" if baseline and others else ""
        question = f"How do the models {', '.join(others or outputs.scenarios)} compare{against}?"
    return str(question)


def frontier_replications(manifest: dict) -> int | None:
    """The replications at each point of the frontier's sweep (``study.frontier``), on
    which the cost at equal service rests; None without one (or in a manifest edited into
    another shape)."""
    study = manifest.get("study")
    frontier = study.get("frontier") if isinstance(study, dict) else None
    reps = frontier.get("replications") if isinstance(frontier, dict) else None
    return reps if isinstance(reps, int) and not isinstance(reps, bool) and reps > 0 else None


def stopping_rule_words(rule: dict, baseline: str | None) -> str:
    """A stopping rule in words: "95% intervals of the paired differences to onshore in
    operating cost (all channels), ..., each half as wide as 1% of onshore's estimate at
    most" (``on: differences``, what ``study.stopping`` checks), or of each estimate."""
    kpis = []
    for name in map(str, rule.get("kpis", [])):
        channel, _, kpi = name.rpartition(".")
        label = KPIS[kpi].label.lower() if kpi in KPIS else kpi
        where = "all channels" if channel in ("", "all") else channel
        kpis.append(f"{label} ({where})")
    width = f"{100 * float(rule.get('relative_half_width', 0)):g}%"
    if rule.get("on") == "differences" and baseline:
        return (
            f"95% intervals of the paired differences to {baseline} in {', '.join(kpis)}, "
            f"each with a half-width of at most {width} of {baseline}'s estimate"
        )
    each = f"each with a half-width of at most {width} of its estimate"
    return f"95% intervals of {', '.join(kpis)}, {each}"


def _assumptions(outputs: ExperimentOutputs) -> list[str]:
    m = outputs.manifest
    items = []
    if m.get("scenario_file"):
        items.append(f"Base scenario {m['scenario_file']}, experiment file {m.get('file', '?')}.")
    runs = f"{outputs.reps_label} replications of each model, seed {m.get('seed', '?')}"
    rule = m.get("stopping_rule")
    if isinstance(rule, dict):
        runs += f", by a stopping rule ({stopping_rule_words(rule, m.get('baseline'))}, at most "
        runs += f"{rule.get('max')} replications{'; met early' if m.get('stopped_early') else ''})"
    items.append(runs + ".")
    reps = frontier_replications(m)
    if reps:
        # The cost at equal service and the selection rest on the sweep's replications, not
        # on the main run's: a reader must not take the header's count for theirs.
        items.append(
            f"The cost at equal service and the selection: {reps} "
            "replications at each point of each model's sweep of staffing (the frontier), the "
            "first of the main run's at the plan."
        )
    items.append(
        "Common random numbers on: in replication r every model sees the same arrivals, handle "
        "times and patience."
        if m.get("common_random_numbers", True)
        else "Common random numbers off: each model has random numbers of its own."
    )
    if math.isfinite(outputs.window):
        text = f"Each replication counts {duration(outputs.window)} of customer time"
        intervals = outputs.intervals
        if intervals is not None and not intervals.empty:
            starts = intervals.drop_duplicates("interval_start").sort_values("interval_start")
            first = str(starts["local_start"].iloc[0])
            step = starts["interval_start"].diff().median()
            text += f" from {first[:10]} {first[11:16]} (UTC{first[19:] or '+00:00'})"
            text += f", in {duration(step)} reporting intervals" if math.isfinite(step) else ""
        items.append(text + ".")
    items.append(
        "Counts and costs are means per replication; rates, times and costs per contact are "
        "ratios of totals over replications; every interval is a 95% confidence interval "
        "(docs/metrics.md)."
    )
    return items


def _footer(outputs: ExperimentOutputs) -> dict[str, object]:
    from ccsim.version import __version__

    m = outputs.manifest
    facts = [
        f"experiment {m.get('experiment', '?')}",
        f"seed {m.get('seed', '?')}",
        f"{outputs.reps_label} replications",
        f"common random numbers {'on' if m.get('common_random_numbers', True) else 'off'}",
        f"started {m.get('started', '?')}",
        f"wall time {m.get('wall_time_s', '?')} s",
        f"backend {m.get('backend', '?')}, {m.get('jobs', '?')} job(s)",
        str(m.get("platform", "")),
    ]
    versions = m.get("versions") if isinstance(m.get("versions"), dict) else {}
    software = [f"report by ccsim {__version__}", f"run by ccsim {m.get('ccsim', '?')}"]
    software += [f"{name} {version}" for name, version in versions.items()]
    return {"facts": [f for f in facts if f], "software": software, "command": m.get("command")}


# --- the page -------------------------------------------------------------------------------


def _page(outputs: ExperimentOutputs, charts, title, question, assumptions) -> str:
    from ccsim.report.page import render_page  # jinja2: loaded only when a page is drawn

    name = outputs.manifest.get("experiment") or outputs.folder.name
    study = outputs.study
    by_name = {chart.name: chart for chart in charts}
    if assumptions is None:
        assumptions = _assumptions(outputs)
    elif isinstance(assumptions, str):
        assumptions = [assumptions]
    said = descriptions(outputs.manifest, experiment_file(outputs.manifest))
    targets = study.targets
    judged = targets is not None and not targets.empty and "target" in targets
    differences, no_differences = difference_table(outputs)
    period = cost_label(outputs.window, "cost").removeprefix("cost per ")
    answer = answer_sentence(
        outputs.summary,
        outputs.comparisons,
        study,
        outputs.headline,
        outputs.baseline,
        outputs.currency,
        period,
    )
    chosen = selection_sentence(study, outputs.manifest, outputs.baseline, outputs.currency, period)
    return render_page(
        "report.html",
        title=title or f"{name}: {len(outputs.scenarios)} models compared",
        name=name,
        outputs=outputs,
        question=_question(outputs, question),
        frontier_reps=frontier_replications(outputs.manifest),
        answer=answer,
        selection=[s for s in (chosen, answer_caveat(study)) if s],
        headline=by_name.pop("headline"),
        targets=target_table(targets, outputs.scenarios, outputs.baseline) if judged else None,
        tornado=[by_name.pop(n) for n in ("tornado",) if n in by_name],
        uncertainty=_uncertainty_section(outputs, by_name),
        total_cost=total_cost_section(
            outputs.folder,
            outputs.currency,
            outputs.baseline,
            horizon_ranges(outputs.experiment),
        ),
        assumptions=assumptions,
        models=[(s, said.get(s, "no description")) for s in outputs.scenarios],
        tables={
            **model_tables(outputs),
            "heading": channel_heading(outputs.headline),
            "differences": differences,
            "no_differences": no_differences,
            "paired": outputs.manifest.get("common_random_numbers", True),
        },
        contrasts=contrast_sections(outputs),
        figures=list(by_name.values()),
        footer=_footer(outputs),
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
    if not Path(out_dir).is_dir():
        read_outputs(out_dir)  # says which: no such folder, or not a folder
    with output_folder(out_dir):  # no run rewrites the tables while the page is drawn
        outputs = read_outputs(out_dir)
        charts = _charts(outputs)
        for chart in charts:
            path = outputs.folder / "figures" / f"{chart.name}.png"
            if chart.png is not None:
                atomic_write(path, lambda tmp, png=chart.png: Path(tmp).write_bytes(png))
            else:  # a figure of an earlier report that no longer applies
                path.unlink(missing_ok=True)
        page = _page(outputs, charts, title, question, assumptions)
        return write_text(outputs.folder / "report.html", page)


def _charts(outputs: ExperimentOutputs) -> list:
    """The figures, in the page's order; those that do not apply removed from ``figures/``."""
    # matplotlib: loaded only when a report is drawn
    from ccsim.report import plan_figures, run_figures, study_figures
    from ccsim.report.requirement import staffing_against_requirement

    channels, scenarios, baseline = outputs.shown_channels, outputs.scenarios, outputs.baseline
    parameter, points = grid_points(outputs.manifest)
    study = outputs.study
    period = cost_label(outputs.window, "cost").removeprefix("cost per ")
    headline = headline_costs(outputs.summary, study, outputs.headline, scenarios)
    requirement, why = staffing_against_requirement(outputs.manifest, outputs.intervals)
    staffing = (
        plan_figures.requirement_chart(requirement, why, baseline)
        if requirement is not None or outputs.requirements is None
        else plan_figures.staffing_chart(outputs.requirements, outputs.intervals)
    )
    charts = [
        study_figures.headline_chart(headline, baseline, outputs.currency, period),
        run_figures.service_level_chart(
            outputs.intervals, scenarios, channels, baseline, _targets_by_channel(study)
        ),
        study_figures.cost_service_chart(
            outputs.summary, scenarios, outputs.headline, baseline, outputs.currency
        ),
        run_figures.occupancy_chart(outputs.intervals, scenarios, outputs.headline),
        run_figures.waiting_time_chart(
            outputs.replications, scenarios, channels, baseline, outputs.manifest.get("thresholds")
        ),
        staffing,
    ]
    if study.sensitivity is not None:
        # The model the answer names (the cheapest at base), whose saving the tornado tests.
        from ccsim.study.sensitivity import ranking_flips

        model = ranking_flips(study.sensitivity)[0]
        charts.append(study_figures.tornado_chart(study.sensitivity, model, outputs.currency))
    else:
        (outputs.folder / "figures" / "tornado.png").unlink(missing_ok=True)
    joint = (study.uncertainty, study.uncertainty_points)
    if joint[0] is not None and not joint[0].empty and joint[1] is not None:
        from ccsim.report import uncertainty_figures

        charts.append(uncertainty_figures.effects_chart(joint[0], outputs.currency))
        charts.append(
            uncertainty_figures.point_costs_chart(
                joint[1], joint[0], baseline, outputs.currency, period
            )
        )
    else:
        for figure in ("uncertainty_effects", "uncertainty_costs"):
            (outputs.folder / "figures" / f"{figure}.png").unlink(missing_ok=True)
    if points:  # a sweep over one parameter: its trade-off, after cost against service
        charts.insert(
            3,
            study_figures.grid_chart(
                outputs.summary, points, parameter, baseline, outputs.currency
            ),
        )
    else:
        (outputs.folder / "figures" / "grid.png").unlink(missing_ok=True)
    return charts


def _uncertainty_section(outputs: ExperimentOutputs, by_name: dict) -> dict | None:
    """The joint uncertainty's part of the page (its figures taken out of ``by_name``), or
    None without uncertainty.csv."""
    study = outputs.study
    if study.uncertainty is None or study.uncertainty.empty:
        return None
    entry = study.uncertainty_entry or {}
    return {
        "rows": uncertainty_rows(
            study.uncertainty,
            outputs.currency,
            outputs.baseline,
            fitted_points(outputs.experiment),
        ),
        "points": entry.get("points"),
        "inputs": study.uncertainty["input"].nunique(),
        "break_even": break_even_sentence(entry),
        "scope": guarantee_scope(study.equal_service),
        "charts": [
            by_name.pop(n) for n in ("uncertainty_effects", "uncertainty_costs") if n in by_name
        ],
    }


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
