"""``ccsim erlang``: exact Erlang C (M/M/n) or Erlang A (M/M/n+M) figures for a few agent
counts, or the fewest agents that meet a service-level target.

A quick command: it loads the formulas and the KPI formats when run, nothing heavier.
"""

from __future__ import annotations

import math

from ccsim.cli.options import (
    add,
    add_command,
    duration,
    option,
    percent_or_share,
    positive_duration,
    share,
)
from ccsim.model.errors import UserError
from ccsim.model.units import format_duration, parse_rate

__all__ = ["add_parser", "erlang", "usage_error"]

#: The most agents in a row (Erlang B's recursion is linear in them) and the most rows, so
#: that a typo such as 1-10000000000 is an error, not a hang.
_MAX_AGENTS = 100_000
_MAX_ROWS = 200
#: The domain where the formulas are evaluated reliably and fast. Offered loads beyond the
#: largest need more agents than a table may list; patience beyond 10,000 handle times is no
#: abandonment to speak of (use Erlang C) and makes the Erlang A series slow (its terms grow
#: with n x patience / aht); below 1/10,000 of one, nobody waits at all.
_LOADS = (1e-6, 1e6)
_PATIENCE_RATIO = 1e4

#: The columns of the table (Erlang C leaves out what is zero without abandonment), and the
#: service-level definitions shown with --service-levels.
_COLUMNS = ("p_wait", "service_level", "asa", "occupancy", "mean_queue_length")
_ERLANG_A_COLUMNS = (
    "p_wait",
    "service_level",
    "asa",
    "mean_wait",
    "abandon_rate",
    "occupancy",
    "mean_queue_length",
)
_SERVICE_LEVELS = {
    "service_level": "of all queued",
    "service_level_answered": "of answered",
    "service_level_excl_short_abandons": "excl. short abandons",
}
_SERVICE_LEVEL_LEGEND = (
    "answered within the threshold, over: everyone who queued | the answered | "
    "all but short abandons"
)
#: Rows shown on either side of the answer when --target is given without --agents.
_AROUND = 3


def _agent_counts(text: str) -> list[int]:
    """``14``, ``12,14,16`` or a range ``12-16``."""
    counts: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        first, last = int(low), int(high or low)
        if first < 1 or last < first:
            raise ValueError(f"expected agents like 14, 12,14 or 12-16, got {text!r}")
        if last > _MAX_AGENTS:
            raise ValueError(f"at most {_MAX_AGENTS:,} agents, got {last:,}")
        if len(counts) + last - first + 1 > _MAX_ROWS:
            raise ValueError(f"at most {_MAX_ROWS:,} agent counts in one table")
        counts.extend(range(first, last + 1))
    return counts


def _service_target(text: str) -> tuple[float, float]:
    """``80/20s`` (or ``80%/20s``): (0.8, 20.0), the share and the threshold in seconds."""
    wanted, slash, threshold = str(text).partition("/")
    if not slash:
        raise ValueError(f"expected a target like 80/20s (80% within 20 seconds), got {text!r}")
    percent = float(wanted.strip().rstrip("%"))
    if not 0 < percent <= 100:
        raise ValueError(f"the share must be in (0, 100] percent, got {text!r}")
    return percent / 100, duration(threshold.strip())


def _shrinkage(text: str) -> float:
    """``30%`` or ``0.3``: a share of paid time off the phones, in [0, 1)."""
    value = percent_or_share(text)
    if not 0 <= value < 1:
        raise ValueError(f"must be in [0, 1) (or 0% to 99%), got {text!r}")
    return value


