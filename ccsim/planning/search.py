"""Staffing a whole scenario at least cost, with simulation as the judge.

:func:`staff_scenario` chooses headcounts on the shift templates of every site so that
every channel meets its :class:`~ccsim.planning.targets.Targets`, and no shift can be
removed without missing one:

0. **Templates.** A site with constant ``agents`` (a placeholder) is offered the templates of
   a :class:`ShiftOffer`; a site with ``shifts`` offers its own, headcounts to be chosen.
1. **Seed.** A requirement per *pool* and interval: a pool is the channels that the same
   sites answer (a multi-skill site's channels form one). Each channel's human traffic is
   what its bot leaves (true containment removed, handle time and patience multiplied after a
   failed bot, agent assist), chats as ``concurrency`` slots per agent each slowed by the
   stretch, tiers fed by what the channels before them leave unresolved, returns of
   unresolved customers as a geometric series; its dedicated requirement is Erlang A (email:
   its workload at 90% occupancy). A pool needs its total load plus the square root of the sum
   of the squared safety staffings of its channels (the square-root law: safety grows with the
   root of the load, so pooled channels share it), and never less than its largest channel.
2. **Cover** the requirement at least cost (:mod:`ccsim.planning.program`), per site over the
   pools it serves.
3. **Judge** the schedule by simulation, ``reps`` replications with the same seeds every time
   (common random numbers): :func:`ccsim.planning.targets.evaluate`.
4. **Raise** where a channel misses: for a weekly miss, its pool's requirement in the
   intervals below the target; for an interval-floor miss, in the intervals below the floor;
   by 10% (one agent at least). Back to 2.
5. **Lower** large pools once every target holds: a pool's requirement drops by 8% (then 4,
   2, 1%) in the intervals where its channels are at target, the program re-solves, and the
   plan is kept if every target still holds (:func:`_lower_requirements`).
6. **Trim**: take one agent from several templates in use at once,
   dearest first, keeping the removal if every target still holds on the same replications;
   on a failure try fewer at once, down to one template, which is then left alone for the
   pass (adaptive group testing, :func:`_trim`). Passes repeat until one removes nothing:
   every template was then tried alone and failed, so the plan has no removable shift (on
   those replications).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ccsim.model import ConfigError, Scenario, parse_scenario
from ccsim.model.calendar import WEEKDAYS
from ccsim.model.units import format_duration
from ccsim.planning import program
from ccsim.planning.coverage import TemplateCoverage, template_coverage
from ccsim.planning.program import Demand, Solution
from ccsim.planning.staffing import agents_for_service_level
from ccsim.planning.targets import Evaluation, Targets, evaluate
from ccsim.planning.templates import Candidate, ShiftOffer, offer_candidates, with_break_rules
from ccsim.sim.arrivals import interval_rates

__all__ = [
    "StaffingPlan",
    "human_traffic",
    "occupancy_floors",
    "pool_requirements",
    "staff_scenario",
]

#: Occupancy at which email (deferred work) is planned when it has a pool of its own.
EMAIL_OCCUPANCY = 0.9
#: The raise of a pool's requirement in an interval that misses.
RAISE = 0.10
#: The first and the last step by which a pool's requirement is lowered where it has slack.
LOWER_START, LOWER_END = 0.08, 0.01


@dataclass(frozen=True)
class Traffic:
    """What reaches the humans of one channel: arrival rate per interval (per second), mean
    handle time at proficiency 1, exponential patience (None: never abandons), chats held at
    once, and whether it is deferred work (email)."""

    rates: np.ndarray
    aht: float
    patience: float | None
    servers: int
    deferred: bool

    @property
    def loads(self) -> np.ndarray:
        """Offered load per interval, in agents."""
        return self.rates * self.aht / self.servers


def _resolution(scenario: Scenario, name: str) -> float:
    """The lowest resolution among the sites that answer ``name`` (planning on the safe side)."""
    channel = scenario.channels[name]
    values = [
        site.resolution.get(name, channel.resolution) for site, _ in scenario.eligible_sites(name)
    ]
    return min(values) if values else channel.resolution


def human_traffic(scenario: Scenario) -> dict[str, Traffic]:
    """Per channel, the traffic that reaches its agents (see the module docstring, step 1)."""
    calendar = scenario.calendar()
    n = len(calendar.slots)
    inflow: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(n))
    traffic: dict[str, Traffic] = {}
    pending = list(scenario.channels)
    while pending:
        for name in list(pending):
            channel = scenario.channels[name]
            sources = [c for c, spec in scenario.channels.items() if spec.escalation == name]
            if any(source in pending for source in sources):
                continue  # a tier: after the channels that feed it
            pending.remove(name)
            handle, patience_factor, rates = channel.agent_assist, 1.0, inflow[name].copy()
            if channel.arrivals is not None:
                reach = 1.0
                bot = channel.bot
                if bot is not None:
                    # Falsely contained customers come back: only true containment is gone.
                    reach = 1.0 - bot.share * bot.containment
                    handed = bot.share * (1.0 - bot.containment - bot.false_containment) / reach
                    handle *= handed * bot.handle_time_multiplier + (1.0 - handed)
                    patience_factor = handed * bot.patience_multiplier + (1.0 - handed)
                rates = (
                    rates + np.asarray(interval_rates(channel.arrivals, calendar), float) * reach
                )
            unresolved = 1.0 - _resolution(scenario, name)
            if channel.escalation is not None:
                inflow[channel.escalation] += rates * unresolved
            elif channel.repeat is not None:  # returns: a geometric series of contacts
                rates = rates / (1.0 - unresolved * channel.repeat.probability)
            aht = channel.handle_time.expected() * handle
            servers = channel.concurrency if channel.kind == "chat" else 1
            if servers > 1:
                aht *= 1.0 + channel.stretch * (servers - 1)
            patience = (
                channel.patience.expected() * patience_factor
                if channel.patience is not None
                else None
            )
            traffic[name] = Traffic(rates, aht, patience, servers, channel.kind == "email")
    return traffic


def _dedicated(traffic: Traffic, target) -> np.ndarray:
    """Agents a channel would need as a pool of its own, per interval (fractional for chats)."""
    if traffic.deferred:
        return np.ceil(traffic.loads / EMAIL_OCCUPANCY - 1e-9)
    needed, solved = np.zeros(len(traffic.rates)), {}
    for k, rate in enumerate(traffic.rates):
        rate = float(rate)
        if rate <= 0:
            continue
        if rate not in solved:
            try:
                solved[rate] = agents_for_service_level(
                    rate, traffic.aht, target.threshold, target.target, traffic.patience
                )
            except ValueError:  # a target of 100%: no stationary staffing meets it
                solved[rate] = math.ceil(2 * rate * traffic.aht + 1)
        needed[k] = solved[rate] / traffic.servers
    return needed


@dataclass(frozen=True)
class Pool:
    """Channels answered by the same sites: covered together by those sites' agents."""

    channels: tuple[str, ...]
    sites: tuple[str, ...]

    @property
    def name(self) -> str:
        return "+".join(self.channels)


