"""The what-if page's web server: a Flask application on 127.0.0.1 that shows a scenario's
key inputs as a form, runs the base against the planner's variant on common random numbers
(one :class:`~ccsim.whatif.job.Comparison` at a time, server-wide), and keeps every variant
run in a history for the server's lifetime.

The browser is never trusted: the values typed are validated here with
:func:`~ccsim.whatif.form.variant`, and nothing runs unless every field is valid. Every error
the server answers is one line (JSON under ``/api/``, a small HTML page elsewhere), never a
traceback. The page itself (``templates/whatif.html``, ``static/``) is served from the
package, so it works offline and from a non-editable install.
"""

from __future__ import annotations

import contextlib
import html
import logging
import os
import socket
import sys
import threading
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, abort, jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server

from ccsim.files import write_text
from ccsim.model import load_scenario
from ccsim.model.errors import UserError
from ccsim.whatif.form import form_fields, variant
from ccsim.whatif.job import Comparison
from ccsim.whatif.save import save_variant

__all__ = ["Busy", "Runs", "Settings", "create_app", "has_a_desktop", "serve"]

#: What the page's history shows of a finished run: these KPIs' differences, in this order.
HEADLINE_KPIS = ("service_level", "operating_cost")
#: The headline KPIs counted in money.
MONEY_KPIS = ("operating_cost",)

#: The host names the page is served under (the server listens on 127.0.0.1 only).
LOCAL_HOSTS = ("127.0.0.1", "localhost")
#: The largest request body: a form of a few hundred fields is a few kilobytes.
MAX_REQUEST_BYTES = 1 << 20

BUSY = "a comparison is already running: wait for it to finish or cancel it"


@dataclass(frozen=True)
class Settings:
    """What ``ccsim whatif`` was started with: the base scenario, where runs are written,
    and the comparison's seed, workers and stopping rule."""

    scenario: Path
    out: Path
    seed: int = 2026
    jobs: int = 1
    max_replications: int = 40
    relative_half_width: float = 0.1


class Busy(UserError):
    """A Run asked for while another comparison runs (from this tab or another)."""


@dataclass
class Run:
    """One variant run: its folder, its changes, its comparison and, once read, its result."""

    number: int
    folder: Path
    overrides: dict[str, Any]
    changes: list[str]
    comparison: Any
    result: dict | None = None
    saved: dict[str, str] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def status(self) -> dict:
        status = dict(self.comparison.status())
        with self.lock:  # two tabs polling the end of a run read the result once
            if status["state"] == "done" and self.result is None:
                self.result = self.comparison.result()
        return {
            "id": self.number,
            "folder": str(self.folder),
            "changes": self.changes,
            **status,
            "headline": self.headline(),
            "saved": self.saved,
        }

    def headline(self) -> list[str]:
        if self.result is None:
            return []
        rows = self.result["rows"]
        several = len({row["channel"] for row in rows}) > 1
        lines = []
        for kpi in HEADLINE_KPIS:
            for row in (row for row in rows if row["kpi"] == kpi):
                # The table's differences of money carry no currency (its legend names it);
                # a line of the history stands alone.
                unit = f" {self.result['currency']}" if kpi in MONEY_KPIS else ""
                where = f"{row['channel']} " if several else ""
                # The table's convention: a difference with its interval, ● if significant,
                # so that the history does not rank variants on noise.
                mark = "● " if row["significant"] else ""
                line = f"{where}{row['label']} {mark}{row['difference']}{unit} {row['interval']}"
                lines.append(line.rstrip())
        return lines


class Runs:
    """The comparisons of one server, in the order they were started, at most one running.

    A lock makes "is one running? then start" one step, so that two tabs pressing Run at
    once start one comparison and the other gets :data:`BUSY`.
    """

    def __init__(self, settings: Settings, comparison: Callable[..., Any] = Comparison) -> None:
        self.settings = settings
        self._comparison = comparison
        self._runs: dict[int, Run] = {}
        self._lock = threading.Lock()

    def all(self) -> list[Run]:
        return list(self._runs.values())

    def get(self, number: int) -> Run:
        if number not in self._runs:
            raise LookupError(f"no run {number} on this page")
        return self._runs[number]

    def running(self) -> Run | None:
        return next(
            (r for r in self._runs.values() if r.comparison.status()["state"] == "running"), None
        )

    def start(self, overrides: dict[str, Any], changes: list[str]) -> Run:
        with self._lock:
            if self.running() is not None:
                raise Busy(BUSY)
            number = self._next_number()
            folder = self.settings.out / str(number)
            comparison = self._comparison(
                self.settings.scenario,
                overrides,
                out=folder,
                seed=self.settings.seed,
                max_replications=self.settings.max_replications,
                relative_half_width=self.settings.relative_half_width,
                jobs=self.settings.jobs,
            )
            comparison.start()
            self._runs[number] = run = Run(number, folder, overrides, changes, comparison)
            return run

    def _next_number(self) -> int:
        # Runs of earlier servers on the same scenario stay where they are: number after them.
        taken = set(self._runs)
        if self.settings.out.is_dir():
            taken |= {int(p.name) for p in self.settings.out.iterdir() if p.name.isdigit()}
        return max(taken, default=0) + 1

    def cancel(self) -> None:
        """Cancel the running comparison, if any (the server's exit)."""
        for run in self._runs.values():
            if run.comparison.status()["state"] == "running":
                run.comparison.cancel()

    def save(self, number: int) -> dict[str, str]:
        run = self.get(number)
        if run.status()["state"] != "done":
            raise UserError(
                f"run {number} has not finished: its experiment file needs the replications used"
            )
        scenario = save_variant(
            self.settings.scenario, run.overrides, run.folder / f"variant_{number}.yaml"
        )
        experiment = write_text(run.folder / "experiment.yaml", run.result["experiment_yaml"])
        run.saved = {"scenario": str(scenario), "experiment": str(experiment)}
        return run.saved


