"""Staff each operating model for the same service targets with ccsim's staffing planner.

For each design in ``configs/models/design/`` (sites, skills, costs, AI; demand from
``configs/models/_demand.yaml``) this script

1. works out, per channel and half hour, the agents required to meet the channel's own
   service-level objective (Erlang A, ``ccsim.planning.staffing.agents_for_service_level``) for the
   contacts that reach humans: arrivals less what the bot truly contains, handle times and
   patience after a failed bot and agent assist, chats as ``concurrency`` servers per agent
   each slowed by the stretch, email as its workload at 90% occupancy, tier 2 fed by what
   tier 1 leaves unresolved;
2. chooses the cheapest shifts covering that requirement at every site that may answer
   (``ccsim.planning.scheduling.schedule_shifts``: 8.5-hour shifts starting on the hour, per local
   weekday, an integer program);
3. simulates the staffed model (``--reps`` replications) and, for every channel whose service
   level over the week misses its target, raises that channel's requirement by 10% and goes
   back to 2 (at most ``--rounds`` times);
4. writes ``configs/models/<model>.yaml``: ``extends`` the design, with the chosen shifts.

So every model is staffed to the same targets over the week by the same method; the
interval-by-interval service level is what the experiment then measures.

    python scripts/staff_operating_models.py [MODEL ...] [--reps 8] [--rounds 4]
        [--designs configs/claims/design --out configs/claims]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ccsim  # noqa: E402
from ccsim.planning.scheduling import candidate_shifts, schedule_shifts  # noqa: E402
from ccsim.planning.staffing import agents_for_service_level  # noqa: E402
from ccsim.sim.arrivals import interval_rates  # noqa: E402

DESIGNS = ROOT / "configs" / "models" / "design"
MODELS = ROOT / "configs" / "models"
EMAIL_OCCUPANCY = 0.9


def _human_share(channel) -> tuple[float, float, float]:
    """(share of arrivals that reach humans, handle-time factor, patience factor)."""
    bot = channel.bot
    if bot is None:
        return 1.0, channel.agent_assist, 1.0
    reach = 1.0 - bot.share * bot.containment  # falsely contained come back
    handed = bot.share * (1.0 - bot.containment - bot.false_containment) / reach
    handle = (handed * bot.handle_time_multiplier + (1.0 - handed)) * channel.agent_assist
    patience = handed * bot.patience_multiplier + (1.0 - handed)
    return reach, handle, patience


def _resolution(scenario: ccsim.Scenario, name: str) -> float:
    """The lowest resolution among the sites that answer ``name`` (planning on the safe side)."""
    channel = scenario.channels[name]
    values = [
        site.resolution.get(name, channel.resolution)
        for site in scenario.sites
        if site.serves(name)
    ]
    return min(values) if values else channel.resolution


def requirements(scenario: ccsim.Scenario, uplift: dict[str, float]) -> pd.DataFrame:
    calendar = scenario.calendar()
    n = len(calendar.slots)
    rows, tier_rates = [], {}
    escalated = np.zeros(n)
    for name, channel in scenario.channels.items():
        if channel.arrivals is None:
            continue
        reach, handle, patience = _human_share(channel)
        rates = np.asarray(interval_rates(channel.arrivals, calendar), dtype=float) * reach
        escalated += rates * (1.0 - _resolution(scenario, name))
        aht = channel.handle_time.expected() * handle
        tier_rates[name] = (rates, aht, patience)
    tier2 = next(n for n, c in scenario.channels.items() if c.arrivals is None)
    spec = scenario.channels[tier2]
    tier_rates[tier2] = (escalated, spec.handle_time.expected() * spec.agent_assist, 1.0)
    for name, (rates, aht, patience_factor) in tier_rates.items():
        channel = scenario.channels[name]
        objective = channel.service_level
        patience = (
            channel.patience.expected() * patience_factor if channel.patience is not None else None
        )
        servers = 1
        if channel.kind == "chat":
            servers = channel.concurrency
            aht *= 1.0 + channel.stretch * (channel.concurrency - 1)
        solved: dict[float, int] = {}
        for k, rate in enumerate(rates):
            if channel.kind == "email":
                need = math.ceil(rate * aht / EMAIL_OCCUPANCY - 1e-9)
            else:
                if rate not in solved:
                    solved[rate] = agents_for_service_level(
                        rate, aht, objective.threshold, objective.target, patience
                    )
                need = math.ceil(solved[rate] / servers)
            rows.append(
                {
                    "interval": k,
                    "channel": name,
                    "required": math.ceil(need * uplift.get(name, 1.0)),
                }
            )
    return pd.DataFrame(rows)


def weekly_service_levels(scenario: ccsim.Scenario, reps: int) -> dict[str, float]:
    table = ccsim.run_replications(scenario, reps, seed=99, n_jobs=2)
    table = table[table.site == "all"]
    sums = table.groupby("channel")[
        ["answered_within_threshold", "answered", "abandoned", "carried_over"]
    ].sum()
    return (
        sums.answered_within_threshold / sums[["answered", "abandoned", "carried_over"]].sum(axis=1)
    ).to_dict()


def staff(name: str, reps: int, rounds: int, designs: Path = DESIGNS, out: Path = MODELS) -> None:
    design_path = designs / f"{name}.yaml"
    design = ccsim.load_scenario(design_path)
    candidates = candidate_shifts(design, lengths=(8.5 * 3600,), step=3600)
    uplift: dict[str, float] = {}
    for round_ in range(1, rounds + 1):
        started = time.perf_counter()
        schedule = schedule_shifts(design, requirements(design, uplift), candidates, time_limit=60)
        levels = weekly_service_levels(schedule.scenario, reps)
        missed = {
            c: v
            for c, v in levels.items()
            if c in design.channels and v < design.channels[c].service_level.target
        }
        print(
            f"{name} round {round_}: cost {schedule.cost:,.0f}, "
            f"{time.perf_counter() - started:.0f}s, weekly SL "
            + ", ".join(f"{c} {v:.1%}" for c, v in levels.items() if c != "all"),
            flush=True,
        )
        if not missed:
            break
        for channel in missed:
            uplift[channel] = uplift.get(channel, 1.0) * 1.1
    sites = [
        site.model_dump(mode="json", exclude_defaults=True) for site in schedule.scenario.sites
    ]
    for site in sites:
        site.pop("agents", None)
        for shift in site.get("shifts", []):
            shift["length"] = f"{shift['length'] / 3600:g}h"
            for item in shift.get("breaks", []):
                for key in ("after", "length", "within"):
                    if key in item:
                        item[key] = f"{item[key] / 60:g}min"
    header = (
        f"# {design.description}\n"
        f"# Staffed by scripts/staff_operating_models.py: the cheapest 8.5-hour shifts covering\n"
        f"# the Erlang A requirement of every channel, raised where a {reps}-replication check\n"
        f"# missed a channel's weekly target (uplift: "
        + (", ".join(f"{c} x{u:.2f}" for c, u in uplift.items()) or "none")
        + f"). Weekly cost of the schedule: {schedule.cost:,.0f}.\n"
    )
    body = yaml.safe_dump(
        {"extends": f"design/{name}.yaml", "sites": sites},
        sort_keys=False,
        width=100,
        default_flow_style=None,
    )
    from ccsim.experiment.store import write_text

    write_text(out / f"{name}.yaml", header + body)
    print(f"wrote {out / f'{name}.yaml'}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", help="default: every design")
    ap.add_argument("--reps", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--designs", type=Path, default=DESIGNS, help="folder of design files")
    ap.add_argument("--out", type=Path, default=MODELS, help="where staffed models go")
    args = ap.parse_args(argv)
    names = args.models or sorted(p.stem for p in args.designs.glob("*.yaml"))
    for name in names:
        staff(name, args.reps, args.rounds, args.designs, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
