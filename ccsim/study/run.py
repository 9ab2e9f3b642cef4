"""Experiments: several scenarios, many replications, common random numbers, saved as they go.

An experiment file names a base scenario file, variants of it (dotted-path overrides and
grid sweeps, :mod:`ccsim.model.overrides`), a baseline, a master seed and how many replications
to run: a fixed number, or a stopping rule that adds batches until the 95% confidence
intervals of named KPIs are narrow enough.

Replication ``r`` of every scenario is seeded with child ``r`` of ``SeedSequence(seed)``, so
scenarios see the same arrivals, handle times and patience (common random numbers) and
paired differences are precise. Replications run in blocks whose boundaries depend only on
the experiment, never on the number of workers; each finished block is saved at once with
its checksums (:class:`~.chunks.BlockStore`), so an interrupted run resumes where it
stopped, and the final tables are streamed from the blocks in replication order
(:mod:`.tables`): identical for any ``--jobs``, either backend, and with or without
interruptions, in memory that does not grow with the number of replications.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ccsim.experiment.backends import open_executor
from ccsim.experiment.collector import Collector
from ccsim.experiment.folder import commit_generation, output_folder, writing_to
from ccsim.experiment.progress import finish
from ccsim.experiment.progress import progress as progress_bar
from ccsim.experiment.replications import block_ranges, block_size, code_digest, run_named_block
from ccsim.experiment.saved_blocks import BlockStore
from ccsim.experiment.tables import write_tables
from ccsim.files import write_csv, write_text
from ccsim.model import validate
from ccsim.study.sensitivity import BASE, sensitivity_table, variants
from ccsim.study.spec import (
    Experiment,
    ExperimentSpec,
    StoppingRule,
    build_experiment,
    load_experiment,
)
from ccsim.study.stopping import RuleCheck, check_rule, round_blocks

__all__ = ["ExperimentResult", "run_experiment"]


class ExperimentResult:
    """A finished experiment: its summary and comparisons, and the larger tables, which
    are read from ``out`` on first use (they can be far larger than memory needs to be)."""

    def __init__(
        self,
        summary: pd.DataFrame,
        comparisons: pd.DataFrame,
        manifest: dict[str, Any],
        out: Path,
        stopped_early: bool = False,
        rule: RuleCheck | None = None,
    ) -> None:
        self.summary, self.comparisons, self.manifest = summary, comparisons, manifest
        self.out, self.stopped_early = out, stopped_early
        #: Where the stopping rule stood at the end (None without a rule).
        self.rule = rule
        self._tables: dict[str, pd.DataFrame] = {}

    def _table(self, name: str) -> pd.DataFrame:
        if name not in self._tables:
            path = self.out / f"{name}.parquet"
            if not path.is_file():
                raise FileNotFoundError(
                    f"{path} is gone: this result reads its {name} table from the output "
                    f"folder when first asked, so read result.{name} before removing it"
                )
            self._tables[name] = pd.read_parquet(path)
        return self._tables[name]

    @property
    def replications(self) -> pd.DataFrame:
        """One row per scenario, replication, channel and site (``replications.parquet``)."""
        return self._table("replications")

    @property
    def intervals(self) -> pd.DataFrame:
        """One row per scenario, channel, site, interval and KPI (``intervals.parquet``)."""
        return self._table("intervals")


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("simpy", "numpy", "pandas", "scipy", "joblib", "pydantic", "pyarrow", "dask"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


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
    progress: bool = False,
    notify: Callable[[str], None] = _stderr,
    command: str | None = None,
) -> ExperimentResult:
    """Run (or resume) an experiment and return its tables.

    ``experiment`` is an experiment file, a loaded :class:`Experiment`, or a spec as a dict
    (its ``scenario`` path relative to the working directory). Tables also go to ``out``
    (default ``results/<name>``): ``replications.parquet``, ``intervals.parquet``,
    ``summary.csv``, ``comparisons.csv`` and, last, ``manifest.json`` with their checksums.
    ``out`` is locked for the run: a second run on it raises
    :class:`~.store.OutputLockedError`.

    ``reps`` replaces the file's replications by a fixed number (and caps the frontier's and
    the sensitivity's at it). Blocks already saved in
    ``out`` by an earlier, interrupted run of the same scenarios are reused once their
    checksums are verified; a block that fails its check is recomputed, and ``notify``
    (default: a line on stderr) says which and why.

    ``progress`` shows a bar on a terminal and a line every 10 s elsewhere (a log, a
    notebook). ``command`` is what the manifest records as having made the tables (the
    command line, for ``ccsim experiment``); by default this call, written out.
    """
    if command is None:
        command = _call_text(experiment, reps, n_jobs, out, backend)
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
        return _run(experiment, reps, n_jobs, out, backend, scheduler, progress, notify, command)


def _simulate(experiment, executor, store, save, progress, jobs, what, columns=None):
    """The rows of each job ``(key, fingerprint, model, scenario, replications)``, by key, in
    blocks: saved ones read back (``columns`` of them), the others run in one batch on
    ``executor`` on ``model``'s seeds, saved by ``save`` as they finish, with a progress bar
    ``what``. The frontier's and the sensitivity's runs, after the main rounds."""
    rows: dict[Any, list[pd.DataFrame]] = {}
    tasks = []
    for key, fingerprint, model, scenario, n in jobs:
        good, _ = store.saved(fingerprint)
        rows[key] = []
        for first, stop in block_ranges(0, n, block_size(scenario)):
            if (first, stop) in good:
                rows[key].append(store.reps(fingerprint, (first, stop), columns).to_pandas())
            else:
                seeds = [experiment.seed_for(model, r) for r in range(first, stop)]
                tasks.append(((key, fingerprint), scenario, seeds, first))
    bar = progress_bar(sum(len(task[2]) for task in tasks), progress, what)
    try:
        for (key, fingerprint), first, stop, reps, sums in executor.map_unordered(
            run_named_block, tasks
        ):
            save(fingerprint, first, stop, reps, sums)
            rows[key].append(reps if columns is None else reps[columns])
            bar.update(stop - first)
    finally:
        bar.close()
    return rows


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
    least 2, what an interval needs): ``--reps 2`` is asked for a quick look at everything."""
    spec, update = experiment.spec, {}
    if spec.frontier is not None and spec.frontier.replications > max(reps, 2):
        update["frontier"] = spec.frontier.model_copy(update={"replications": max(reps, 2)})
    if spec.sensitivity_replications > max(reps, 2):
        update["sensitivity_replications"] = max(reps, 2)
    return (
        dataclasses.replace(experiment, spec=spec.model_copy(update=update))
        if update
        else experiment
    )


