"""Staffing a whole scenario at least cost, with simulation as the judge.

:func:`staff_scenario` chooses headcounts on the shift templates of every site so that
every channel meets its :class:`~ccsim.planning.targets.Targets`, and the shifts with most
room cannot give an agent without missing one:

0. **Templates.** A site with constant ``agents`` (a placeholder) is offered the templates of
   a :class:`ShiftOffer`; a site with ``shifts`` offers its own, headcounts to be chosen.
1. **Seed.** A requirement per *pool* and interval (:mod:`ccsim.planning.pools`): a pool is
   the channels that the same sites answer; it needs its channels' total load plus a shared
   safety staffing (the square-root law), never less than its largest channel.
2. **Cover** the requirement at least cost (:mod:`ccsim.planning.program`, set up by
   :class:`ccsim.planning.planner.Planner`), per site over the pools it serves.
3. **Judge** the schedule by simulation, ``reps`` replications with the same seeds every time
   (common random numbers): :func:`ccsim.planning.targets.evaluate`.
4. **Raise** where a channel misses: for a weekly miss, its pool's requirement in the
   intervals below the target; for an interval-floor miss, in the intervals below the floor;
   by 10% (one agent at least). Back to 2.
5. **Lower** large pools once every target holds: a pool's requirement drops by 8% (then 4,
   2, 1%) in the intervals where its channels are at target, the program re-solves, and the
   plan is kept if every target still holds (:func:`_lower_requirements`).
6. **Trim** (:mod:`ccsim.planning.trim`): rank the templates in use by their room in the
   last simulation's per-interval figures, take one agent from the first, then from twice
   as many at once while every target holds on the same replications, half as many on a
   miss; the trimming ends when ``PATIENCE`` templates in a row fail alone (those after them
   have less room).
7. **Guard** (:mod:`ccsim.planning.guard`): the plan judged on as many fresh replications
   (another seed) that no step saw; where a target fails there, the kept removals are given
   back, last first, until a plan passes on both.

With ``screen_reps``, the raise rounds judge on that many of the search's replications (the
first ones of the same seed) until every target holds, then on all of them to confirm; a
plan that fails the confirmation is raised from the full figures, and the rounds after it
judge on all the replications.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ccsim.model import ConfigError, Scenario
from ccsim.planning.guard import FreshCheck, fresh_check
from ccsim.planning.planner import Planner
from ccsim.planning.pools import Pool
from ccsim.planning.program import Solution
from ccsim.planning.shares import channel_of
from ccsim.planning.targets import Evaluation, Targets, evaluate
from ccsim.planning.templates import ShiftOffer
from ccsim.planning.trim import trim as trim_plan

__all__ = ["StaffingPlan", "staff_scenario"]

#: The raise of a pool's requirement in an interval that misses.
RAISE = 0.10
#: The first and the last step by which a pool's requirement is lowered where it has slack.
LOWER_START, LOWER_END = 0.08, 0.01


@dataclass(frozen=True)
class StaffingPlan:
    """A staffing of a whole scenario and its judgement.

    ``scenario``: the input with the chosen shifts (compact: a headcount per weekday per
    template). ``headcounts``: one row per template in use (site, start, length, days,
    part_time, headcount, cost_per_agent, cost). ``cost``: the schedule's pay over the
    horizon. ``evaluation``: the plan judged on the search's replications. ``met``: every
    target holds. ``trimmed``: trimming ran to its end (the templates with most room failed
    alone: :mod:`ccsim.planning.trim`), not stopped by its budget. ``solver_status`` and
    ``solver_gap`` of the last integer program, and ``time_limited``: whether any solve
    stopped at its time limit. ``history``: one row per simulation (phase, its
    replications and seconds, cost, met, service levels); ``solve_seconds``: the integer
    programs' time. ``fresh``: the guard's check on fresh replications (None: not run).
    """

    scenario: Scenario
    headcounts: pd.DataFrame
    cost: float
    evaluation: Evaluation
    met: bool
    trimmed: bool
    solver_status: str
    solver_gap: float
    time_limited: bool
    history: pd.DataFrame
    simulations: int
    elapsed: float
    pools: list[Pool] = field(default_factory=list)
    solve_seconds: float = 0.0
    fresh: FreshCheck | None = None


class _Search:
    """One search's bookkeeping: the planner, every simulation's outcome (``history``), the
    last integer program's solution and whether any solve stopped at its time limit.
    ``kept``: every plan kept, in order, with its evaluation on the search's replications
    (the raise's last, then each lowering and trim kept): what the guard gives back along."""

    def __init__(self, planner: Planner, *, reps, seed, n_jobs, time_limit, mip_gap, say) -> None:
        self.planner = planner
        self.reps, self.seed, self.n_jobs = reps, seed, n_jobs
        self.time_limit, self.mip_gap = time_limit, mip_gap
        self.say = say
        self.history: list[dict] = []
        self.kept: list[tuple[np.ndarray, Evaluation]] = []
        self.time_limited = False
        self.solution: Solution | None = None
        self.solve_seconds = 0.0  # in the integer programs, all solves together

    def judge(
        self, x: np.ndarray, phase: str, *, seed: int | None = None, reps: int | None = None
    ) -> Evaluation | None:
        """Headcounts ``x`` judged on the search's replications, or ``reps`` of them (the
        first), or as many of another ``seed`` (None: not a valid staffing). A plan that
        meets every target on all the search's replications is kept (``kept``): the search
        keeps every such plan it judges."""
        try:
            staffed = self.planner.build(x)
        except ConfigError:  # e.g. a channel left without any agent: not a valid staffing
            return None
        own = seed is None and reps is None
        seed = self.seed if seed is None else seed
        reps = self.reps if reps is None else reps
        started = time.perf_counter()
        result = evaluate(staffed, self.planner.targets, reps, seed, self.n_jobs)
        if own and result.met:
            self.kept.append((x.copy(), result))
        self.history.append(
            {
                "phase": phase,
                "replications": reps,
                "seed": seed,
                "seconds": time.perf_counter() - started,
                "cost": float(self.planner.costs @ x),
                "agents": int(x.sum()),
                "met": result.met,
                **{f"{row.channel}_sl_low": row.low for row in result.channels.itertuples()},
                **{
                    f"{row.channel}_at_floor": row.share_at_floor
                    for row in result.channels.itertuples()
                },
            }
        )
        return result

    def solve(self, step: str) -> Solution:
        """The covering program for the current requirement; a time limit reached is told."""
        started = time.perf_counter()
        self.solution = self.planner.solve(self.time_limit, self.mip_gap)
        self.solve_seconds += time.perf_counter() - started
        if self.solution.status == "rounded":
            self.say(f"{step}: the rounded plan, {self.solution.mip_gap:.2%} above the bound")
        elif self.solution.time_limited:
            self.time_limited = True
            self.say(
                f"{step}: the integer program stopped at its time limit "
                f"({self.time_limit:g}s), within {self.solution.mip_gap:.2%} of its lower bound"
            )
        if self.solution.branch_and_bound == "no better":
            # The requirement moves by a few agents between solves: a branch and bound that
            # could not beat the rounded relaxation once will not the next time either, and
            # it costs its whole time limit (and more: HiGHS overruns it) every solve.
            self.planner.branch = False
            self.say(f"{step}: branch and bound found no better plan: the next solves round")
        return self.solution

    def cost(self, x: np.ndarray) -> float:
        """The pay of headcounts ``x`` over the horizon."""
        return self.planner.costs @ x

    def line(self, step: str, x: np.ndarray, evaluation: Evaluation) -> str:
        """One progress line: the step, the pay of ``x`` and each channel's levels."""
        return _line(step, self.cost(x), evaluation)


def staff_scenario(
    scenario: Scenario,
    targets: Targets | None = None,
    offer: ShiftOffer | None = None,
    *,
    reps: int = 20,
    seed: int = 0,
    n_jobs: int = 1,
    max_rounds: int = 12,
    trim: bool = True,
    max_trim_simulations: int | None = None,
    time_limit: float = 60.0,
    mip_gap: float = 0.01,
    progress: Callable[[str], None] | None = None,
    guard: bool = True,
    guard_seed: int | None = None,
    screen_reps: int | None = None,
) -> StaffingPlan:
    """Staff every site of ``scenario`` at least cost for ``targets`` (default: each channel's
    own objective, interval floor 15 points for 95% of intervals), by the search of the
    module docstring. A site with constant ``agents`` (a placeholder) gets the templates of
    ``offer``; a site with ``shifts`` offers its own, whose headcounts the search chooses.

    ``reps`` replications with ``seed`` judge every staffing (common random numbers);
    ``max_rounds`` bounds the raise loop; ``max_trim_simulations`` the trimming (None: until
    its stopping rule). ``time_limit`` and ``mip_gap`` go to each integer program; a
    solve that stops at its time limit is flagged in the result (``time_limited``) and told
    to ``progress``, a function that receives one line per step. ``guard``: judge the plan
    on ``reps`` replications of ``guard_seed`` (default ``seed + 1``) and give back removals
    until it passes there (:mod:`ccsim.planning.guard`). ``screen_reps``: the raise rounds
    judge on that many replications until the targets hold (module docstring).
    """
    started = time.perf_counter()
    targets = Targets.of(scenario) if targets is None else targets
    for name in targets.channels:
        if name not in scenario.channels:
            raise ConfigError("", "targets", f"no channel {name!r} in the scenario")
    planner = Planner(scenario, targets, ShiftOffer() if offer is None else offer)
    search = _Search(
        planner,
        reps=reps,
        seed=seed,
        n_jobs=n_jobs,
        time_limit=time_limit,
        mip_gap=mip_gap,
        say=progress or (lambda line: None),
    )
    x, evaluation = _cover_and_raise(search, max_rounds, screen_reps)
    met, trimmed, fresh = evaluation.met, False, None
    if met and trim:
        x, evaluation = _lower_requirements(search, x, evaluation)
        x, evaluation, trimmed = trim_plan(search, x, evaluation, max_trim_simulations)
    if met and guard:
        guard_seed = seed + 1 if guard_seed is None else guard_seed
        kept = search.kept if np.array_equal(search.kept[-1][0], x) else [(x, evaluation)]
        x, evaluation, fresh = fresh_check(search, kept, guard_seed)
        search.say(fresh.summary(scenario.currency))
    if not met:
        search.say(
            f"the targets are not met after {max_rounds} rounds: the plan is the last one tried"
        )
    return StaffingPlan(
        scenario=planner.build(x),
        headcounts=planner.table(x),
        cost=float(search.cost(x)),
        evaluation=evaluation,
        met=met,
        trimmed=trimmed,
        solver_status=search.solution.status,
        solver_gap=search.solution.mip_gap,
        time_limited=search.time_limited,
        history=pd.DataFrame(search.history),
        simulations=len(search.history),
        elapsed=time.perf_counter() - started,
        pools=planner.pools,
        solve_seconds=search.solve_seconds,
        fresh=fresh,
    )


def _cover_and_raise(
    search: _Search, max_rounds: int, screen_reps: int | None = None
) -> tuple[np.ndarray, Evaluation]:
    """Steps 2 to 4: cover the requirement, judge, raise where a channel misses; until every
    target holds or after ``max_rounds`` rounds (the last plan tried). With ``screen_reps``
    (fewer than the search's), rounds judge on that many replications until the targets
    hold there, then on all to confirm; after a confirmation fails, on all."""
    screening = screen_reps is not None and screen_reps < search.reps
    for round_ in range(1, max_rounds + 1):
        x = search.solve(f"round {round_}").headcounts.copy()
        if screening:
            evaluation = search.judge(x, f"screen {round_}", reps=screen_reps)
            if evaluation is None:
                raise ConfigError("", "sites", "the schedule leaves a channel without agents")
            evaluation = _screened(evaluation)
            search.say(_line(f"round {round_} on {screen_reps}", search.cost(x), evaluation))
            if not evaluation.met:
                _raise(search.planner, evaluation)
                continue
            screening = False  # near the targets now: every later round on all replications
        evaluation = search.judge(x, f"raise {round_}")
        if evaluation is None:
            raise ConfigError("", "sites", "the schedule leaves a channel without agents")
        search.say(_line(f"round {round_}", search.cost(x), evaluation))
        if evaluation.met:
            break
        _raise(search.planner, evaluation)
    return x, evaluation


def _screened(evaluation: Evaluation) -> Evaluation:
    """A screening's verdict: the weekly target judged by its estimate, not its lower
    bound. The bound of a few replications is wide (at 99% on 5 replications the t quantile
    is 4.6 against 2.9 on 20, over half as many roots), so judged by it the screen would
    raise plans that all the replications accept; the confirmation judges the bound."""
    channels = evaluation.channels.copy()
    channels["met_weekly"] = channels["service_level"] >= channels["target"] - 1e-12
    channels["met"] = channels["met_weekly"] & channels["met_floor"]
    return replace(evaluation, channels=channels)


def _raise(planner: Planner, evaluation: Evaluation) -> None:
    """Raise each missing channel's pool where the channel falls short (step 4)."""
    pools_of: dict[str, list[Pool]] = {}
    for pool in planner.pools:  # a split channel's miss raises each of its shares
        for name in pool.judged:
            pools_of.setdefault(name, []).append(pool)
    n = len(planner.calendar.slots)
    for row in evaluation.channels.itertuples():
        if row.met:
            continue
        levels = np.full(n, np.nan)
        own = evaluation.intervals[evaluation.intervals.channel == row.channel]
        levels[own["interval"].to_numpy(int)] = own["sl"].to_numpy(float)
        target = planner.targets.channels[channel_of(row.channel)]
        measured = ~np.isnan(levels)
        short = np.zeros(n, dtype=bool)
        if not row.met_weekly:
            short |= measured & (levels < target.target)
        if not row.met_floor:
            short |= measured & (levels < target.floor)
        if not short.any():  # every interval at target, the weekly bound just below: the worst
            cut = np.nanquantile(levels[measured], 0.25) if measured.any() else np.inf
            short = measured & (levels <= cut)
        for pool in pools_of.get(row.channel, []):
            if pool.name not in planner.required:
                continue
            required = planner.required[pool.name]
            raised = np.maximum(required + 1, np.ceil(required * (1 + RAISE) - 1e-9))
            required[short] = raised[short]


def _lower_requirements(search: _Search, x: np.ndarray, evaluation: Evaluation):
    """Step 5: lower each pool's requirement where its channels have slack, re-solve, and keep
    the plan if every target still holds.

    The raise works in 10% steps, so a large pool ends well above its targets; taking one
    agent at a time from it would need hundreds of simulations. Here a pool's requirement
    drops by ``step`` (8% to start) in the intervals where every channel of the pool is at or
    above its target, and the integer program re-solves; a lowering that breaks a target is
    undone, and once no pool can give at the current step the step halves, down to 1%.
    Small pools (one or two agents a night) are unchanged by the rounding up and are left
    to the trim that follows. A lowering the same shifts still cover is kept
    without a simulation (the next step starts from it).
    """
    planner = search.planner
    step = LOWER_START
    while step >= LOWER_END - 1e-12:
        lowered = False
        for pool in planner.pools:
            if pool.name not in planner.required:
                continue
            before = planner.required[pool.name]
            after = before.copy()
            slack = _slack_intervals(planner, evaluation, pool)
            after[slack] = np.ceil(before[slack] * (1 - step) - 1e-9)
            after = np.maximum(after, planner.floors[pool.name])  # never under the caps
            if np.array_equal(after, before):
                continue
            planner.required[pool.name] = after
            trial = search.solve(f"lower {pool.name} by {step:.0%}").headcounts.copy()
            if np.array_equal(trial, x):  # the same shifts still cover it: nothing to judge
                continue
            if search.cost(trial) >= search.cost(x) - 1e-9:  # a re-solve within the gap
                planner.required[pool.name] = before
                continue
            result = search.judge(trial, "lower") if planner.part_time_ok(trial) else None
            if result is not None and result.met:
                x, evaluation, lowered = trial, result, True
                search.say(_line(f"lower {pool.name} by {step:.0%}", search.cost(x), evaluation))
            else:
                planner.required[pool.name] = before
        if not lowered:
            step /= 2
    return x, evaluation


def _slack_intervals(planner, evaluation, pool) -> np.ndarray:
    """Intervals where every channel of ``pool`` with demand is at or above its target."""
    n = len(planner.calendar.slots)
    slack = np.ones(n, dtype=bool)
    for name in pool.judged:
        own = evaluation.intervals[evaluation.intervals.channel == name]
        levels = np.full(n, np.inf)
        levels[own["interval"].to_numpy(int)] = own["sl"].fillna(np.inf).to_numpy(float)
        slack &= levels >= planner.targets.channels[channel_of(name)].target
    return slack


def _line(step: str, cost: float, evaluation: Evaluation) -> str:
    levels = ", ".join(
        f"{row.channel} {row.service_level:.1%} (low {row.low:.1%}, floor {row.share_at_floor:.0%})"
        for row in evaluation.channels.itertuples()
    )
    return f"{step}: cost {cost:,.0f}; {levels}"