def pools(scenario: Scenario) -> list[Pool]:
    """The scenario's channels grouped by the sites that may answer them."""
    grouped: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for name in scenario.channels:
        sites = tuple(sorted(site.name for site, _ in scenario.eligible_sites(name)))
        grouped[sites].append(name)
    return [Pool(tuple(channels), sites) for sites, channels in grouped.items()]


def pool_requirements(
    scenario: Scenario, targets: Targets, traffic: dict[str, Traffic] | None = None
) -> dict[str, np.ndarray]:
    """The seed requirement of every pool, per interval: agents available at proficiency 1."""
    traffic = human_traffic(scenario) if traffic is None else traffic
    result = {}
    for pool in pools(scenario):
        loads, squares, largest = 0.0, 0.0, 0.0
        for name in pool.channels:
            need = _dedicated(traffic[name], targets.channels[name].service_level)
            load = traffic[name].loads
            loads = loads + load
            squares = squares + np.maximum(need - load, 0.0) ** 2
            largest = np.maximum(largest, need)
        result[pool.name] = np.ceil(np.maximum(largest, loads + np.sqrt(squares)) - 1e-9)
    for name, floor in occupancy_floors(scenario, targets, traffic).items():
        result[name] = np.maximum(result[name], floor)
    return result


def occupancy_floors(
    scenario: Scenario, targets: Targets, traffic: dict[str, Traffic] | None = None
) -> dict[str, np.ndarray]:
    """The agents each pool needs per interval for its occupancy caps: live load (voice,
    chat) over ``max_occupancy``, and all load with deferred work over
    ``max_occupancy_deferred``. Zero without a cap."""
    traffic = human_traffic(scenario) if traffic is None else traffic
    n = len(scenario.calendar().slots)
    floors = {}
    for pool in pools(scenario):
        floor = np.zeros(n)
        if targets.max_occupancy is not None:
            live = sum(
                (traffic[c].loads for c in pool.channels if not traffic[c].deferred), np.zeros(n)
            )
            every = sum((traffic[c].loads for c in pool.channels), np.zeros(n))
            floor = np.maximum(
                np.ceil(live / targets.max_occupancy - 1e-9),
                np.ceil(every / targets.max_occupancy_deferred - 1e-9),
            )
        floors[pool.name] = floor
    return floors