def _call_text(experiment, reps, n_jobs, out, backend) -> str:
    """``ccsim.run_experiment('experiments/x.yaml', reps=40)``: the call, for the manifest."""
    if isinstance(experiment, str | Path):
        what = repr(str(experiment))
    elif isinstance(experiment, Experiment):
        what = repr(experiment.source)
    else:
        what = "<spec>"
    given = {"reps": reps, "n_jobs": n_jobs, "out": None if out is None else str(out)}
    given["backend"] = backend
    defaults = {"reps": None, "n_jobs": 1, "out": None, "backend": "loky"}
    arguments = [f"{k}={v!r}" for k, v in given.items() if v != defaults[k]]
    return f"ccsim.run_experiment({', '.join([what, *arguments])})"


#: Wall time of every session that ran (part of) an experiment in an output folder, kept
#: beside the saved blocks (not among them: their folder holds only blocks) so that a
#: resumed run's manifest can give the total.
_SESSIONS = ".sessions.json"


def _earlier_sessions(store: BlockStore, fingerprints: set[str]) -> list[dict[str, Any]]:
    """Sessions recorded in the store that computed blocks of these scenarios."""
    try:
        sessions = json.loads((store.root.parent / _SESSIONS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(sessions, list):
        return []
    return [
        session
        for session in sessions
        if isinstance(session, dict)
        and isinstance(session.get("wall_s"), int | float)
        and fingerprints & set(session.get("fingerprints", []))
    ]


def _record_session(store: BlockStore, earlier: list[dict[str, Any]], session: dict) -> None:
    write_text(store.root.parent / _SESSIONS, json.dumps([*earlier, session], indent=1))


def _run(experiment, reps, n_jobs, out, backend, scheduler, progress, notify, command):
    from ccsim.version import __version__

    spec = experiment.spec
    rule = spec.replications if isinstance(spec.replications, StoppingRule) else None
    if reps is not None:
        rule = None
    rounds = rule.rounds() if rule is not None else [reps or int(spec.replications)]
    names = list(experiment.scenarios)
    fingerprints = {name: experiment.fingerprint(name) for name in names}
    plans = {name: round_blocks(rounds, block_size(experiment.scenarios[name])) for name in names}
    store = BlockStore(out)
    started, clock = datetime.now(UTC), time.perf_counter()
    earlier = _earlier_sessions(store, set(fingerprints.values()))
    session = {
        "started": started.isoformat(timespec="seconds"),
        "wall_s": 0.0,
        "fingerprints": sorted(set(fingerprints.values())),
    }

    def keep_time() -> None:  # after each saved block: a killed run still counts its time
        session["wall_s"] = round(time.perf_counter() - clock, 3)
        _record_session(store, earlier, session)

    collectors = {}
    for name in names:
        good, bad = store.saved(fingerprints[name])
        planned = {block for blocks in plans[name] for block in blocks}
        for (first, stop), why in sorted(bad.items()):
            if (first, stop) in planned:
                notify(
                    f"saved block {first}-{stop} of scenario {name!r} "
                    f"({store.root.name}/{fingerprints[name]}): {why}; recomputing"
                )
        collectors[name] = Collector(store, fingerprints[name], good)
    bar = progress_bar(len(names) * rounds[-1], progress)
    completed_rounds = 0
    check: RuleCheck | None = None
    try:
        with open_executor(backend, n_jobs, scheduler) as executor:
            for index, _ in enumerate(rounds):
                tasks = []
                for name in names:
                    collector = collectors[name]
                    for first, stop in plans[name][index]:
                        if (first, stop) in collector.saved_before:
                            bar.update(stop - first)
                        else:
                            seeds = [experiment.seed_for(name, r) for r in range(first, stop)]
                            tasks.append((name, experiment.scenarios[name], seeds, first))
                    collector.extend(plans[name][index])
                for name, first, stop, rows, sums in executor.map_unordered(run_named_block, tasks):
                    with writing_to(out, "a saved block"):
                        store.save(fingerprints[name], first, stop, rows, sums)
                        keep_time()
                    del rows
                    collectors[name].add((first, stop), sums)
                    bar.update(stop - first)
                completed_rounds = index + 1
                if rule is not None:
                    check = check_rule(
                        rule,
                        {n: c.read_columns for n, c in collectors.items()},
                        experiment.baseline,
                    )
                    if check.met:
                        break
            n_reps = rounds[completed_rounds - 1]
            if rule is not None:
                finish(bar, len(names) * n_reps)  # the rule stopped before its maximum
            bar.close()  # the frontier and the sensitivity count on bars of their own

            def save(fingerprint, first, stop, rows, sums):
                with writing_to(out, "a saved block"):
                    store.save(fingerprint, first, stop, rows, sums)
                    keep_time()

            def simulate(jobs, what, columns=None):
                return _simulate(experiment, executor, store, save, progress, jobs, what, columns)

            sweep = None
            if spec.frontier is not None:
                from ccsim.study.equal_service import SWEEP_COLUMNS, run_sweep

                sweep = run_sweep(
                    experiment,
                    lambda name: collectors[name].read_columns(SWEEP_COLUMNS),
                    n_reps,
                    simulate,
                )
            sensitivity = None
            if spec.uncertain:
                sensitivity = _run_variants(experiment, simulate, collectors, n_reps)
    finally:
        bar.close()

    with writing_to(out, "the final tables"):
        interval_sums = {name: collectors[name].interval_sums() for name in names}
        summary, comparisons, paths = write_tables(
            out,
            store,
            {name: (fingerprints[name], collectors[name].order) for name in names},
            interval_sums,
            experiment.baseline,
        )
        from ccsim.study.outputs import BLOCK_SUM_COLUMNS, write_study

        written, study = write_study(
            out,
            experiment,
            lambda name, columns: collectors[name].read_columns(columns),
            interval_sums,
            lambda name: [
                collectors[name].checked(
                    lambda b=b: store.sums(fingerprints[name], b, BLOCK_SUM_COLUMNS)
                )
                for b in collectors[name].order
            ],
            n_reps,
            sweep,
        )
        paths += written
        if sensitivity is not None:
            paths.append(_write_sensitivity(out, experiment, *sensitivity[:2], sweep))
        manifest = {
            "experiment": spec.name,
            "file": experiment.source,
            "scenario_file": experiment.scenario_file,
            "sha256": experiment.digest,
            "ccsim": __version__,
            "code": code_digest()[:20],
            "versions": _versions(),
            "platform": platform.platform(),
            "seed": spec.seed,
            "common_random_numbers": spec.common_random_numbers,
            "scenarios": names,
            "fingerprints": fingerprints,
            "descriptions": {name: experiment.scenarios[name].description for name in names},
            "question": spec.description.strip(),
            "horizon_s": experiment.scenarios[experiment.baseline].horizon,
            "warmup_s": experiment.scenarios[experiment.baseline].warmup,
            "baseline": experiment.baseline,
            "currency": experiment.scenarios[experiment.baseline].currency,
            "replications": n_reps,
            "stopping_rule": rule.model_dump() if rule is not None else None,
            "stopped_early": rule is not None and n_reps < rounds[-1],
            "stopping_rule_result": check.as_dict() if check is not None else None,
            "backend": backend,
            "jobs": n_jobs,
            "started": started.isoformat(timespec="seconds"),
            "wall_time_s": round(time.perf_counter() - clock, 3),
            "wall_time_total_s": round(
                sum(s["wall_s"] for s in earlier) + time.perf_counter() - clock, 3
            ),
            "sessions": len(earlier) + 1,
            "command": command,
            "study": study,
        }
        keep_time()
        manifest = commit_generation(out, paths, manifest)
        kept = set(fingerprints.values()) | (sweep.fingerprints if sweep else set())
        store.prune(kept | (sensitivity[2] if sensitivity else set()))
    return ExperimentResult(summary, comparisons, manifest, out, manifest["stopped_early"], check)
