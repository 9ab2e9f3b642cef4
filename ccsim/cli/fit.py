"""``ccsim fit``: a scenario file fitted to a contact log (demand, handle times, patience),
and with ``--validate`` the log against simulations of it."""

from __future__ import annotations

import sys
from pathlib import Path

from ccsim.cli.options import (
    add,
    add_command,
    duration,
    jobs,
    non_negative_int,
    option,
    output_path,
    positive_duration,
    positive_int,
    share,
)

__all__ = ["add_parser", "fit"]


def _record_columns(text: str) -> dict[str, str]:
    from ccsim.fit.records import parse_columns  # scipy and friends: only for `ccsim fit`

    return parse_columns(text)


def _word_map(text: str) -> dict[str, str]:
    """``ANS=answered,ABN=abandoned``."""
    pairs = dict(part.split("=", 1) for part in text.split(",") if "=" in part)
    if not pairs or any(v not in ("answered", "abandoned") for v in pairs.values()):
        raise ValueError(f"expected WORD=answered or WORD=abandoned pairs, got {text!r}")
    return pairs


def _scenario_name(text: str) -> str:
    from ccsim.fit.records import plain_name

    if plain_name(text, "") != text:
        raise ValueError(f"{text!r}: letters, digits, '_' and '-', starting with a letter")
    return text


def _site_agents(text: str) -> int | dict[str, int]:
    """``25`` or ``inhouse=20,vendor=12``."""
    if "=" not in text:
        return positive_int(text)
    pairs = (part.split("=", 1) for part in text.split(","))
    return {site.strip(): positive_int(n) for site, n in pairs}


def add_parser(commands) -> None:
    parser = add_command(
        commands,
        "fit",
        "fit a scenario (demand, handle times, patience) to a contact log",
        "Reads one row per contact (arrival time, wait, handle time, outcome) and writes a\n"
        "scenario file that 'ccsim run' reads; --validate simulates it against the log.",
        "  ccsim fit contacts.csv --out fitted.yaml --validate\n"
        "  ccsim fit log.csv --out f.yaml --columns arrival=CallStart,wait=QueueSec "
        "--agents inhouse=20,vendor=12",
    )
    parser.set_defaults(handler=fit)
    add(parser, "records", type=Path, help="contact records CSV (one row per contact)")
    out = option(output_path, "--out")
    add(parser, "--out", type=out, required=True, help="the fitted scenario YAML to write")
    add(
        parser,
        "--columns",
        type=option(_record_columns, "--columns"),
        help="FIELD=COLUMN,... e.g. arrival=CallStart,wait=QueueSec",
    )
    add(
        parser,
        "--outcomes",
        type=option(_word_map, "--outcomes"),
        help="WORD=answered|abandoned,... for the log's outcome words, e.g. ANS=answered",
    )
    add(
        parser,
        "--timezone",
        help="customers' IANA zone, e.g. America/New_York (default: the file's, else UTC)",
    )
    add(
        parser,
        "--interval",
        type=option(positive_duration, "--interval"),
        default=1800.0,
        help="reporting interval of the fitted scenario: 30min, 15min (default 30min)",
    )
    add(
        parser,
        "--threshold",
        type=option(duration, "--threshold"),
        default=20.0,
        help="service-level threshold of the fitted channels: 20s, 1min (default 20s)",
    )
    add(
        parser,
        "--target",
        type=option(share, "--target"),
        default=0.8,
        help="service-level target of the fitted channels, a share: 0.8",
    )
    add(
        parser,
        "--agents",
        type=option(_site_agents, "--agents"),
        help="N, or SITE=N,...; default: the most busy at once in the log",
    )
    add(
        parser,
        "--name",
        type=option(_scenario_name, "--name"),
        default="fitted",
        help="the scenario's name",
    )
    _add_forecast_options(parser)
    _add_validation_options(parser)


def _add_forecast_options(parser) -> None:
    """``--forecast`` and the weeks held out to judge it."""
    add(
        parser,
        "--forecast",
        type=option(positive_int, "--forecast"),
        metavar="WEEKS",
        help="demand from a forecast of the next WEEKS weeks (at most 104), e.g. 4",
    )
    add(
        parser,
        "--holdout",
        type=option(positive_int, "--holdout"),
        default=4,
        help="weeks held out to judge the forecast",
    )