@dataclass(frozen=True)
class StaffingPlan:
    """A staffing of a whole scenario and its judgement.

    ``scenario``: the input with the chosen shifts (compact: a headcount per weekday per
    template). ``headcounts``: one row per template in use (site, start, length, days,
    part_time, headcount, cost_per_agent, cost). ``cost``: the schedule's pay over the
    horizon. ``evaluation``: the plan judged on the search's replications. ``met``: every
    target holds. ``trimmed``: trimming ran to the end (no removable shift), not stopped by
    its budget. ``solver_status`` and ``solver_gap`` of the last integer program, and
    ``time_limited``: whether any solve stopped at its time limit. ``history``: one row per
    simulation (phase, cost, met, service levels).
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


class _Planner:
    """The state of one search: candidates, their coverage and cost, and the scenario builder."""

    def __init__(self, scenario: Scenario, targets: Targets, offer: ShiftOffer) -> None:
        self.staffed_sites = [s.name for s in scenario.sites]
        self.scenario = targets.apply(with_break_rules(scenario))
        self.targets = targets
        self.offer = offer
        self.calendar = self.scenario.calendar()
        sites = {site.name: site for site in self.scenario.sites}
        self.candidates: list[Candidate] = [
            c for c in offer_candidates(self.scenario, offer) if c.site in self.staffed_sites
        ]
        self.templates: list[TemplateCoverage] = [
            template_coverage(sites[c.site], c.shift, self.calendar) for c in self.candidates
        ]
        self.coverage = np.array([t.coverage for t in self.templates])
        self.costs = np.array([t.cost for t in self.templates])
        self.paid = np.array([t.paid_hours for t in self.templates])
        self.part_time = np.array([c.part_time for c in self.candidates])
        self.site_of = np.array([c.site for c in self.candidates])
        self.bounds = offer.part_time_bounds(self.staffed_sites)
        self.pools = pools(self.scenario)
        traffic = human_traffic(self.scenario)
        self.loads = {name: t.loads.sum() for name, t in traffic.items()}
        self.required = pool_requirements(self.scenario, targets, traffic)
        self.floors = occupancy_floors(self.scenario, targets, traffic)

    def demands(self) -> list[Demand]:
        sites = {site.name: site for site in self.scenario.sites}
        demands = []
        for pool in self.pools:
            speed = {}
            for s in pool.sites:
                if s not in self.staffed_sites:
                    continue
                weights = [max(self.loads[c], 1e-12) for c in pool.channels]
                slowness = [sites[s].proficiency.get(c, 1.0) for c in pool.channels]
                speed[s] = sum(weights) / float(np.dot(weights, slowness))
            if speed:  # a pool only sites with shifts of their own answer is not planned
                demands.append(Demand(pool.name, self.required[pool.name], speed))
        return demands

    def solve(self, time_limit: float, mip_gap: float) -> Solution:
        return program.solve(
            self.staffed_sites,
            [c.site for c in self.candidates],
            self.coverage,
            self.costs,
            self.demands(),
            paid_hours=self.paid,
            part_time=self.part_time,
            part_time_bounds=self.bounds,
            time_limit=time_limit,
            mip_gap=mip_gap,
        )

    def within_caps(self, x: np.ndarray) -> bool:
        """Whether headcounts ``x`` still give every pool the agents its occupancy caps need:
        the available agents of its sites (at their speed) at or above the floor in every
        interval, and a site's own pools' floors together within what it has."""
        if self.targets.max_occupancy is None:
            return True
        available = {
            site: self.coverage[self.site_of == site].T @ x[self.site_of == site]
            for site in self.staffed_sites
        }
        own: dict[str, np.ndarray] = {}
        for demand in self.demands():
            floor = self.floors[demand.name]
            capacity = sum(available[s] * v for s, v in demand.speed.items())
            if np.any(capacity < floor - 1e-9):
                return False
            if len(demand.speed) == 1:
                ((site, speed),) = demand.speed.items()
                own[site] = own.get(site, 0.0) + floor / speed
        return all(np.all(available[s] >= need - 1e-9) for s, need in own.items())

    def part_time_ok(self, x: np.ndarray) -> bool:
        for site, (low, high) in self.bounds.items():
            at = np.array([c.site == site for c in self.candidates])
            hours = float(self.paid[at] @ x[at])
            part = float(self.paid[at & self.part_time] @ x[at & self.part_time])
            if hours > 0 and not low - 1e-9 <= part / hours <= high + 1e-9:
                return False
        return True

    def build(self, x: np.ndarray) -> Scenario:
        """The scenario with headcounts ``x`` on the candidates, in compact form."""
        data = self.scenario.model_dump(mode="json")
        by_site: dict[str, dict] = {s: {} for s in self.staffed_sites}
        for candidate, count in zip(self.candidates, x, strict=True):
            if count <= 0:
                continue
            shift = candidate.shift
            shifts = by_site[candidate.site]
            if len(shift.days) == 1 and not self.offer.tours:  # one weekday: merge the week
                key = (shift.start_minute, shift.length, "week")
                entry = shifts.setdefault(
                    key, {"start": shift.start, "length": shift.length, "headcount": {}}
                )
                entry["headcount"][shift.days[0]] = entry["headcount"].get(shift.days[0], 0) + int(
                    count
                )
            else:  # a tour, or a site's own template: one headcount for its days
                days = list(shift.days)
                if isinstance(shift.headcount, dict):  # the days it had staff on
                    days = [d for d in WEEKDAYS if shift.headcount.get(d, 0) > 0]
                key = (shift.start_minute, shift.length, tuple(days))
                entry = shifts.setdefault(
                    key,
                    {
                        "start": shift.start,
                        "length": shift.length,
                        "headcount": 0,
                        "days": list(days),
                    },
                )
                entry["headcount"] += int(count)
            if shift.breaks:
                entry["breaks"] = [b.model_dump(mode="json") for b in shift.breaks]
        for site in data["sites"]:
            if site["name"] in by_site:
                shifts = []
                for key in sorted(by_site[site["name"]], key=lambda k: (k[0], k[1], str(k[2]))):
                    entry = by_site[site["name"]][key]
                    if isinstance(entry["headcount"], dict):
                        entry["headcount"] = {
                            d: entry["headcount"][d] for d in WEEKDAYS if d in entry["headcount"]
                        }
                    shifts.append(entry)
                site["agents"], site["shifts"] = None, shifts
        return parse_scenario(data, source=f"<staffing of {self.scenario.name}>")

    def table(self, x: np.ndarray) -> pd.DataFrame:
        rows = [
            {
                "site": c.site,
                "start": c.shift.start,
                "length": format_duration(c.shift.length),
                "days": ",".join(c.shift.days),
                "part_time": bool(c.part_time),
                "headcount": int(h),
                "cost_per_agent": t.cost,
                "cost": t.cost * int(h),
            }
            for c, t, h in zip(self.candidates, self.templates, x, strict=True)
            if h > 0
        ]
        return pd.DataFrame(rows)


def _raise(planner: _Planner, evaluation: Evaluation) -> None:
    """Raise each missing channel's pool where the channel falls short (step 4)."""
    pool_of = {c: pool for pool in planner.pools for c in pool.channels}
    n = len(planner.calendar.slots)
    for row in evaluation.channels.itertuples():
        if row.met:
            continue
        levels = np.full(n, np.nan)
        own = evaluation.intervals[evaluation.intervals.channel == row.channel]
        levels[own["interval"].to_numpy(int)] = own["sl"].to_numpy(float)
        target = planner.targets.channels[row.channel]
        measured = ~np.isnan(levels)
        short = np.zeros(n, dtype=bool)
        if not row.met_weekly:
            short |= measured & (levels < target.target)
        if not row.met_floor:
            short |= measured & (levels < target.floor)
        if not short.any():  # every interval at target, the weekly bound just below: the worst
            cut = np.nanquantile(levels[measured], 0.25) if measured.any() else np.inf
            short = measured & (levels <= cut)
        required = planner.required[pool_of[row.channel].name]
        raised = np.maximum(required + 1, np.ceil(required * (1 + RAISE) - 1e-9))
        required[short] = raised[short]


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
) -> StaffingPlan:
    """Staff every site of ``scenario`` at least cost for ``targets`` (default: each channel's
    own objective, interval floor 15 points for 95% of intervals), by the search of the
    module docstring. A site with constant ``agents`` (a placeholder) gets the templates of
    ``offer``; a site with ``shifts`` offers its own, whose headcounts the search chooses.

    ``reps`` replications with ``seed`` judge every staffing (common random numbers);
    ``max_rounds`` bounds the raise loop; ``max_trim_simulations`` the trimming (None: until
    no shift can be removed). ``time_limit`` and ``mip_gap`` go to each integer program; a
    solve that stops at its time limit is flagged in the result (``time_limited``) and told
    to ``progress``, a function that receives one line per step.
    """
    started = time.perf_counter()
    say = progress or (lambda line: None)
    targets = Targets.of(scenario) if targets is None else targets
    for name in targets.channels:
        if name not in scenario.channels:
            raise ConfigError("", "targets", f"no channel {name!r} in the scenario")
    planner = _Planner(scenario, targets, ShiftOffer() if offer is None else offer)
    history: list[dict] = []
    time_limited, solution, evaluation, x = False, None, None, None

    def judge(candidate_x: np.ndarray, phase: str) -> Evaluation | None:
        try:
            staffed = planner.build(candidate_x)
        except ConfigError:  # e.g. a channel left without any agent: not a valid staffing
            return None
        result = evaluate(staffed, targets, reps, seed, n_jobs)
        history.append(
            {
                "phase": phase,
                "cost": float(planner.costs @ candidate_x),
                "agents": int(candidate_x.sum()),
                "met": result.met,
                **{f"{row.channel}_sl_low": row.low for row in result.channels.itertuples()},
                **{
                    f"{row.channel}_at_floor": row.share_at_floor
                    for row in result.channels.itertuples()
                },
            }
        )
        return result

    def solve(step: str) -> Solution:
        nonlocal time_limited, solution
        solution = planner.solve(time_limit, mip_gap)
        if solution.time_limited:
            time_limited = True
            say(
                f"{step}: the integer program stopped at its time limit "
                f"({time_limit:g}s), within {solution.mip_gap:.2%} of its lower bound"
            )
        return solution

    for round_ in range(1, max_rounds + 1):
        x = solve(f"round {round_}").headcounts.copy()
        evaluation = judge(x, f"raise {round_}")
        if evaluation is None:
            raise ConfigError("", "sites", "the schedule leaves a channel without agents")
        say(_line(f"round {round_}", planner.costs @ x, evaluation))
        if evaluation.met:
            break
        _raise(planner, evaluation)
    met = evaluation.met
    trimmed = False
    if met and trim:
        x, evaluation = _lower_requirements(planner, x, evaluation, judge, solve, say)
        x, evaluation, trimmed = _trim(planner, x, evaluation, judge, max_trim_simulations, say)
    if not met:
        say(f"the targets are not met after {max_rounds} rounds: the plan is the last one tried")
    return StaffingPlan(
        scenario=planner.build(x),
        headcounts=planner.table(x),
        cost=float(planner.costs @ x),
        evaluation=evaluation,
        met=met,
        trimmed=trimmed,
        solver_status=solution.status,
        solver_gap=solution.mip_gap,
        time_limited=time_limited,
        history=pd.DataFrame(history),
        simulations=len(history),
        elapsed=time.perf_counter() - started,
        pools=planner.pools,
    )