def _json_error(message: str, status: int, **extra: Any):
    return jsonify({"message": message, **extra}), status


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def create_app(runs: Runs) -> Flask:
    """The page and its JSON API on ``runs``."""
    app = Flask(__name__)
    app.json.sort_keys = False
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    settings = runs.settings
    fields = form_fields(settings.scenario)  # a bad scenario fails here, before serving
    base = load_scenario(settings.scenario)
    currency = base.currency
    # The header's example of the rule's tolerance: the first service-level target.
    target = next((c.service_level.target for c in base.channels.values() if c.service_level), None)

    @app.before_request
    def local_only():
        # A page of another site open in the same browser may send requests here; its own
        # host name (DNS rebinding) is refused, and the API takes JSON only, which a
        # cross-site request cannot send without a preflight this server never grants.
        if request.host.rsplit(":", 1)[0] not in LOCAL_HOSTS:
            abort(400, f"unknown host {request.host!r}: open http://{LOCAL_HOSTS[0]}")

    @app.get("/")
    def page():
        groups: dict[str, list] = {}
        for item in fields:
            groups.setdefault(item.group, []).append(item)
        return render_template(
            "whatif.html",
            scenario=settings.scenario,
            groups=groups,
            settings=settings,
            currency=currency,
            target=target,
        )

    @app.get("/api/fields")
    def api_fields():
        return jsonify([vars(item) for item in fields])

    @app.post("/api/run")
    def api_run():
        values = request.get_json(silent=True)
        if not isinstance(values, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in values.items()
        ):
            return _json_error("send the form's values as a JSON object of texts", 400)
        checked = variant(settings.scenario, values)
        if checked.errors:
            fields_wrong = len([k for k in checked.errors if k])
            message = checked.errors.get("") or f"{fields_wrong} field(s) to correct: nothing ran"
            return _json_error(message, 400, errors=checked.errors)
        if not checked.overrides:
            return _json_error("nothing changed: change an input to compare with the base", 400)
        try:
            run = runs.start(checked.overrides, checked.changes)
        except Busy as exc:
            return _json_error(str(exc), 409)
        return jsonify(run.status()), 202

    @app.get("/api/runs")
    def api_runs():
        return jsonify([run.status() for run in runs.all()])

    @app.get("/api/runs/<int:number>")
    def api_run_status(number: int):
        run = runs.get(number)
        return jsonify({**run.status(), "result": run.result})

    @app.post("/api/runs/<int:number>/cancel")
    def api_cancel(number: int):
        run = runs.get(number)
        run.comparison.cancel()
        return jsonify(run.status())

    @app.post("/api/runs/<int:number>/save")
    def api_save(number: int):
        return jsonify(runs.save(number))

    _error_handlers(app)
    return app


def _error_handlers(app: Flask) -> None:
    """Every error as one line: JSON for the API, a small page elsewhere; never a traceback."""

    def answer(message: str, status: int):
        if request.path.startswith("/api/"):
            return _json_error(message, status)
        body = f"<!doctype html><title>ccsim whatif</title><p>{html.escape(message)}</p>"
        return body, status, {"Content-Type": "text/html; charset=utf-8"}

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return answer(f"{exc.code} {exc.name}: {exc.description}", exc.code or 500)

    @app.errorhandler(LookupError)
    def not_found(exc: LookupError):
        return answer(_one_line(exc).strip("'\""), 404)

    @app.errorhandler(UserError)
    def user_error(exc: UserError):
        return answer(_one_line(exc), 400)

    @app.errorhandler(Exception)
    def internal(exc: Exception):
        message = f"internal error ({type(exc).__name__}): {_one_line(exc)}"
        app.logger.error("ccsim whatif: %s %s: %s", request.method, request.path, message)
        return answer(message, 500)


def has_a_desktop() -> bool:
    """Whether a graphical browser can open: without a display, :mod:`webbrowser` falls
    back to a text browser (lynx, w3m) that would take over the terminal the server's
    address is printed on."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def serve(
    settings: Settings,
    *,
    port: int = 0,
    open_browser: bool = True,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve the page on 127.0.0.1 (``port`` 0: a free one) until interrupted; the running
    comparison is cancelled on the way out (Ctrl-C, or SIGTERM turned into an interrupt)."""
    runs = Runs(settings)
    app = create_app(runs)
    # The page polls its run twice a second: a line per request would bury the URL.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # The socket is bound here, not by werkzeug, which prints its own lines and exits 1
    # when the port is taken.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        try:
            listener.bind(("127.0.0.1", port))
            listener.listen(128)
        except OSError as exc:  # the port taken, or one below 1024 without the right
            message = exc.strerror or str(exc)
            raise UserError(f"--port {port}: cannot serve on 127.0.0.1: {message}") from None
        server = make_server("127.0.0.1", port, app, threaded=True, fd=listener.fileno())
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    announce(url)
    if open_browser and has_a_desktop():
        with contextlib.suppress(webbrowser.Error):
            webbrowser.open(url)
    try:
        server.serve_forever()
    finally:
        runs.cancel()
        server.server_close()
