"""Hybrid benchmark: bot, three tiers and three channels, in ccsim and in its textbook twin.

The hybrid model: voice (lines, retrials, call backs, a voice bot), chat (a bot, three chats
per agent with stretch, silent abandonment) and email (deferred, with backlog) on an
offshore tier-1 site; unresolved contacts escalate to an onshore tier 2 and then to
specialists; customers the bot falsely contained come back. Contacts per CPU second count
every contact the engine handled: new arrivals, bot sessions that ended in the bot,
retrials, returns, transfers and call backs (``offered`` over every channel). The yardstick
(issue #29) is the same model written the textbook SimPy way (``twins/hybrid.py``), run for
the same horizon and seeds in turn with ccsim: target ccsim >= 5x its twin per CPU second.
(The earlier target, the hybrid within 1.5x of the single queue, is retired: it compared
two different models.)

    python benchmarks/bench_hybrid.py [--days D] [--reps R] [--json OUT] [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench_engine import machine_facts

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ccsim  # noqa: E402


def _exp(mean: str) -> dict:
    return {"dist": "exponential", "mean": mean}


def hybrid(days: float) -> ccsim.Scenario:
    bot = {
        "handle_time": {"dist": "gamma", "mean": "2min", "cv": 0.8},
        "containment": 0.3,
        "false_containment": 0.15,
        "return_delay": _exp("4h"),
        "handle_time_multiplier": 1.15,
        "patience_multiplier": 0.75,
        "cost_per_session": 0.99,
    }
    channels = {
        "voice": {
            "arrivals": {"rate": "9/min"},
            "handle_time": {"dist": "lognormal", "mean": "390s", "cv": 0.9},
            "patience": _exp("180s"),
            "service_level": {"threshold": "20s", "target": 0.8},
            "lines": 120,
            "retrial": {"probability": 0.4, "delay": _exp("10min")},
            "callback": {"threshold": "3min", "acceptance": 0.5, "deadline": "2h"},
            "bot": {
                **bot,
                "share": 0.5,
                "containment": 0.15,
                "cost_per_session": 0.0,
                "cost_per_minute": 0.12,
            },
            "resolution": 0.7,
            "escalation": "tier2",
            "repeat": {"probability": 0.4, "delay": _exp("1d")},
        },
        "chat": {
            "kind": "chat",
            "arrivals": {"rate": "5/min"},
            "handle_time": {"dist": "gamma", "mean": "600s", "cv": 0.7},
            "patience": _exp("300s"),
            "service_level": {"threshold": "60s", "target": 0.8},
            "concurrency": 3,
            "stretch": 0.2,
            "bot": bot,
            "silent_abandonment": {"share": 0.3, "handle_time": _exp("30s")},
            "resolution": 0.8,
            "escalation": "tier2",
        },
        "email": {
            "kind": "email",
            "arrivals": {"rate": "1.5/min"},
            "handle_time": {"dist": "gamma", "mean": "420s", "cv": 0.6},
            "service_level": {"threshold": "24h", "target": 0.9},
            "resolution": 0.9,
            "escalation": "tier2",
        },
        "tier2": {
            "handle_time": {"dist": "lognormal", "mean": "600s", "cv": 0.8},
            "patience": _exp("300s"),
            "service_level": {"threshold": "30s", "target": 0.8},
            "priority": 1,
            "resolution": 0.8,
            "escalation": "specialist",
        },
        "specialist": {
            "handle_time": {"dist": "lognormal", "mean": "900s", "cv": 0.7},
            "service_level": {"threshold": "60s", "target": 0.8},
            "priority": 2,
        },
    }
    sites = [
        {
            "name": "manila",
            "location": "offshore",
            "timezone": "Asia/Manila",
            "cost_per_hour": 13,
            "agents": 100,
            "skills": ["voice", "chat", "email"],
            "proficiency": {"voice": 1.1},
        },
        {
            "name": "dallas",
            "location": "onshore",
            "timezone": "America/Chicago",
            "cost_per_hour": 38,
            "agents": 38,
            "skills": ["tier2", "specialist"],
        },
        {
            "name": "specialists",
            "location": "onshore",
            "cost_per_hour": 55,
            "agents": 8,
            "skills": ["specialist"],
        },
    ]
    return ccsim.parse_scenario(
        {"name": "hybrid", "horizon": f"{days:g}d", "channels": channels, "sites": sites},
        source="benchmark",
    )


def main(argv: list[str] | None = None) -> int:
    # Here, not at the top: twins imports this module for the scenario.
    from bench_twins import TARGET, measure
    from twins import MODELS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=7, help="horizon (default 7)")
    ap.add_argument("--reps", type=int, default=2, help="seeds, each run by both (default 2)")
    ap.add_argument("--json", metavar="OUT", help="write the figures as JSON")
    ap.add_argument("--check", action="store_true", help="exit 1 if the target is missed")
    args = ap.parse_args(argv)

    print("machine: " + ", ".join(f"{k}={v}" for k, v in machine_facts().items()))
    model = next(m for m in MODELS if m.name == "hybrid week")
    row = measure(model, args.days, args.reps)
    for name in ("ccsim", "twin"):
        r = row[name]
        print(
            f"{name:<6} {args.days:g} d x {args.reps}: {r['contacts']:,} contacts, "
            f"{r['cpu_s']:.2f} CPU s, {r['per_cpu_s']:,.0f} contacts per CPU second"
        )
    ok = row["ratio"] >= TARGET
    print(f"{'PASS' if ok else 'FAIL'}: ccsim / twin {row['ratio']:.2f}x (target >= {TARGET:g}x)")
    if args.json:
        Path(args.json).write_text(json.dumps(row, indent=2))
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