def add_parser(commands) -> None:
    parser = add_command(
        commands,
        "erlang",
        "exact M/M/n (Erlang C) or M/M/n+M (Erlang A) figures, or the agents a target needs",
        "Steady state, Poisson arrivals, exponential handle times (and patience with\n"
        "--patience). Give --agents for a table, --target to find the fewest agents that\n"
        "meet it (the row marked > in the table), or both.",
        "  ccsim erlang --rate 600/h --aht 4.5min --patience 90s --target 80/20s\n"
        "  ccsim erlang --rate 600/h --aht 4.5min --target 80/20s --max-occupancy 0.85 "
        "--shrinkage 30%\n"
        "  ccsim erlang --rate 10/min --aht 180s --agents 28-36 --service-levels",
    )
    parser.set_defaults(handler=erlang)
    add(
        parser,
        "--rate",
        required=True,
        type=option(parse_rate, "--rate"),
        help="arrival rate with its period: 600/h, 10/min, 100/30min",
    )
    add(
        parser,
        "--aht",
        required=True,
        type=option(positive_duration, "--aht"),
        help="mean handle time with its unit: 270s, 4.5min",
    )
    add(
        parser,
        "--agents",
        type=option(_agent_counts, "--agents"),
        help="agents on the phones: 40, 38,40,42 or a range 36-44 (default: around the "
        "--target's answer)",
    )
    add(
        parser,
        "--target",
        type=option(_service_target, "--target"),
        help="service level to meet: 80/20s = 80%% answered within 20 s (sets the threshold)",
    )
    add(
        parser,
        "--threshold",
        type=option(duration, "--threshold"),
        help="service-level threshold without a --target: 20s, 1min (default 20s)",
    )
    add(
        parser,
        "--patience",
        type=option(positive_duration, "--patience"),
        help="mean patience (exponential): 90s, 3min; gives Erlang A (default: nobody "
        "abandons, Erlang C)",
    )
    add(
        parser,
        "--max-occupancy",
        type=option(share, "--max-occupancy"),
        help="with --target: also keep occupancy at most this, e.g. 0.85",
    )
    add(
        parser,
        "--shrinkage",
        type=option(_shrinkage, "--shrinkage"),
        help="with --target: share of paid time off the phones, 30%% or 0.3: agents to "
        "schedule = on the phones / (1 - shrinkage)",
    )
    add(
        parser,
        "--service-levels",
        action="store_true",
        help="also show the three service-level definitions side by side",
    )


def usage_error(args) -> str | None:
    """What is missing from a command line that parsed: the question to answer."""
    if args.agents is None and args.target is None:
        return "erlang: give --agents (a table), --target (the agents it needs), or both"
    return None


def _check_domain(args) -> float:
    low, high = _LOADS
    load = args.rate * args.aht
    if not low <= load <= high:
        raise UserError(
            f"--rate x --aht: an offered load of {load:g} Erlangs, outside [{low:g}, {high:g}]"
        )
    if args.patience and not 1 / _PATIENCE_RATIO <= args.patience / args.aht <= _PATIENCE_RATIO:
        raise UserError(
            f"--patience: must lie within {_PATIENCE_RATIO:g} times --aht either way "
            "(leave it out for Erlang C: no abandonment)"
        )
    if args.agents is None and args.target is None:
        raise UserError(
            "ccsim erlang: give --agents (a table), --target (the agents it needs), or both"
        )
    for name in ("max_occupancy", "shrinkage"):
        if getattr(args, name) is not None and args.target is None:
            raise UserError(f"--{name.replace('_', '-')}: goes with --target")
    return load


def _stable(args, n: int, load: float) -> bool:
    """Erlang C has a steady state only when the agents outnumber the offered load."""
    return args.patience is not None or n > load


def _meets(perf, args) -> bool:
    wanted, _ = args.target
    fine = perf.service_level >= wanted - 1e-12
    if args.max_occupancy is not None:
        fine = fine and perf.occupancy <= args.max_occupancy + 1e-12
    return fine


