"""``ccsim schema``: the JSON Schema of scenario or experiment files, for editors."""

from __future__ import annotations

import sys

from ccsim.cli.options import add, add_command, option, output_path

__all__ = ["add_parser", "schema"]


def add_parser(commands) -> None:
    parser = add_command(
        commands,
        "schema",
        "write the JSON Schema of scenario and experiment files, for editors",
        "Editors that read JSON Schema (VS Code's YAML extension, PyCharm) then complete\n"
        "keys and flag mistakes as you type; see the README for the one line that links it.",
        "  ccsim schema --out ccsim.schema.json\n"
        "  ccsim schema --kind experiment --out ccsim-experiment.schema.json",
    )
    parser.set_defaults(handler=schema)
    add(
        parser,
        "--kind",
        choices=("scenario", "experiment"),
        default="scenario",
        help="which files the schema describes",
    )
    add(
        parser,
        "--out",
        type=option(output_path, "--out"),
        help="file to write (default: print to standard output)",
    )


def schema(args) -> int:
    import json

    from ccsim.model.schema import scenario_schema
    from ccsim.study.spec import experiment_schema

    document = scenario_schema() if args.kind == "scenario" else experiment_schema()
    text = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return 0
    from ccsim.experiment.folder import refuse_overwrite, writing_to
    from ccsim.files import write_text

    refuse_overwrite(args.out, [], "--out")
    with writing_to(args.out.parent, "the schema"):
        write_text(args.out, text)
    print(f"wrote {args.out}")
    return 0
