"""The figures of docs/claims.md and docs/staffing.md, written from what they cite.

Each figure block of those pages sits between ``<!-- figures:NAME -->`` and
``<!-- /figures -->`` and is written here from its source, never typed by hand:

- the staffed model files (``configs/claims/*.yaml``, ``configs/models/*.yaml``): paid hours,
  full-time equivalents, agent-shifts and pay over the **measured week** (the window
  ``[warmup, horizon)``, not the nine days with the warm-up), from each site's roster without
  simulation: what ``labour_cost`` reports less overruns;
- the experiment file (``experiments/hybrid_claims.yaml``): seed, replications, frontier scales;
- the committed extract of a claims run (``docs/figures/claims_resolution.csv``): resolution
  time three ways and the customer outcome (CSAT), at the plans, written by ``--run`` from
  ``experiments/hybrid_claims.yaml`` without its frontier and sensitivity blocks, on the
  same seed.

``tests/test_doc_figures.py`` checks that every block is what this script writes.

    python scripts/doc_figures.py                    # rewrite the blocks
    python scripts/doc_figures.py --check            # exit 1 where a block differs
    python scripts/doc_figures.py --run --reps 8     # rerun the extract (about 10 min, 1 core)
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CLAIMS = ROOT / "experiments/hybrid_claims.yaml"
EXTRACT = ROOT / "docs/figures/claims_resolution.csv"
PAGES = (ROOT / "docs/claims.md", ROOT / "docs/staffing.md")
MODELS = ("onshore", "nearshore", "offshore", "human_only", "hybrid", "ai_heavy")
#: A full-time equivalent: 40 paid hours a week.
FTE_HOURS = 40.0
#: The three readings of "resolution time" checked against the claim, and the ticket, as
#: ``(kpi, channel, label)``: the dashboard's per request by channel (a bot closes voice
#: and chat sessions in minutes, email waits offshore in a backlog), the rest over all.
READINGS = (
    ("request_resolution_time", "voice", "per request (dashboard), voice"),
    ("request_resolution_time", "chat", "per request, chat"),
    ("request_resolution_time", "email", "per request, email"),
    ("request_resolution_time", "all", "per request, all channels"),
    ("median_resolution_time", "all", "journey, median"),
    ("mean_resolution_time", "all", "journey, mean"),
    ("resolved_within_24h", "all", "resolved within 24 h"),
    ("ticket_resolution_time", "all", "per ticket"),
)
#: The customer-outcome KPIs of the extract (``claims-csat``): shares, changes in points.
OUTCOMES = (
    ("csat", "all", "CSAT, journeys"),
    ("contact_csat", "all", "CSAT, post-contact survey"),
    ("poor_journey_share", "all", "poor journeys"),
)
BLOCK = re.compile(r"(<!-- figures:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /figures -->)", re.S)


@dataclass(frozen=True)
class SiteWeek:
    """One site's schedule over the measured week."""

    paid_hours: float  # scheduled hours less unpaid breaks, absent agents included
    pay: float  # the same hours at the site's rate, night differential included
    agent_shifts: int  # agents times shifts starting in the week

    def fte(self, weeks: float) -> float:
        return self.paid_hours / (FTE_HOURS * weeks)


def measured_week(scenario) -> tuple[dict[str, SiteWeek], float]:
    """Each site's paid hours, pay and agent-shifts over ``[warmup, horizon)``, and the
    window's length in weeks, of a scenario (or the file of one)."""
    import ccsim
    from ccsim.sim.shifts import PayScale, roster, schedule_tallies

    if isinstance(scenario, Path):
        scenario = ccsim.load_scenario(scenario)
    calendar = scenario.calendar()
    warmup, horizon = scenario.warmup, calendar.horizon
    sites = {}
    for site in scenario.sites:
        shifts = roster(site, calendar)
        _, pay = schedule_tallies(shifts, PayScale(site, calendar, horizon), calendar, warmup)
        # At one unit an hour without a night premium, the pay is the paid hours.
        hourly = site.model_copy(update={"cost_per_hour": 1.0, "night_differential": None})
        _, hours = schedule_tallies(shifts, PayScale(hourly, calendar, horizon), calendar, warmup)
        started = sum(s.headcount for s in shifts if warmup <= s.start < horizon)
        sites[site.name] = SiteWeek(sum(hours), sum(pay), started)
    return sites, (horizon - warmup) / (7 * 86400.0)


