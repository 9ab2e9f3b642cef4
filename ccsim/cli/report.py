"""``ccsim report``: draw an experiment's report page, or a run's page, from its folder."""

from __future__ import annotations

from pathlib import Path

from ccsim.cli.options import add, add_command

__all__ = ["add_parser", "report"]


def add_parser(commands) -> None:
    parser = add_command(
        commands,
        "report",
        "render DIR/report.html (an experiment) or DIR/run.html (a run)",
        "",
        "  ccsim report results/operating_models",
    )
    parser.set_defaults(handler=report)
    add(parser, "dir", type=Path, help="an experiment's or a run's output folder")


def report(args) -> int:
    from ccsim.report.html import render_report
    from ccsim.report.run_page import is_run_folder, render_run_page

    render = render_run_page if is_run_folder(args.dir) else render_report
    print(f"wrote {render(args.dir)}")
    return 0