def _lower_requirements(planner, x, evaluation, judge, solve, say):
    """Step 5: lower each pool's requirement where its channels have slack, re-solve, and keep
    the plan if every target still holds.

    The raise works in 10% steps, so a large pool ends well above its targets; taking one
    agent at a time from it would need hundreds of simulations. Here a pool's requirement
    drops by ``step`` (8% to start) in the intervals where every channel of the pool is at or
    above its target, and the integer program re-solves; a lowering that breaks a target is
    undone, and once no pool can give at the current step the step halves, down to 1%.
    Small pools (one or two agents a night) are unchanged by the rounding up and are left
    to the shift-by-shift trim that follows. A lowering the same shifts still cover is kept
    without a simulation (the next step starts from it).
    """
    step = LOWER_START
    while step >= LOWER_END - 1e-12:
        lowered = False
        for pool in planner.pools:
            if pool.name not in planner.required:
                continue
            slack = _slack_intervals(planner, evaluation, pool)
            before = planner.required[pool.name]
            after = before.copy()
            after[slack] = np.ceil(before[slack] * (1 - step) - 1e-9)
            after = np.maximum(after, planner.floors[pool.name])  # never under the caps
            if np.array_equal(after, before):
                continue
            planner.required[pool.name] = after
            trial = solve(f"lower {pool.name} by {step:.0%}").headcounts.copy()
            if np.array_equal(trial, x):  # the same shifts still cover it: nothing to judge
                continue
            if planner.costs @ trial >= planner.costs @ x - 1e-9:  # a re-solve within the gap
                planner.required[pool.name] = before
                continue
            result = judge(trial, "lower") if planner.part_time_ok(trial) else None
            if result is not None and result.met:
                x, evaluation, lowered = trial, result, True
                say(_line(f"lower {pool.name} by {step:.0%}", planner.costs @ x, evaluation))
            else:
                planner.required[pool.name] = before
        if not lowered:
            step /= 2
    return x, evaluation