def _wrapped(text: str) -> str:
    """A paragraph as the pages wrap theirs."""
    return textwrap.fill(text, width=92, break_on_hyphens=False) + "\n"


def _n(x: float) -> str:
    return f"{x:,.0f}"


def claims_fte() -> str:
    sites, weeks = measured_week(ROOT / "configs/claims/inhouse.yaml")
    tier1, tier2 = sites["inhouse"].fte(weeks), sites["specialists"].fte(weeks)
    hours = sum(s.paid_hours for s in sites.values())
    return _wrapped(
        f"Staffed in house (`configs/claims/inhouse.yaml`), the measured week pays {_n(hours)} "
        f"hours: about {_n(tier1 + tier2)} full-time equivalents of 40 paid hours ({_n(tier1)} "
        f"on tier 1, {_n(tier2)} on tier 2), the claim's order of size (the warm-up weekend's "
        "pay is not in it)."
    )


def claims_run() -> str:
    from ruamel.yaml import YAML

    spec = YAML(typ="safe").load(CLAIMS.read_text())
    reps, frontier = spec["replications"], spec["frontier"]
    scales = ", ".join(f"{s:g}" for s in frontier["scales"])
    return _wrapped(
        f"Seed {spec['seed']}, common random numbers; {reps['min']} to {reps['max']} "
        f"replications at each plan (the stopping rule), {frontier['replications']} at each of "
        f"the staffing scales ({scales}) that give the cost at equal service, "
        f"{spec['sensitivity_replications']} at each end of the uncertain inputs "
        f"(`{CLAIMS.relative_to(ROOT)}`)."
    )


def _pct(value: float) -> str:
    return f"{value:+.1f}%"


def _duration(seconds: float) -> str:
    return f"{seconds / 60:,.1f} min" if seconds < 5400 else f"{seconds / 3600:,.1f} h"


def claims_resolution() -> str:
    """The three readings (and the ticket) per scenario against in house, as changes with
    their paired 95% intervals; in house's values below the table."""
    import pandas as pd

    table = pd.read_csv(EXTRACT).set_index(["scenario", "channel", "kpi"])
    from ruamel.yaml import YAML

    # In the experiment file's order, whatever order the run's tables have.
    ran = set(table.index.get_level_values(0))
    spec = YAML(typ="safe").load(CLAIMS.read_text())
    scenarios = [s for s in spec["scenarios"] if s in ran and s != spec["baseline"]]
    head = "| | " + " | ".join(label for _, _, label in READINGS) + " |\n"
    rule = "|---" * (len(READINGS) + 1) + "|\n"
    # The claim names no reading: its -50% stands against each time, none against the share.
    claimed = ["" if kpi == "resolved_within_24h" else "**-50%**" for kpi, _, _ in READINGS]
    lines = [head, rule, "| claimed | " + " | ".join(claimed) + " |\n"]
    for scenario in scenarios:
        cells = []
        for kpi, channel, _ in READINGS:
            row = table.loc[(scenario, channel, kpi)]
            if kpi == "resolved_within_24h":  # a share: its change in points
                cells.append(
                    f"{row.difference * 100:+.1f} pts [{row.diff_low * 100:+.1f}, "
                    f"{row.diff_high * 100:+.1f}]"
                )
            else:
                pct = 100 * row.difference / row.baseline_value
                low, high = (100 * row[k] / row.baseline_value for k in ("diff_low", "diff_high"))
                cells.append(f"{_pct(pct)} [{low:+.1f}, {high:+.1f}]")
        lines.append(f"| {scenario.replace('_', ' ')} | " + " | ".join(cells) + " |\n")
    values = []
    for kpi, channel, label in READINGS:
        value = table.loc[("inhouse", channel, kpi)].estimate
        shown = f"{value * 100:.1f}%" if kpi == "resolved_within_24h" else _duration(value)
        values.append(f"{label}: {shown}")
    n, seed = int(table.n.min()), int(table.seed.iloc[0])
    lines.append("\n")
    lines.append(
        _wrapped(
            "In house: " + "; ".join(values) + f". {n} replications at each plan (seed {seed}),"
            f" no frontier or sensitivity: `python scripts/doc_figures.py --run --reps {n}`"
            f" (about 6 minutes on one core), the extract in `{EXTRACT.relative_to(ROOT)}`."
        )
    )
    return "".join(lines)


