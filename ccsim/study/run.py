"""Experiments: several scenarios, many replications, common random numbers, saved as they go.

An experiment file names a base scenario file, variants of it (dotted-path overrides and
grid sweeps, :mod:`ccsim.model.overrides`), a baseline, a master seed and how many replications
to run: a fixed number, or a stopping rule that adds batches until the 95% confidence
intervals of named KPIs are narrow enough.

Replication ``r`` of every scenario is seeded with child ``r`` of ``SeedSequence(seed)``, so
scenarios see the same arrivals, handle times and patience (common random numbers) and
paired differences are precise. Replications run in blocks whose boundaries depend only on
the experiment, never on the number of workers; each finished block is saved at once with
its checksums (:class:`~ccsim.experiment.saved_blocks.BlockStore`), so an interrupted run
resumes where it stopped, and the final tables are streamed from the blocks in replication
order (:mod:`ccsim.experiment.tables`): identical for any ``--jobs``, either backend, and
with or without interruptions, in memory that does not grow with the number of replications.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from ccsim.experiment.backends import open_executor
from ccsim.experiment.collector import Collector
from ccsim.experiment.folder import commit_generation, output_folder, writing_to
from ccsim.experiment.parallel import block_ranges, block_size, run_saved_block
from ccsim.experiment.progress import finish
from ccsim.experiment.progress import progress as progress_bar
from ccsim.experiment.saved_blocks import BlockStore, decode_table
from ccsim.experiment.tables import write_tables
from ccsim.files import write_csv
from ccsim.model import validate
from ccsim.study.equal_service import SWEEP_COLUMNS, run_sweep
from ccsim.study.outputs import BLOCK_SUM_COLUMNS, write_contrasts_of, write_study
from ccsim.study.result import ExperimentResult
from ccsim.study.sensitivity import BASE, sensitivity_table, variants
from ccsim.study.session import Session, call_text
from ccsim.study.spec import (
    Experiment,
    ExperimentSpec,
    StoppingRule,
    build_experiment,
    load_experiment,
)
from ccsim.study.stopping import check_rule, round_blocks
from ccsim.study.total_cost import check_total_cost, write_total_cost
from ccsim.study.uncertainty import check_points
from ccsim.study.uncertainty_outputs import run_points, write_uncertainty

__all__ = ["ExperimentResult", "run_experiment"]


def _stderr(line: str) -> None:
    print(f"ccsim: {line}", file=sys.stderr, flush=True)


def run_experiment(
    experiment: str | Path | Experiment | ExperimentSpec | dict,
    *,
    reps: int | None = None,
    n_jobs: int = 1,
    out: str | Path | None = None,
    backend: str = "loky",
    scheduler: str | None = None,
    progress: bool | Callable[[int, int], None] = False,
    notify: Callable[[str], None] = _stderr,
    command: str | None = None,
    pairs: str = "auto",
) -> ExperimentResult:
    """Run (or resume) an experiment and return its tables.

    ``experiment`` is an experiment file, a loaded :class:`Experiment`, or a spec as a dict
    (its ``scenario`` path relative to the working directory). Tables also go to ``out``
    (default ``results/<name>``): ``replications.parquet``, ``intervals.parquet``,
    ``summary.csv``, ``comparisons.csv`` and, last, ``manifest.json`` with their checksums.
    ``out`` is locked for the run: a second run on it raises
    :class:`~ccsim.experiment.folder.OutputLockedError`.

    ``reps`` replaces the file's replications by a fixed number (and caps the frontier's and
    the sensitivity's at it). Blocks already saved in
    ``out`` by an earlier, interrupted run of the same scenarios are reused once their
    checksums are verified; a block that fails its check is recomputed, and ``notify``
    (default: a line on stderr) says which and why.

    ``progress`` shows a bar on a terminal and a line every 10 s elsewhere (a log, a
    notebook); a function ``progress(done, total)`` is told the replications instead.
    ``command`` is what the manifest records as having made the tables (the command line,
    for ``ccsim experiment``); by default this call, written out. ``pairs``:
    ``pairs.csv``, every two scenarios (``auto``: up to 12 scenarios, ``all``, ``none``).
    """
    if command is None:
        command = call_text(experiment, reps, n_jobs, out, backend)
    if isinstance(experiment, dict | ExperimentSpec):  # a spec built in a notebook
        spec = validate(ExperimentSpec, experiment, "<experiment>")
        experiment = build_experiment(spec, "<experiment>", Path.cwd())
    elif not isinstance(experiment, Experiment):
        experiment = load_experiment(experiment)
    if reps is not None and reps < 1:
        raise ValueError(f"reps must be at least 1, got {reps}")
    if reps is not None:
        experiment = _capped(experiment, reps)
    out = Path(out) if out is not None else Path("results") / experiment.spec.name
    with output_folder(out):
        return _run(
            experiment, reps, n_jobs, out, backend, scheduler, progress, notify, command, pairs
        )


def _simulate(experiment, executor, store, save, progress, jobs, what, columns=None, sums=None):
    """The rows of each job ``(key, fingerprint, model, scenario, replications[, first])``
    (``first``: the first seed child, 0 by default), by key, in blocks: saved ones read back
    (``columns`` of them), the others run in one batch on ``executor`` on ``model``'s seeds,
    saved by ``save`` as they finish, with a progress bar ``what``. The frontier's, the
    sensitivity's and the joint sample's runs, after the main rounds. With ``sums``
    (interval running-sum columns), (the rows, each key's interval sums per block)."""
    rows: dict[Any, list[pd.DataFrame]] = {}
    interval_sums: dict[Any, list[pd.DataFrame]] = {}
    tasks = []
    for key, fingerprint, model, scenario, n, *offset in jobs:
        good, _ = store.saved(fingerprint)
        rows[key], interval_sums[key] = [], []
        start = offset[0] if offset else 0  # a joint sample's point i: seed children from i
        for first, stop in block_ranges(start, start + n, block_size(scenario)):
            if (first, stop) in good:
                rows[key].append(store.reps(fingerprint, (first, stop), columns).to_pandas())
                if sums is not None:
                    interval_sums[key].append(store.sums(fingerprint, (first, stop), sums))
            else:
                seeds = [experiment.seed_for(model, r) for r in range(first, stop)]
                tasks.append(((key, fingerprint), scenario, seeds, first))
    bar = progress_bar(sum(len(task[2]) for task in tasks), progress, what)
    try:
        for (key, fingerprint), first, stop, reps, *encoded in executor.map_unordered(
            run_saved_block, tasks
        ):
            save(fingerprint, first, stop, *encoded)
            rows[key].append(reps if columns is None else reps[columns])
            if sums is not None:
                interval_sums[key].append(decode_table(encoded[1], sums))
            bar.update(stop - first)
    finally:
        bar.close()
    return rows if sums is None else (rows, interval_sums)


def _main_block_sums(store, collector, n: int, columns: list[str]) -> list[pd.DataFrame]:
    """The interval sums of the main run's saved blocks within its first ``n`` replications
    (the frontier's plan point pools the same replications as its other points)."""
    blocks = [block for block in collector.order if block[1] <= n]
    return [
        collector.checked(lambda b=b: store.sums(collector.fingerprint, b, columns)) for b in blocks
    ]


def _run_variants(experiment, simulate, collectors, n_main):
    """The sensitivity's replications (:func:`~.sensitivity.variants`) by ``simulate`` (see
    :func:`_simulate`): (each model's base rows, the variants' rows by
    :attr:`~.sensitivity.Variant.key`, their fingerprints). With common random numbers on
    the same seeds, a model's base is the main run's first replications, not simulated
    again."""
    n = experiment.spec.sensitivity_replications
    with_base = n > n_main
    jobs = [
        (v.key, v.fingerprint(experiment), v.model, v.scenario, v.replications)
        for v in variants(experiment, with_base)
    ]
    rows = simulate(jobs, "sensitivity ")
    fingerprints = {fingerprint for _, fingerprint, _, _, _ in jobs}
    simulated = {
        key: pd.concat(frames, ignore_index=True).sort_values("replication", kind="stable")
        for key, frames in rows.items()
    }
    if with_base:
        models = experiment.scenarios
        base = {model: simulated.pop((BASE, BASE, model, 1.0, False)) for model in models}
    else:
        base = {}
        for model in experiment.scenarios:
            own = collectors[model].read_columns(None)
            base[model] = own[own.replication < n].reset_index(drop=True)
    return base, simulated, fingerprints


def _write_sensitivity(out: Path, experiment, base, simulated, sweep) -> Path:
    """``sensitivity.csv``, from the variants' rows and (with a frontier) its sweep."""
    table = sensitivity_table(experiment, base, simulated, sweep)
    return write_csv(out / "sensitivity.csv", table)


def _capped(experiment: Experiment, reps: int) -> Experiment:
    """``experiment`` with its frontier and sensitivity at most ``reps`` replications each (at
    least 2, what an interval needs), and its joint sample at most ``4 x reps`` points (at
    least 8): ``--reps 2`` is asked for a quick look at everything."""
    spec, update = experiment.spec, {}
    if spec.frontier is not None and spec.frontier.replications > max(reps, 2):
        update["frontier"] = spec.frontier.model_copy(update={"replications": max(reps, 2)})
    if spec.sensitivity_replications > max(reps, 2):
        update["sensitivity_replications"] = max(reps, 2)
    joint = spec.uncertainty
    if joint is not None and joint.points > max(8, 4 * reps):  # the fewest a design may have
        points = max(8, 4 * reps)
        fewer = {m: min(k, max(4, points // 2)) for m, k in joint.simulated_points.items()}
        changes = {"points": points, "simulated_points": fewer}
        update["uncertainty"] = joint.model_copy(update=changes)
    return (
        dataclasses.replace(experiment, spec=spec.model_copy(update=update))
        if update
        else experiment
    )


def _run(experiment, reps, n_jobs, out, backend, scheduler, progress, notify, command, pairs):
    spec = experiment.spec
    rule = spec.replications if isinstance(spec.replications, StoppingRule) else None
    if reps is not None:
        rule = None
    rounds = rule.rounds() if rule is not None else [reps or int(spec.replications)]
    if spec.uncertainty is not None:  # a combination no model takes: refused before any run
        check_points(experiment, experiment.uncertainty_paths)
    check_total_cost(experiment)  # its paths and its frontier, before any run too
    names = list(experiment.scenarios)
    fingerprints = {name: experiment.fingerprint(name) for name in names}
    plans = {name: round_blocks(rounds, block_size(experiment.scenarios[name])) for name in names}
    store = BlockStore(out)
    session = Session(store, out, set(fingerprints.values()))
    collectors = _collectors(store, fingerprints, plans, notify)
    bar = progress_bar(len(names) * rounds[-1], progress)
    try:
        with open_executor(backend, n_jobs, scheduler) as executor:
            n_reps, check = _main_rounds(
                experiment, executor, session, collectors, plans, rounds, rule, bar
            )
            bar.close()  # the frontier and the sensitivity count on bars of their own

            def simulate(jobs, what, columns=None, sums=None):
                return _simulate(
                    experiment, executor, store, session.save, progress, jobs, what, columns, sums
                )

            sweep = None
            if spec.frontier is not None:
                sweep = run_sweep(
                    experiment,
                    lambda name: collectors[name].read_columns(SWEEP_COLUMNS),
                    n_reps,
                    simulate,
                    lambda name, n, columns: _main_block_sums(store, collectors[name], n, columns),
                )
            sensitivity = None
            if spec.uncertain:
                sensitivity = _run_variants(experiment, simulate, collectors, n_reps)
            uncertainty = None
            if spec.uncertainty is not None:
                uncertainty = run_points(experiment, sweep, simulate)
    finally:
        bar.close()
    with writing_to(out, "the final tables"):
        summary, comparisons, paths, study = _write_results(
            out, experiment, store, collectors, n_reps, sweep, sensitivity, uncertainty
        )
        paths += write_contrasts_of(out, experiment, pairs)
        manifest = {
            **_manifest(experiment, fingerprints, n_reps, rule, rounds, check),
            **session.manifest(),
            "backend": backend,
            "jobs": n_jobs,
            "command": command,
            "study": study,
        }
        session.keep_time()
        manifest = commit_generation(out, paths, manifest)
        kept = set(fingerprints.values()) | (sweep.fingerprints if sweep else set())
        kept |= uncertainty[2] if uncertainty else set()
        store.prune(kept | (sensitivity[2] if sensitivity else set()))
    return ExperimentResult(summary, comparisons, manifest, out, manifest["stopped_early"], check)


def _collectors(store, fingerprints, plans, notify) -> dict[str, Collector]:
    """Each scenario's collector over the blocks already saved; a saved block that fails its
    check and is planned is said (``notify``) and recomputed."""
    collectors = {}
    for name, fingerprint in fingerprints.items():
        good, bad = store.saved(fingerprint)
        planned = {block for blocks in plans[name] for block in blocks}
        for (first, stop), why in sorted(bad.items()):
            if (first, stop) in planned:
                notify(
                    f"saved block {first}-{stop} of scenario {name!r} "
                    f"({store.root.name}/{fingerprint}): {why}; recomputing"
                )
        collectors[name] = Collector(store, fingerprint, good)
    return collectors


def _main_rounds(experiment, executor, session, collectors, plans, rounds, rule, bar):
    """The main replications, round by round until the stopping rule is met (or the fixed
    count): (the replications run, where the rule stands or None)."""
    completed, check = 0, None
    for index, _ in enumerate(rounds):
        tasks = []
        for name, collector in collectors.items():
            for first, stop in plans[name][index]:
                if (first, stop) in collector.saved_before:
                    bar.update(stop - first)
                else:
                    seeds = [experiment.seed_for(name, r) for r in range(first, stop)]
                    # The rows per request type ride in the block (none without types).
                    tasks.append((name, experiment.scenarios[name], seeds, first, False, True))
            collector.extend(plans[name][index])
        for name, first, stop, _, *encoded in executor.map_unordered(run_saved_block, tasks):
            session.save(collectors[name].fingerprint, first, stop, *encoded)
            collectors[name].add((first, stop), decode_table(encoded[1]))
            bar.update(stop - first)
        completed = index + 1
        if rule is not None:
            readers = {name: c.read_columns for name, c in collectors.items()}
            check = check_rule(rule, readers, experiment.baseline)
            if check.met:
                break
    n_reps = rounds[completed - 1]
    if rule is not None:
        finish(bar, len(collectors) * n_reps)  # the rule stopped before its maximum
    return n_reps, check


def _write_results(out, experiment, store, collectors, n_reps, sweep, sensitivity, uncertainty):
    """The final tables, the study's and the sensitivity's: (summary, comparisons, the
    paths written, the study's part of the manifest)."""
    interval_sums = {name: c.interval_sums() for name, c in collectors.items()}
    summary, comparisons, paths = write_tables(
        out,
        store,
        {name: (c.fingerprint, c.order) for name, c in collectors.items()},
        interval_sums,
        experiment.baseline,
    )

    def block_sums(name):
        c = collectors[name]
        read = lambda b: store.sums(c.fingerprint, b, BLOCK_SUM_COLUMNS)  # noqa: E731
        return [c.checked(lambda b=b: read(b)) for b in c.order]

    written, study = write_study(
        out,
        experiment,
        lambda name, columns: collectors[name].read_columns(columns),
        interval_sums,
        block_sums,
        n_reps,
        sweep,
    )
    paths += written
    if sensitivity is not None:
        paths.append(_write_sensitivity(out, experiment, *sensitivity[:2], sweep))
    if uncertainty is not None:
        written, study["uncertainty"] = write_uncertainty(out, experiment, *uncertainty[:2])
        paths += written
    paths += write_total_cost(out, experiment, sweep, uncertainty)
    return summary, comparisons, paths, study


def _manifest(experiment, fingerprints, n_reps, rule, rounds, check) -> dict:
    """What the manifest says of the experiment, its scenarios and its replications."""
    spec, names, base = experiment.spec, list(fingerprints), experiment.baseline
    return {
        "experiment": spec.name,
        "file": experiment.source,
        "scenario_file": experiment.scenario_file,
        "sha256": experiment.digest,
        "seed": spec.seed,
        "common_random_numbers": spec.common_random_numbers,
        "scenarios": names,
        "fingerprints": fingerprints,
        "descriptions": {name: experiment.scenarios[name].description for name in names},
        "question": spec.description.strip(),
        "horizon_s": experiment.scenarios[base].horizon,
        "warmup_s": experiment.scenarios[base].warmup,
        "baseline": base,
        "currency": experiment.scenarios[base].currency,
        # Each channel's service-level threshold (the longest any model sets): the
        # waiting-time figure spans it.
        "thresholds": {
            channel: max(
                float(scenario.channels[channel].service_level.threshold)
                for scenario in experiment.scenarios.values()
                if channel in scenario.channels
            )
            for scenario in experiment.scenarios.values()
            for channel in scenario.channels
        },
        "replications": n_reps,
        "stopping_rule": rule.model_dump() if rule is not None else None,
        "stopped_early": rule is not None and n_reps < rounds[-1],
        "stopping_rule_result": check.as_dict() if check is not None else None,
    }