def _slack_intervals(planner, evaluation, pool) -> np.ndarray:
    """Intervals where every channel of ``pool`` with demand is at or above its target."""
    n = len(planner.calendar.slots)
    slack = np.ones(n, dtype=bool)
    for name in pool.channels:
        own = evaluation.intervals[evaluation.intervals.channel == name]
        levels = np.full(n, np.inf)
        levels[own["interval"].to_numpy(int)] = own["sl"].fillna(np.inf).to_numpy(float)
        slack &= levels >= planner.targets.channels[name].target
    return slack


def _trim(planner, x, evaluation, judge, max_simulations, say):
    """Step 6: remove agents while every target holds, by adaptive group testing.

    A pass queues the templates in use, dearest first, and tries taking one agent from each
    of the next ``size`` at once: if every target still holds, all go (and the group size
    doubles, the templates rejoin the queue's end); if not, the size halves, down to a
    single template, which leaves the queue when it cannot give an agent. Passes repeat
    until one removes nothing: then every template in use was tried alone and failed, so no
    single shift can be removed. Returns the headcounts, their evaluation and whether the
    trimming ran to that end (not stopped by ``max_simulations``).
    """
    budget = math.inf if max_simulations is None else max_simulations
    used = 0
    order = [int(j) for j in np.argsort(-planner.costs, kind="stable")]
    while True:
        queue, removed, size = [j for j in order if x[j] > 0], 0, 8
        while queue:
            if used >= budget:
                say(
                    _line(
                        f"trimming stopped after {used} simulations", planner.costs @ x, evaluation
                    )
                )
                return x, evaluation, False
            group = queue[:size]
            trial = x.copy()
            trial[group] -= 1
            result = None
            if planner.part_time_ok(trial) and planner.within_caps(trial):
                used += 1
                result = judge(trial, "trim")
            if result is not None and result.met:
                x, evaluation, removed = trial, result, removed + len(group)
                queue = queue[len(group) :] + [j for j in group if x[j] > 0]
                size = min(2 * size, 32)
            elif len(group) > 1:
                size = max(1, len(group) // 2)
            else:
                queue.pop(0)
        say(_line(f"trim pass: {removed} agents removed", planner.costs @ x, evaluation))
        if removed == 0:
            return x, evaluation, True


def _line(step: str, cost: float, evaluation: Evaluation) -> str:
    levels = ", ".join(
        f"{row.channel} {row.service_level:.1%} (low {row.low:.1%}, floor {row.share_at_floor:.0%})"
        for row in evaluation.channels.itertuples()
    )
    return f"{step}: cost {cost:,.0f}; {levels}"