def claims_csat() -> str:
    """The customer-outcome KPIs per scenario against in house: the change in points and,
    for CSAT, relative to in house's (the claim's "+15-20%"), with paired 95% intervals."""
    import pandas as pd
    from ruamel.yaml import YAML

    table = pd.read_csv(EXTRACT).set_index(["scenario", "channel", "kpi"])
    ran = set(table.index.get_level_values(0))
    spec = YAML(typ="safe").load(CLAIMS.read_text())
    scenarios = [s for s in spec["scenarios"] if s in ran and s != spec["baseline"]]
    labels = [label for _, _, label in OUTCOMES]
    head = "| | " + " | ".join([labels[0] + ", relative", *labels]) + " |\n"
    lines = [head, "|---" * (len(OUTCOMES) + 2) + "|\n", "| claimed | **+15 to +20%** |"]
    lines.append(" |" * len(OUTCOMES) + "\n")
    for scenario in scenarios:
        rows = [table.loc[(scenario, channel, kpi)] for kpi, channel, _ in OUTCOMES]
        first = rows[0]
        relative = [
            100 * first[k] / first.baseline_value for k in ("difference", "diff_low", "diff_high")
        ]
        cells = [f"{_pct(relative[0])} [{relative[1]:+.1f}, {relative[2]:+.1f}]"]
        cells += [
            f"{r.difference * 100:+.1f} pts [{r.diff_low * 100:+.1f}, {r.diff_high * 100:+.1f}]"
            for r in rows
        ]
        lines.append(f"| {scenario.replace('_', ' ')} | " + " | ".join(cells) + " |\n")
    values = [
        f"{label}: {table.loc[('inhouse', channel, kpi)].estimate * 100:.1f}%"
        for kpi, channel, label in OUTCOMES
    ]
    n = int(table.n.min())
    lines.append("\n")
    lines.append(
        _wrapped(
            "In house: " + "; ".join(values) + f". {n} replications at each plan, the same run"
            f" and extract as the resolution times above."
        )
    )
    return "".join(lines)


def staffing_models(body: str) -> str:
    """The study's models: the staffing run's simulations and wall time as the page has
    them (what that run measured), the week's figures from the model files."""
    kept = {}
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] in MODELS:
            kept[cells[0]] = cells[1:3]
    lines = [
        "| model | simulations | wall | agent-shifts a week | paid FTE | pay a week (USD) |\n",
        "|---|---|---|---|---|---|\n",
    ]
    for model in MODELS:
        sites, weeks = measured_week(ROOT / f"configs/models/{model}.yaml")
        shifts = sum(s.agent_shifts for s in sites.values())
        fte = sum(s.fte(weeks) for s in sites.values())
        pay = sum(s.pay for s in sites.values())
        simulations, wall = kept.get(model, ["", ""])
        lines.append(
            f"| {model} | {simulations} | {wall} | {_n(shifts)} | {_n(fte)} | {_n(pay)} |\n"
        )
    return "".join(lines)


