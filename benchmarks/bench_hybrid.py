"""Hybrid benchmark: bot, three tiers and three channels against the single queue.

The hybrid model: voice (lines, retrials, call backs, a voice bot), chat (a bot, three chats
per agent with stretch, silent abandonment) and email (deferred, with backlog) on an
offshore tier-1 site; unresolved contacts escalate to an onshore tier 2 and then to
specialists; unresolved customers come back. Contacts per CPU second count every contact
the engine handled: new arrivals, bot sessions that ended in the bot, retrials, repeats,
transfers and call backs (``offered`` over every channel). The single-queue model is the
engine benchmark's M/M/50+M. The two are run in turn (A, B, A, B, ...), best of --repeat.
Target: the hybrid within 1.5x of the single queue per contact (per CPU second).

    python benchmarks/bench_hybrid.py [--days D] [--repeat R] [--json OUT]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench_engine import machine_facts, mmc_scenario_dict
from bench_multisite import print_rates, rates, write_figures

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ccsim  # noqa: E402

TARGET_FACTOR = 1.5


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
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=3, help="hybrid horizon (default 3)")
    ap.add_argument("--repeat", type=int, default=5, help="repeats; best times are kept")
    ap.add_argument("--json", metavar="OUT", help="write the figures as JSON")
    args = ap.parse_args(argv)

    print("machine: " + ", ".join(f"{k}={v}" for k, v in machine_facts().items()))
    single_queue = ccsim.parse_scenario(mmc_scenario_dict(100), source="benchmark")
    single, mixed = rates([single_queue, hybrid(args.days)], args.repeat)
    factor = single["contacts_per_cpu_s"] / mixed["contacts_per_cpu_s"]
    print_rates(
        [
            ("single queue M/M/50+M, 100 h", single),
            (f"hybrid: bot, 3 tiers, 3 channels, {args.days:g} d", mixed),
        ]
    )
    print(f"single / hybrid, per CPU second: {factor:.2f}x")
    print(f"{'PASS' if factor <= TARGET_FACTOR else 'FAIL'}: hybrid within {TARGET_FACTOR:g}x")
    kpis = mixed["kpis"]
    print(
        "hybrid: "
        + ", ".join(
            f"{ch} SL {row.service_level:.1%}"
            for ch, row in kpis.iterrows()
            if ch not in ("all", "voice:callback")
        )
        + f"; containment {kpis.loc['all', 'containment_rate']:.1%}, "
        f"FCR {kpis.loc['all', 'fcr']:.1%}, "
        f"cost per resolved contact {kpis.loc['all', 'cost_per_resolved_contact']:.2f}"
    )
    if args.json:
        write_figures(args.json, {"single": single, "hybrid": mixed}, factor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
