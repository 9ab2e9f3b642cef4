"""Where replications run: local processes (joblib's loky) or a Dask cluster.

Both backends take the same pure task function and hand results back as tasks complete,
so the caller can save each block at once and show progress. Results do not depend on the
backend or the number of workers: seeds are fixed before tasks are sent, and tables are
put in replication order afterwards.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from joblib import Parallel, delayed
from joblib._parallel_backends import LokyBackend

from ccsim.model.errors import UserError

__all__ = ["BACKENDS", "BackendError", "Executor", "max_workers", "open_executor"]

BACKENDS = ("loky", "dask")

#: Workers per core at most: replications are pure computation, so more workers than
#: cores only share them; a few per core still pays where a task waits on its disk.
WORKERS_PER_CORE = 4


def max_workers() -> int:
    """The most worker processes one run may start: :data:`WORKERS_PER_CORE` per core."""
    return WORKERS_PER_CORE * (os.cpu_count() or 1)


class BackendError(UserError, ValueError):
    """A backend that cannot be used as asked (not installed, bad combination of options)."""


class Executor(AbstractContextManager):
    """Runs ``function(*args)`` for each args tuple; yields results in completion order."""

    workers: int  # how many tasks run at once

    def map_unordered(self, function: Callable, arguments: Iterable[tuple]) -> Iterator[Any]:
        raise NotImplementedError

    def __exit__(self, *exc) -> None:
        return None


def _watch_parent(parent: int, interval: float = 0.5) -> None:
    """Run in each worker: exit when ``parent``, the process that started it, is gone.

    loky keeps its workers for reuse, and a parent killed outright (``kill -9``, an OOM kill)
    cannot tell them to stop: without this they would finish their block, then idle for
    minutes. A worker whose parent died is re-parented, so its parent id changes. The id is
    passed in rather than read here: a parent may die while the worker is still starting.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="ccsim-watch-parent", daemon=True).start()


def _kill_workers() -> None:
    """Stop loky's reusable workers now, tasks in flight included (after Ctrl-C or SIGTERM:
    their blocks would be thrown away anyway, and they would hold the CPUs meanwhile)."""
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=False, kill_workers=True)


class _Loky(Executor):
    def __init__(self, n_jobs: int) -> None:
        self.n_jobs = n_jobs
        self.workers = n_jobs if n_jobs > 0 else os.cpu_count() or 1

    def map_unordered(self, function, arguments):
        arguments = list(arguments)
        if self.n_jobs == 1:  # in-process: no pickling, and tracebacks stay readable
            for args in arguments:
                yield function(*args)
            return
        if not arguments:
            return
        parallel = Parallel(
            # No more workers than tasks: 40 workers for 2 blocks would start 38 for nothing.
            n_jobs=min(self.workers, len(arguments)),
            backend=LokyBackend(initializer=_watch_parent, initargs=(os.getpid(),)),
            return_as="generator_unordered",
        )
        try:
            yield from parallel(delayed(function)(*args) for args in arguments)
        except BaseException:  # interrupted, or a task failed: nothing more is wanted
            _kill_workers()
            raise


#: Seconds to reach a Dask scheduler, and then to wait for its first worker: a scheduler
#: without workers accepts tasks and never runs them.
CONNECT_TIMEOUT = 30
WORKERS_TIMEOUT = 60


def _connect(scheduler: str):
    """A client of the scheduler at ``scheduler`` with at least one worker; an address that
    is malformed, unreachable or has no worker within :data:`WORKERS_TIMEOUT` is a
    :class:`BackendError` naming it."""
    from distributed import Client

    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, ValueError, TypeError) as exc:  # TimeoutError is an OSError
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        # The client that failed half-way closes in its finaliser: run it now. Left to a
        # later collection it can fall inside the start of another client's event loop,
        # and distributed's loop runner then deadlocks on its own lock.
        del exc
        gc.collect()
        raise BackendError(f"Dask scheduler {scheduler!r}: cannot connect ({problem})") from None
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT)
    except (OSError, TimeoutError):
        client.close()
        raise BackendError(
            f"Dask scheduler {scheduler!r}: no worker joined within {WORKERS_TIMEOUT} s "
            f"(start some: dask worker {scheduler})"
        ) from None
    return client


class _Dask(Executor):
    def __init__(self, n_jobs: int, scheduler: str | None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise BackendError(
                'the dask backend needs the dask extra: pip install "ccsim[dask]"'
            ) from None
        if scheduler is not None:
            self._cluster = None
            self.client = _connect(scheduler)
        else:  # no scheduler given: a cluster of local processes, as many as --jobs
            workers = n_jobs if n_jobs > 0 else os.cpu_count() or 1
            self._cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            self.client = Client(self._cluster)
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))

    def map_unordered(self, function, arguments):
        from distributed import as_completed

        futures = [self.client.submit(function, *args, pure=False) for args in arguments]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()

    def __exit__(self, *exc) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def open_executor(backend: str, n_jobs: int, scheduler: str | None = None) -> Executor:
    """An executor for ``backend`` ('loky' or 'dask'); use it as a context manager.

    ``n_jobs`` workers (-1: one per core) run tasks at once, never more than the tasks
    given to one :meth:`~Executor.map_unordered`; more than :func:`max_workers` is refused
    (a :class:`BackendError`) rather than starting processes without end."""
    if n_jobs > max_workers():
        raise BackendError(
            f"{n_jobs:,} workers: at most {max_workers()} ({WORKERS_PER_CORE} per core on the "
            f"{os.cpu_count() or 1} cores here; -1 starts one per core)"
        )
    if backend == "loky":
        if scheduler is not None:
            raise BackendError("a scheduler address only goes with the dask backend")
        return _Loky(n_jobs)
    if backend == "dask":
        return _Dask(n_jobs, scheduler)
    raise BackendError(f"unknown backend {backend!r} (use {' or '.join(BACKENDS)})")
