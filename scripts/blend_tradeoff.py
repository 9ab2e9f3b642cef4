"""The blending trade-off of an experiment over the reserve: inbound service level against
outbound right-party contacts per agent hour, one point per reserve K, with their 95%
intervals, read from the experiment's ``summary.csv``.

    ccsim experiment experiments/blend_threshold.yaml
    python scripts/blend_tradeoff.py results/blend_threshold [--inbound service]
        [--outbound renewals] [--out results/blend_threshold/blend_tradeoff.png]

Prints the table it plots (reserve, service level, inbound abandonment, right-party
contacts per agent hour, outbound abandonment) and writes the figure.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd


def tradeoff(summary: pd.DataFrame, inbound: str, outbound: str) -> pd.DataFrame:
    """One row per scenario with a reserve in its name (``reserve_<K>``): the estimates and
    half-widths of the KPIs of the trade-off."""
    wanted = {
        (inbound, "service_level"): "service_level",
        (inbound, "abandon_rate"): "inbound_abandon_rate",
        (outbound, "rpc_per_agent_hour"): "rpc_per_agent_hour",
        (outbound, "outbound_abandon_rate"): "outbound_abandon_rate",
    }
    rows: dict[str, dict] = {}
    for record in summary[summary.site == "all"].itertuples():
        name = wanted.get((record.channel, record.kpi))
        match = re.fullmatch(r"reserve_(\d+)", record.scenario)
        if name is None or match is None:
            continue
        row = rows.setdefault(record.scenario, {"reserve": int(match[1])})
        row[name] = record.estimate
        row[f"{name}_hw"] = record.half_width
    return pd.DataFrame(list(rows.values())).sort_values("reserve").reset_index(drop=True)


def plot(table: pd.DataFrame, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.errorbar(
        table.rpc_per_agent_hour,
        100 * table.service_level,
        xerr=table.rpc_per_agent_hour_hw,
        yerr=100 * table.service_level_hw,
        marker="o",
        capsize=3,
    )
    for row in table.itertuples():
        ax.annotate(f"K={row.reserve}", (row.rpc_per_agent_hour, 100 * row.service_level),
                    textcoords="offset points", xytext=(6, 4))  # fmt: skip
    ax.set_xlabel("outbound right-party contacts per agent hour")
    ax.set_ylabel("inbound service level (%)")
    ax.set_title("Blending: idle agents K kept for inbound")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="an experiment's output folder")
    parser.add_argument("--inbound", default="service")
    parser.add_argument("--outbound", default="renewals")
    parser.add_argument("--out", type=Path, help="default: RESULTS/blend_tradeoff.png")
    args = parser.parse_args()
    table = tradeoff(pd.read_csv(args.results / "summary.csv"), args.inbound, args.outbound)
    columns = ["reserve", "service_level", "inbound_abandon_rate", "rpc_per_agent_hour",
               "outbound_abandon_rate"]  # fmt: skip
    print(table[columns].to_string(index=False, float_format="%.3f"))
    out = args.out or args.results / "blend_tradeoff.png"
    plot(table, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
