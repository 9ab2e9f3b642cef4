"""Trimming a plan that meets every target: agents taken from the shifts with most room.

After the pools' requirements are lowered (:mod:`ccsim.planning.search`, step 5) a plan
still carries whole shifts of margin, because the covering program rounds each pool up in
every interval. Taking them one shift at a time, each removal judged by a simulation, is
what made the search slow: on a plan of 170 templates a pass is 170 simulations, nearly
all of which fail (the dearest templates are those of the tightest pool, tier 2).

Here one simulation's per-interval figures rank the templates instead. A template's
**room** is the least, over the intervals it puts agents on the floor and the channels (and
shares) its site answers, of the interval's service level above its target times the
site's agents on the floor then (one agent fewer moves a pool of 300 far less than a pool
of 3); an interval where no contact was counted has no room known (0). A template whose
every interval is well above target can give an agent; one that touches an interval at the
floor cannot. Removals go in that order, one template first, then batches that double while
every target still holds on the same replications (common random numbers) and halve on a
miss, re-ranked from the simulation of each plan kept. A template that fails alone is left;
``PATIENCE`` such failures in a row end the trimming: those after them have less room (by
the figures the ranking was made on, an estimate, hence more than one try). A trim is thus
about ``log2`` of the agents removed plus a few failures, instead of one simulation per
template.
"""

from __future__ import annotations

import math

import numpy as np

from ccsim.planning.shares import channel_of

__all__ = ["template_slack", "trim"]

#: Most templates taken from at once: a larger batch that fails wastes a simulation on
#: removals that would mostly have passed alone.
MAX_BATCH = 32
#: Templates that may fail alone, in a row, before the trimming ends: the ranking is by
#: one simulation's estimates, and the next template is sometimes the one that can give.
PATIENCE = 2


def template_slack(planner, x: np.ndarray, evaluation) -> np.ndarray:
    """Per template of ``planner``: the least room, over the intervals it covers and the
    channels (and shares) its site answers, in ``evaluation``'s per-interval figures of
    headcounts ``x``. An interval's room is its service level above target times the agents
    its site has on the floor then: one agent fewer in a pool of 300 moves the service level
    far less than one in a pool of 3. An interval without a contact counted has no room
    known (0); one outside the figures (the warm-up) does not count."""
    n = len(planner.calendar.slots)
    margins: dict[str, np.ndarray] = {}
    for name in {name for pool in planner.pools for name in pool.judged}:
        own = evaluation.intervals[evaluation.intervals.channel == name]
        target = planner.targets.channels[channel_of(name)].target
        levels = np.full(n, np.inf)
        levels[own["interval"].to_numpy(int)] = own["sl"].fillna(target).to_numpy(float)
        margins[name] = levels - target
    on_floor = {
        site: planner.coverage[planner.site_of == site].T @ x[planner.site_of == site]
        for site in planner.staffed_sites
    }
    slack = np.full(len(planner.candidates), np.inf)
    for j, site in enumerate(planner.site_of):
        covered = planner.coverage[j] > 0
        for pool in planner.pools:
            if site not in pool.sites:
                continue
            for name in pool.judged:
                # inf room (no figure) times no agent is NaN: none known
                with np.errstate(invalid="ignore", over="ignore"):
                    room = np.nan_to_num(margins[name] * on_floor[site], nan=0.0)[covered]
                slack[j] = min(slack[j], float(np.min(room, initial=np.inf)))
    return np.where(np.isinf(slack), 0.0, slack)  # no interval in the figures: none known


def _ranked(planner, x: np.ndarray, evaluation) -> list[tuple[int, float]]:
    """Templates that can give one agent alone (a headcount, the part-time share and the
    occupancy floors allow it) with their room, most first, the dearer first between
    equals."""
    slack = template_slack(planner, x, evaluation)
    order = []
    for j in np.flatnonzero(x > 0):
        trial = x.copy()
        trial[j] -= 1
        if planner.part_time_ok(trial) and planner.within_caps(trial):
            order.append((int(j), round(float(slack[j]), 3)))
    return sorted(order, key=lambda item: (-item[1], -planner.costs[item[0]]))


def trim(search, x: np.ndarray, evaluation, max_simulations: int | None):
    """Remove agents from ``x`` while every target holds, by the ranking of the module
    docstring; ``search`` judges (:class:`ccsim.planning.search`'s bookkeeping). Returns the
    headcounts, their evaluation and whether the trimming reached its end (``PATIENCE``
    templates in a row failed alone and the next has less room, or none is left that can
    give an agent), not ``max_simulations``."""
    planner = search.planner
    budget = math.inf if max_simulations is None else max_simulations
    used, removed, size, failed, last_room = 0, 0, 1, 0, math.inf
    queue = _ranked(planner, x, evaluation)
    # Failures end it only where the ranking says the rest have less room: templates as
    # roomy as the last that failed (often none known, 0) are told apart by nothing.
    while queue and (failed < PATIENCE or queue[0][1] >= last_room):
        if used >= budget:
            search.say(search.line(f"trimming stopped after {used} simulations", x, evaluation))
            return x, evaluation, False
        trial = x.copy()
        group = [j for j, _ in queue[:size]]
        trial[group] -= 1
        result = None
        if planner.part_time_ok(trial) and planner.within_caps(trial):
            used += 1
            result = search.judge(trial, "trim")
        if result is not None and result.met:
            x, evaluation, removed, failed = trial, result, removed + len(group), 0
            last_room = math.inf
            size = min(2 * size, MAX_BATCH)
            queue = _ranked(planner, x, evaluation)
        elif len(group) > 1:
            size = max(1, len(group) // 2)
        else:  # the template with most room left cannot give an agent
            failed += 1
            last_room = queue.pop(0)[1]
    search.say(search.line(f"trim: {removed} agents removed in {used} simulations", x, evaluation))
    return x, evaluation, True
