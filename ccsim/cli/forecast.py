"""``ccsim forecast``: next weeks' volumes per interval from interval history, by the method
that does better on the weeks held out."""

from __future__ import annotations

import sys
from pathlib import Path

from ccsim.cli.options import add, add_command, option, output_path, positive_int

__all__ = ["add_parser", "forecast"]


def _history_columns(text: str) -> dict[str, str]:
    pairs = dict(part.split("=", 1) for part in text.split(",") if "=" in part)
    unknown = set(pairs) - {"interval_start", "volume", "channel"}
    if not pairs or unknown:
        raise ValueError(f"expected interval_start=, volume=, channel= pairs, got {text!r}")
    return pairs


def add_parser(commands) -> None:
    parser = add_command(
        commands,
        "forecast",
        "forecast next weeks' volumes per interval from interval history",
        "Seasonal naive or Holt-Winters, whichever is better on the held-out weeks.",
        "  ccsim forecast history.csv --weeks 4 --out forecast.csv\n"
        "  ccsim forecast calls.csv --weeks 2 --columns interval_start=Start,volume=Calls",
    )
    parser.set_defaults(handler=forecast)
    add(parser, "history", type=Path, help="CSV: interval_start, volume[, channel]")
    add(
        parser,
        "--weeks",
        type=option(positive_int, "--weeks"),
        required=True,
        help="weeks to forecast, e.g. 4 (at most 104)",
    )
    add(
        parser,
        "--out",
        type=option(output_path, "--out"),
        default=Path("forecast.csv"),
        help="CSV to write",
    )
    add(
        parser,
        "--columns",
        type=option(_history_columns, "--columns"),
        help="FIELD=COLUMN,... for interval_start, volume, channel",
    )
    add(parser, "--timezone", default="UTC", help="customers' IANA time zone")
    add(
        parser,
        "--holdout",
        type=option(positive_int, "--holdout"),
        default=4,
        help="weeks held out to judge the methods",
    )
    add(
        parser,
        "--method",
        choices=("seasonal_naive", "holt_winters"),
        help="default: the better on the hold-out",
    )


def forecast(args) -> int:
    from ccsim.experiment.folder import refuse_overwrite, writing_to
    from ccsim.fit.forecast import describe, forecast_volumes, read_history, write_forecast

    refuse_overwrite(args.out, [args.history], "--out")
    assumed: list[str] = []
    histories = read_history(args.history, args.columns, args.timezone, assumed)
    results = {}
    for channel, series in histories.items():
        results[channel] = forecast_volumes(series, args.weeks, args.holdout, args.method)
        print(f"{channel}: " + "\n  ".join(describe(results[channel])))
    with writing_to(args.out.parent, "the forecast"):
        write_forecast(args.out, results)
    print(f"wrote {args.out}")
    for warning in assumed:  # after the output, as `ccsim fit` prints its own
        print(f"ccsim: warning: {args.history}: {warning}", file=sys.stderr)
    return 0