def _fewest_agents(args, threshold: float, load: float) -> int | None:
    """The fewest agents that meet --target (and --max-occupancy): service level rises and
    occupancy falls with every agent added, so a doubling then a bisection finds it."""
    from ccsim.theory import erlang as analytic

    def ok(n: int) -> bool:
        if not _stable(args, n, load):
            return False
        return _meets(analytic.performance(args.rate, args.aht, n, threshold, args.patience), args)

    return analytic.fewest_agents(ok, 1, _MAX_AGENTS)


def erlang(args) -> int:
    load = _check_domain(args)
    # A threshold of 0 s is a question of its own (the share answered at once), not a default.
    threshold = (
        args.target[1] if args.target else (20.0 if args.threshold is None else args.threshold)
    )
    if args.target and args.threshold is not None and args.threshold != threshold:
        raise UserError("--threshold: --target already sets it (80/20s: 20 s)")
    model = "Erlang A (M/M/n+M)" if args.patience else "Erlang C (M/M/n)"
    print(
        f"{model}: {args.rate * 3600:g} contacts/h, handle time {format_duration(args.aht)}"
        + (f", mean patience {format_duration(args.patience)}" if args.patience else "")
        + f"\noffered load {load:.3f} Erlangs, service level threshold {format_duration(threshold)}"
    )
    needed = None
    if args.target is not None:
        needed = _fewest_agents(args, threshold, load)
        if needed is None:
            raise UserError(f"--target: not met with up to {_MAX_AGENTS:,} agents")
    agents = args.agents
    if agents is None:
        agents = list(range(max(1, needed - _AROUND), needed + _AROUND + 1))
    rows = _print_table(args, agents, needed, threshold, load)
    if args.service_levels and rows:
        _print_service_levels(rows, threshold)
    if needed is not None:
        _print_answer(args, needed, threshold)
    return 0


def _print_table(args, agents: list[int], needed: int | None, threshold: float, load: float):
    """One row per agent count (``>`` marks the answer); returns the figures of each."""
    from ccsim.report.formatting import format_value
    from ccsim.theory import erlang as analytic

    columns = _ERLANG_A_COLUMNS if args.patience else _COLUMNS
    widths = [max(len(c), 8) for c in columns]
    print("agents  " + "  ".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)))
    rows = {}
    for n in agents:
        mark = ">" if n == needed else " "
        if not _stable(args, n, load):
            print(
                f"{mark}{n:>5}  unstable: load {load:.2f} >= {n} agents "
                "(the queue grows without end)"
            )
            continue
        perf = analytic.performance(args.rate, args.aht, n, threshold, args.patience)
        rows[n] = perf
        cells = "  ".join(
            f"{format_value(c, getattr(perf, c)):>{w}}"
            for c, w in zip(columns, widths, strict=True)
        )
        print(f"{mark}{n:>5}  {cells}")
    return rows


def _print_service_levels(rows, threshold: float) -> None:
    from ccsim.report.formatting import format_value

    print(f"\nservice level {format_duration(threshold)} by definition:")
    print(f"  {_SERVICE_LEVEL_LEGEND}")
    labels = list(_SERVICE_LEVELS.values())
    print("agents  " + "  ".join(f"{label:>20}" for label in labels))
    for n, perf in rows.items():
        cells = "  ".join(f"{format_value(c, getattr(perf, c)):>20}" for c in _SERVICE_LEVELS)
        print(f"{n:>6}  {cells}")


def _print_answer(args, needed: int, threshold: float) -> None:
    wanted, _ = args.target
    cap = (
        f" and occupancy at most {args.max_occupancy:.0%}" if args.max_occupancy is not None else ""
    )
    print(
        f"\n> {needed} agents on the phones: the fewest that meet {wanted:.0%} within "
        f"{format_duration(threshold)}{cap}"
    )
    if args.shrinkage is not None:
        scheduled = math.ceil(needed / (1 - args.shrinkage) - 1e-9)
        print(
            f"{scheduled} agents to schedule with {args.shrinkage:.0%} shrinkage "
            f"({needed} / (1 - {args.shrinkage:g}), rounded up)"
        )
