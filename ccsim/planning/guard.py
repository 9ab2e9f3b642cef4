"""A guard against optimisation bias: the search's plan judged on replications it never used.

The lowering and the trim of the search (:mod:`ccsim.planning.search`, steps 5 and 6) keep a
removal when every target still holds on the search's own replications (common random
numbers). Among the removals tried, those kept are the ones whose replications happened to
be kind: the plan ends at the edge of the targets *there*, and the margin the trim takes is
partly the noise of those replications (optimisation bias). It does not make a plan pass
the study, which judges the same way on other, fewer replications (docs/metrics.md, "The
study's verdict and the search's"): the hybrid's trimmed plan held email's interval floor in
100% of intervals on 20 replications of the study's own seed and in 86.9% on their first 8,
the study's.

:func:`fresh_check` judges the final plan once more, on as many replications of another seed
(``seed + 1`` by default) that no step of the search saw. If a target fails there, it gives
back the kept removals in reverse order (the trim's last batch first, then the one before,
then the lowerings), judging each plan on the fresh replications, and keeps the first that
passes: the cheapest of the search's own plans that both seeds accept. If even the plan
before any removal fails there, the raise's plan itself is short of its targets on other
replications; the check says so and keeps the final plan (giving back removals would not
mend it): more replications (``--reps``) are the remedy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ccsim.planning.targets import Evaluation

__all__ = ["FreshCheck", "counted", "fresh_check", "missed"]


def counted(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1: "1 simulation", "2 removals"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class FreshCheck:
    """The guard's verdict. ``seed``: the fresh replications' (``reps`` of them, as many as
    the search's). ``evaluation``: the plan kept, judged on them; ``met``: every target
    holds there. ``simulations``: the guard's. ``steps_given_back``: kept removals undone
    (batches of the trim, lowerings); ``agents_given_back`` and ``cost_given_back``: what
    they put back (agent-shifts of the horizon, pay over the horizon)."""

    seed: int
    reps: int
    evaluation: Evaluation
    met: bool
    simulations: int
    steps_given_back: int
    agents_given_back: int
    cost_given_back: float

    def summary(self, currency: str) -> str:
        """One line: what the guard took and gave back, and its verdict."""
        verdict = "met" if self.met else "MISSED even before any removal"
        given = (
            f"gave back {counted(self.agents_given_back, 'agent-shift')} in "
            f"{counted(self.steps_given_back, 'removal')} "
            f"({self.cost_given_back:,.2f} {currency})"
            if self.steps_given_back
            else "gave back nothing"
        )
        return (
            f"fresh check on {self.reps} replications (seed {self.seed}): {verdict}; "
            f"{counted(self.simulations, 'simulation')}, {given}"
        )


def missed(evaluation: Evaluation) -> str:
    """The targets ``evaluation`` misses, as ``channel weekly/floor``, for the terminal."""
    rows = evaluation.channels[~evaluation.channels["met"]]
    return ", ".join(
        f"{row.channel} {'weekly' if not row.met_weekly else 'floor'}" for row in rows.itertuples()
    )


def fresh_check(search, kept: list[tuple[np.ndarray, Evaluation]], seed: int):
    """Judge the last plan of ``kept`` (every plan the search kept, in order, with its
    evaluation on the search's replications) on ``search.reps`` replications of ``seed``,
    and give back kept removals, last first, until a plan passes there (module docstring).
    ``search`` judges (``judge(x, phase, seed=...)``) and tells (``say``). Returns the
    headcounts, their evaluation on the search's replications, and the :class:`FreshCheck`."""
    final, final_evaluation = kept[-1]
    simulations, fresh_final = 0, None
    tried: list[np.ndarray] = []
    for back in range(len(kept) - 1, -1, -1):
        x, evaluation = kept[back]
        if any(np.array_equal(x, other) for other in tried):
            continue  # a lowering the same shifts covered: judged already
        tried.append(x)
        fresh = search.judge(x, "guard", seed=seed)
        simulations += 1
        fresh_final = fresh if fresh_final is None else fresh_final
        steps = len(kept) - 1 - back
        if fresh.met:
            return x, evaluation, _check(search, seed, fresh, final, x, simulations, steps)
        search.say(f"guard: {_given(steps)} misses on seed {seed}: {missed(fresh)}")
    # Even the plan before any removal misses on fresh replications: the removals are not
    # what is wrong, so none is given back.
    return final, final_evaluation, _check(search, seed, fresh_final, final, final, simulations, 0)


def _given(steps: int) -> str:
    return "the plan" if steps == 0 else f"with {steps} removals given back, the plan"


def _check(search, seed, fresh, final, x, simulations, steps) -> FreshCheck:
    return FreshCheck(
        seed=seed,
        reps=search.reps,
        evaluation=fresh,
        met=bool(fresh.met),
        simulations=simulations,
        steps_given_back=steps,
        agents_given_back=int(round(float(x.sum() - final.sum()))),
        cost_given_back=float(search.cost(x) - search.cost(final)),
    )
