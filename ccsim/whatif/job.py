"""A what-if comparison: the base scenario against one variant on common random numbers, run
as ``ccsim experiment`` runs an experiment file, in a child process the page can watch and
cancel.

The comparison *is* an experiment: ``{scenario: <base file>, seed, baseline: base,
scenarios: {base: {}, variant: <overrides>}, replications: <stopping rule>}`` run by
:func:`ccsim.study.run.run_experiment`, so its numbers are those ``ccsim experiment`` gives
for the file :func:`ccsim.whatif.worker.experiment_yaml` writes (the same seeds, the same
blocks, the same tables).

The replications are chosen by a stopping rule on the paired differences to the base
(``on: differences``: common random numbers make a difference far tighter than either
estimate): 5 to start, 5 more at a time, up to ``max_replications``, until the 95% interval
of the difference in **service level** and in **operating cost** is within
``relative_half_width`` of the base's value, in every channel and for all together. Those
two are what a planner trades against each other in a what-if (what a change buys in
service, what it costs); waits and abandonment rates are small numbers whose relative
precision would ask for many replications that the decision does not need, and they are
shown with their intervals all the same. A channel with no contacts of its own in either
scenario has no service level, so the rule leaves it out (:func:`rule_kpis`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import ccsim
from ccsim.files import write_text
from ccsim.model import UserError, load_scenario
from ccsim.model.overrides import apply_overrides
from ccsim.whatif.fields import silent
from ccsim.whatif.worker import JOB, RESULT, STATUS, write_status

__all__ = ["RULE_KPIS", "Comparison", "comparison_spec", "rule_kpis"]

#: The KPIs whose paired difference the stopping rule watches (all channels together).
RULE_KPIS = ("service_level", "operating_cost")
#: The stopping rule's first round and its step.
FIRST, BATCH = 5, 5
#: Seconds a cancelled run is given to end on SIGTERM before it is killed.
_GRACE_S = 2.0


def rule_kpis(scenario_path: str | Path, overrides: dict[str, Any]) -> list[str]:
    """The KPIs the stopping rule watches: :data:`RULE_KPIS` in every channel, except the
    service level of a channel with no contacts of its own in the base or the variant
    (:func:`~ccsim.whatif.fields.silent`). Its service level is undefined there, and a rule
    waiting on an undefined difference would report ±inf and run every replication."""
    base = load_scenario(scenario_path)
    try:
        variant = apply_overrides(base, overrides, "<what-if>")
    except UserError:  # the run refuses it in its own words, from the child
        return list(RULE_KPIS)
    channels = list(base.channels)
    judged = [c for c in channels if not (silent(base.channels[c]) or silent(variant.channels[c]))]
    if judged == channels:
        return list(RULE_KPIS)
    together = ["all"] if len(channels) > 1 and judged else []
    return [f"{c}.service_level" for c in together + judged] + ["operating_cost"]


def comparison_spec(
    scenario_path: str | Path,
    overrides: dict[str, Any],
    *,
    seed: int,
    max_replications: int,
    relative_half_width: float,
) -> dict[str, Any]:
    """The experiment the comparison runs, as an experiment file holds it (the scenario's
    path made absolute, so that the file runs from any folder)."""
    return {
        "name": "whatif",
        "description": "the base scenario against a variant (ccsim whatif)",
        "scenario": str(Path(scenario_path).resolve()),
        "seed": seed,
        "baseline": "base",
        "replications": {
            "min": min(FIRST, max_replications),
            "max": max_replications,
            "batch": BATCH,
            "relative_half_width": relative_half_width,
            "kpis": rule_kpis(scenario_path, overrides),
            "on": "differences",
        },
        "scenarios": {"base": {}, "variant": dict(overrides)},
    }


class Comparison:
    """The base scenario against one variant on common random numbers, run with
    :func:`ccsim.study.run.run_experiment` in a child process (its own process group), so that
    a cancel or the server's exit kills it and its workers.

    ``out`` is the comparison's folder: ``job.json`` (what runs), ``status.json`` (where it
    stands, written atomically by the child), ``run/`` (the experiment's tables, as
    ``ccsim experiment`` writes them), ``experiment.yaml`` and ``result.json`` once done,
    ``worker.log`` (the child's stderr)."""

    def __init__(
        self,
        scenario_path: str | Path,
        overrides: dict[str, Any],
        *,
        out: Path,
        seed: int = 2026,
        max_replications: int = 40,
        relative_half_width: float = 0.1,
        jobs: int = 1,
    ) -> None:
        self.out = Path(out)
        self.spec = comparison_spec(
            scenario_path,
            overrides,
            seed=seed,
            max_replications=max_replications,
            relative_half_width=relative_half_width,
        )
        self.currency = load_scenario(scenario_path).currency
        self.jobs = jobs
        self.total = 2 * max_replications
        self._process: subprocess.Popen | None = None
        self._cancelled = False

    def start(self) -> None:
        """Start the child; returns at once."""
        if self._process is not None:
            raise RuntimeError("this comparison has already started")
        self.out.mkdir(parents=True, exist_ok=True)
        job = {"spec": self.spec, "jobs": self.jobs, "currency": self.currency}
        write_text(self.out / JOB, json.dumps(job))
        write_status(self.out, "running", 0, self.total)
        root = str(Path(ccsim.__file__).resolve().parent.parent)
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}
        with open(self.out / "worker.log", "ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "ccsim.whatif.worker", str(self.out), str(os.getpid())],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                start_new_session=True,
            )

    @property
    def pid(self) -> int | None:
        """The child's process id (its process group's too), once started."""
        return None if self._process is None else self._process.pid

    def status(self) -> dict[str, Any]:
        """``{"state": "running"|"done"|"failed"|"cancelled", "done", "total",
        "message"}``: replications of both scenarios done and planned (the planned count
        falls to what ran when the rule stops early); ``message`` is one line."""
        try:
            status = json.loads((self.out / STATUS).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            status = {"state": "running", "done": 0, "total": self.total, "message": ""}
        if self._cancelled:
            return {**status, "state": "cancelled", "message": "cancelled"}
        if status["state"] != "running" and self._process is not None:
            # The child writes its last status just before it exits: let it end (and reap it)
            # so that a finished comparison leaves no process behind.
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=_GRACE_S)
        ended = self._process is not None and self._process.poll() is not None
        if ended and status["state"] == "running":
            code = self._process.returncode
            return {**status, "state": "failed", "message": f"the run ended (exit status {code})"}
        return status

    def cancel(self) -> None:
        """Stop the child and every process it started (its process group): SIGTERM, then
        SIGKILL after a grace of two seconds. Waits until the child is gone."""
        if self._process is None or self._process.poll() is not None:
            self._cancelled = self._cancelled or self.status()["state"] == "running"
            return
        self._cancelled = True
        group = self._process.pid  # start_new_session: the child leads its own group
        for sig, wait in ((signal.SIGTERM, _GRACE_S), (signal.SIGKILL, None)):
            try:
                os.killpg(group, sig)
            except ProcessLookupError:
                break
            try:
                self._process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        self._process.wait()
        _reap_group(group)
        write_status(self.out, "cancelled", 0, self.total, "cancelled")

    def result(self) -> dict[str, Any]:
        """What the page shows (only once ``status()["state"] == "done"``)."""
        if self.status()["state"] != "done":
            raise RuntimeError("the comparison has not finished")
        return json.loads((self.out / RESULT).read_text(encoding="utf-8"))


def _reap_group(group: int, timeout: float = 5.0) -> None:
    """Wait until no process of ``group`` is left (its workers die with SIGKILL at once,
    but are reaped by the system a moment later)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
