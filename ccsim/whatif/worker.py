"""The child process of a what-if comparison (:class:`ccsim.whatif.job.Comparison`):
``python -m ccsim.whatif.worker FOLDER SERVER_PID`` runs the experiment that ``FOLDER/job.json``
describes with :func:`ccsim.study.run.run_experiment` and writes, atomically, where it stands
(``status.json``: state, replications done and planned, a one-line message) and, once done,
the result the page shows (``result.json``).

It runs in a process group of its own, so that a cancel kills it and the loky workers it
starts at once; if the process that started it goes away without cancelling (the server
killed), it kills its own group rather than run on unseen.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from ccsim.files import write_text
from ccsim.model import UserError
from ccsim.planning.scenario_file import dump_yaml

__all__ = ["JOB", "RESULT", "STATUS", "experiment_yaml", "main", "write_status"]

#: The files of a comparison's folder.
JOB, STATUS, RESULT = "job.json", "status.json", "result.json"
#: Seconds between two looks at whether the parent is still there.
_PARENT_CHECK_S = 1.0


def write_status(folder: Path, state: str, done: int, total: int, message: str = "") -> None:
    """``status.json`` replaced at once: a reader never sees half a file."""
    status = {"state": state, "done": done, "total": total, "message": message}
    write_text(folder / STATUS, json.dumps(status))


def experiment_yaml(spec: dict[str, Any], n_reps: int) -> str:
    """The experiment file that reproduces, table for table, a comparison that ran
    ``n_reps`` replications: the same scenarios, seed and stopping rule, its maximum set to
    ``n_reps``. The rule's earlier rounds are not met again (the same replications), so it
    runs exactly ``n_reps``, in the same blocks. A plain ``replications: n_reps`` gives the
    same replications and the same ``summary.csv`` and ``comparisons.csv``, but one block
    where the rule had a block per round: the per-interval sums are then added in another
    order, and ``intervals.parquet`` (the page's bands) differs in the last digits."""
    rule = {**spec["replications"], "max": n_reps}
    head = (
        "# A what-if comparison (ccsim whatif) as an experiment file: `ccsim experiment` on it\n"
        f"# gives the page's numbers: seed {spec['seed']}, {n_reps} replications (the stopping\n"
        "# rule's rounds, its maximum the count the comparison ran).\n"
    )
    return head + dump_yaml({**spec, "replications": rule})


def _watch_parent(parent: int) -> None:
    """End this process group once the parent is gone (it is then re-parented). ``parent``
    is the pid the server passed, not this process's parent at start-up: a server that dies
    while the child is still importing would otherwise be missed (the child, re-parented
    already, would watch the wrong process)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_CHECK_S)
        os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch, daemon=True).start()


def _targets(scenario_path: str) -> dict[str, float]:
    """Each channel's service-level target in the base scenario."""
    from ccsim.model import load_scenario

    channels = load_scenario(scenario_path).channels.items()
    return {name: c.service_level.target for name, c in channels if c.service_level is not None}


def _result(run, job: dict[str, Any], experiment_yaml: str) -> dict[str, Any]:
    from ccsim.whatif.outcome import comparison_rows, read_tables, service_level_svg

    summary, comparisons, intervals = read_tables(Path(run.out))
    n_reps = int(run.manifest["replications"])
    return {
        "replications": n_reps,
        "stopped_early": bool(run.stopped_early),
        "rule": run.rule.describe(n_reps, run.stopped_early) if run.rule is not None else "",
        "seed": int(job["spec"]["seed"]),
        "currency": job["currency"],
        "rows": comparison_rows(summary, comparisons, job["currency"]),
        "service_level_svg": service_level_svg(intervals, _targets(job["spec"]["scenario"])),
        "experiment_yaml": experiment_yaml,
    }


def run(folder: Path) -> None:
    """Run the comparison of ``folder`` and write its status and result."""
    from ccsim.study.run import run_experiment

    job = json.loads((folder / JOB).read_text(encoding="utf-8"))
    total = 2 * int(job["spec"]["replications"]["max"])
    write_status(folder, "running", 0, total)

    def progress(done: int, planned: int) -> None:
        write_status(folder, "running", done, planned)

    result = run_experiment(
        job["spec"],
        n_jobs=int(job["jobs"]),
        out=folder / "run",
        progress=progress,
        notify=lambda line: print(line, file=sys.stderr, flush=True),
    )
    n_reps = int(result.manifest["replications"])
    text = experiment_yaml(job["spec"], n_reps)
    write_text(folder / "experiment.yaml", text)
    write_text(folder / RESULT, json.dumps(_result(result, job, text)))
    write_status(folder, "done", 2 * n_reps, 2 * n_reps)


def main(argv: list[str] | None = None) -> int:
    folder, parent = (argv if argv is not None else sys.argv[1:])[:2]
    folder = Path(folder)
    _watch_parent(int(parent))
    try:
        run(folder)
    except UserError as error:  # the run's own words, one line (ConfigError and the like)
        write_status(folder, "failed", 0, 0, " ".join(str(error).split()))
        return 2
    except Exception as error:  # a bug: the page says so in one line, the log keeps the rest
        traceback.print_exc()
        line = " ".join(f"{type(error).__name__}: {error}".split())
        write_status(folder, "failed", 0, 0, f"the comparison failed ({line}); see worker.log")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