WRITERS = {
    "claims-fte": lambda body: claims_fte(),
    "claims-run": lambda body: claims_run(),
    "claims-resolution": lambda body: claims_resolution(),
    "claims-csat": lambda body: claims_csat(),
    "staffing-models": staffing_models,
}


def rewrite(text: str) -> str:
    def block(match: re.Match) -> str:
        name = match["name"]
        if name not in WRITERS:
            raise SystemExit(f"unknown figure block {name!r}")
        return match[1] + WRITERS[name](match["body"]) + match[4]

    return BLOCK.sub(block, text)


def run_extract(reps: int, jobs: int) -> None:
    """Run the claims experiment at its plans (no frontier, no sensitivity) and write the
    extract: the all-channel row of each reading, with the paired change to in house."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe")
    spec = yaml.load(CLAIMS.read_text())
    for key in ("frontier", "uncertain", "sensitivity_replications", "selection"):
        spec.pop(key, None)
    spec["name"] = "hybrid_claims_at_plans"
    spec["replications"] = reps

    def absolute(path: str) -> str:
        return str((CLAIMS.parent / path).resolve())

    spec["scenario"] = absolute(spec["scenario"])
    for variant in spec["scenarios"].values():
        if "scenario" in variant:
            variant["scenario"] = absolute(variant["scenario"])
    with tempfile.TemporaryDirectory() as folder:
        experiment, out = Path(folder) / "claims.yaml", Path(folder) / "out"
        with experiment.open("w") as handle:
            yaml.dump(spec, handle)
        command = [sys.executable, "-m", "ccsim", "experiment", str(experiment), "--jobs",
                   str(jobs), "--out", str(out), "--no-report", "--no-progress"]  # fmt: skip
        subprocess.run(command, check=True, cwd=ROOT)
        write_extract(out, spec["seed"])


def write_extract(out: Path, seed: int) -> None:
    import pandas as pd
    from ruamel.yaml import YAML

    keys = ["scenario", "channel", "kpi"]
    wanted = pd.DataFrame(
        [(kpi, channel) for kpi, channel, _ in READINGS + OUTCOMES], columns=["kpi", "channel"]
    )
    summary = pd.read_csv(out / "summary.csv")
    summary = summary[summary.site == "all"].merge(wanted, on=["channel", "kpi"])
    diffs = pd.read_csv(out / "comparisons.csv")
    diffs = diffs[diffs.site == "all"].merge(wanted, on=["channel", "kpi"])
    diffs = diffs.rename(columns={"ci_low": "diff_low", "ci_high": "diff_high"})
    table = summary[[*keys, "estimate", "ci_low", "ci_high", "n"]].merge(
        diffs[[*keys, "baseline_value", "difference", "diff_low", "diff_high"]],
        on=keys,
        how="left",
    )
    table.insert(0, "seed", seed)
    # In the experiment file's order, the baseline first, whatever order the run's tables have.
    order = {
        name: k for k, name in enumerate(YAML(typ="safe").load(CLAIMS.read_text())["scenarios"])
    }
    table = table.sort_values("scenario", key=lambda column: column.map(order), kind="stable")
    EXTRACT.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(EXTRACT, index=False, float_format="%.6g")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 where a block differs")
    parser.add_argument("--run", action="store_true", help="rerun the claims extract first")
    parser.add_argument("--reps", type=int, default=8, help="replications with --run")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes with --run")
    args = parser.parse_args(argv)
    if args.run:
        run_extract(args.reps, args.jobs)
    stale = []
    for page in PAGES:
        text = page.read_text()
        written = rewrite(text)
        if written != text:
            stale.append(page.relative_to(ROOT))
            if not args.check:
                page.write_text(written)
    if args.check and stale:
        print("figures differ from their sources: " + ", ".join(map(str, stale)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
