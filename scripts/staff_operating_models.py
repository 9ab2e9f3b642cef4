"""Regenerate the staffed operating models from their designs with ``ccsim staff``.

For each design in ``configs/models/design/`` (sites, skills, costs, AI; demand from
``configs/models/_demand.yaml``) this runs

    ccsim staff configs/models/design/<model>.yaml --method search \\
        --model configs/models/<model>.yaml --out results/staffing/<model> [--reps 10 ...]

which staffs every channel, tier and site of the model at least cost for the channels' own
targets, with simulation as the judge (docs/staffing.md), and writes
``configs/models/<model>.yaml``: ``extends`` the design, one line per shift template.

    python scripts/staff_operating_models.py [MODEL ...] [--reps 10] [--seed 1]
        [--designs configs/claims/design --out configs/claims] [-- more ccsim staff flags]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ccsim.cli import main as ccsim  # noqa: E402

DESIGNS = ROOT / "configs" / "models" / "design"
MODELS = ROOT / "configs" / "models"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", help="default: every design")
    ap.add_argument("--reps", default="10", help="replications per simulation (default 10)")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--designs", type=Path, default=DESIGNS, help="folder of design files")
    ap.add_argument("--out", type=Path, default=MODELS, help="where staffed models go")
    args, extra = ap.parse_known_args(argv)
    extra = [a for a in extra if a != "--"]
    names = args.models or sorted(p.stem for p in args.designs.glob("*.yaml"))
    for name in names:
        status = ccsim(
            [
                "staff",
                str(args.designs / f"{name}.yaml"),
                "--method",
                "search",
                "--reps",
                args.reps,
                "--seed",
                args.seed,
                "--model",
                str(args.out / f"{name}.yaml"),
                "--out",
                str(ROOT / "results" / "staffing" / name),
                *extra,
            ]
        )
        if status:
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main())