def _add_validation_options(parser) -> None:
    """``--validate`` and the replications it simulates."""
    add(
        parser,
        "--validate",
        action="store_true",
        help="simulate the fit; write validation.csv/.html beside --out",
    )
    add(
        parser,
        "--reps",
        type=option(positive_int, "--reps"),
        default=20,
        help="replications of --validate",
    )
    add(
        parser,
        "--seed",
        type=option(non_negative_int, "--seed"),
        default=1,
        help="seed of --validate",
    )
    add(
        parser,
        "--jobs",
        type=option(jobs, "--jobs"),
        default=1,
        help="worker processes of --validate; -1: all cores",
    )


def fit(args) -> int:
    from ccsim.experiment.folder import refuse_overwrite, writing_to
    from ccsim.fit import fit_centre, read_records, scenario_text

    refuse_overwrite(args.out, [args.records], "--out")
    if args.validate:
        refuse_overwrite([args.out.with_name("validation.csv")], [args.records], "--validate")
    records = read_records(args.records, args.columns, args.timezone, args.outcomes)
    fitted = fit_centre(
        records,
        args.interval,
        args.agents,
        args.threshold,
        args.target,
        args.forecast,
        args.holdout,
    )
    with writing_to(args.out.parent, "the fitted scenario"):
        scenario = _write_loadable(args.out, scenario_text(fitted, args.name))
    runs = f" x {fitted.n_replications} runs" if fitted.n_replications > 1 else ""
    print(f"{args.records}: {len(records.frame):,} contacts, {fitted.n_days} day(s){runs}")
    for what, count in records.odd.items():
        print(f"  odd rows, kept: {what}: {count:,}")
    for channel in fitted.channels.values():
        print(f"\n{channel.name}  ({channel.n_contacts:,} contacts)")
        print(f"  busyness   {channel.demand.alpha.describe()}")
        print(f"  handle     {channel.handle_time.describe()}")
        if channel.request_types is not None:
            kinds = channel.request_types.written().items()
            shown = ", ".join(
                f"{kind} {spec['share']:.3f} x{spec['handle_time_multiplier']:.3f}"
                for kind, spec in kinds
            )
            print(f"  types      share x handle-time multiplier: {shown}")
        if channel.patience is not None:
            print(f"  patience   {channel.patience.describe()}")
        if channel.forecast is not None:
            from ccsim.fit.forecast import describe

            print("  forecast   " + "\n  ".join(describe(channel.forecast)))
    agents = ", ".join(f"{site} {n}" for site, n in fitted.agents.items())
    how = "most busy at once in the log" if fitted.agents_estimated else "given"
    print(f"\nagents: {agents} ({how})\nwrote {args.out}")
    if args.validate:
        _validate(scenario, records, args)
    # Held to the end, as library warnings are: after the output they qualify.
    for warning in fitted.warnings:
        print(f"ccsim: warning: {args.records}: {warning}", file=sys.stderr)
    return 0


def _write_loadable(out: Path, text: str):
    """The fitted scenario, loaded as any scenario file is before it takes ``out``'s name:
    a fit that does not load (a log's values beyond a scenario's limits) is one line and
    leaves no file behind (it stayed on disk, and the error named its line)."""
    from ccsim.files import atomic_write
    from ccsim.fit.centre import FitError
    from ccsim.model import ConfigError, load_scenario

    loaded = []

    def write_and_load(staged: str) -> None:
        Path(staged).write_text(text, encoding="utf-8", newline="")
        try:
            loaded.append(load_scenario(staged))
        except ConfigError as exc:
            raise FitError(
                f"{out}: the fitted scenario does not load, so it is not written: "
                f"{exc.path}: {exc.message}"
            ) from None

    atomic_write(out, write_and_load)
    return loaded[0]


def _validate(scenario, records, args) -> None:
    """The fitted scenario simulated, against the log it was fitted to."""
    from ccsim.experiment.folder import writing_to
    from ccsim.fit.validate import validate, write_validation
    from ccsim.report.formatting import format_value

    result = validate(scenario, records, args.reps, args.seed, args.jobs)
    with writing_to(args.out.parent, "the validation"):
        paths = write_validation(args.out.parent, result, f"{scenario.name}: validation")
    print(f"\nvalidation: the log against {args.reps} simulated replications")
    for row in result.agreement().itertuples():
        verdict = {True: "agrees", False: "DIFFERS", None: "-"}[row.agrees]
        print(
            f"  {row.channel:<10} {row.kpi:<14} log {format_value(row.kpi, row.observed):>10}  "
            f"simulated {format_value(row.kpi, row.simulated):>10}  "
            f"[{format_value(row.kpi, row.prediction_low)}, "
            f"{format_value(row.kpi, row.prediction_high)}]  {verdict}"
        )
    print("wrote " + ", ".join(str(p) for p in paths))
