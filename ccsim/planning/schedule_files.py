"""What ``ccsim staff`` writes for a requirement and its schedule: the requirement beside the
schedule's agents per interval (``requirements.csv``), the scheduled scenario as a scenario file
(``schedule.yaml``), and one figure per channel (``staffing-<channel>.png``)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ccsim.files import atomic_write, write_csv, write_text
from ccsim.planning.scenario_file import scenario_yaml
from ccsim.planning.scheduling import Schedule

__all__ = ["plot_staffing", "staffing_table", "write_schedule", "write_staffing"]


def write_schedule(path: str | Path, schedule: Schedule) -> Path:
    """Write the scheduled scenario as a scenario file, atomically."""
    return write_text(path, scenario_yaml(schedule.scenario))


def staffing_table(
    requirements: pd.DataFrame, schedule: Schedule, service_levels: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The requirement per interval and channel beside what the schedule gives (``scheduled``:
    agents on shift, absent and on break included; ``available``: agents expected on the
    floor), and the simulated service level of the scheduled scenario if given
    (``sl_simulated``, ``sl_low``, ``sl_high``)."""
    table = requirements.merge(
        schedule.coverage[["interval", "channel", "available", "scheduled"]],
        on=["interval", "channel"],
        how="left",
    )
    if service_levels is not None:
        levels = service_levels.rename(
            columns={"sl": "sl_simulated", "offered": "offered_simulated"}
        )[["interval", "channel", "sl_simulated", "sl_low", "sl_high"]]
        table = table.merge(levels, on=["interval", "channel"], how="left")
    first = ["interval_start", "channel", "method", "required", "scheduled"]
    return table[first + [c for c in table.columns if c not in first]]


def plot_staffing(table: pd.DataFrame, channel: str, target: float | None = None):
    """A figure of one channel: required, available and scheduled agents per interval, and
    below the simulated service level of the schedule with its confidence band."""
    # No pyplot: no global state, no display needed.
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    rows = table[table.channel == channel].sort_values("interval")
    edges = np.arange(len(rows) + 1)
    figure = Figure(figsize=(10, 6.5), layout="constrained")
    agents, level = figure.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    line = {"baseline": None}  # steps only, no drop to zero at the ends
    agents.stairs(rows["required"], edges, label="required", color="black", lw=2, **line)
    agents.stairs(rows["available"], edges, label="available (net of shrinkage, breaks)", **line)
    agents.stairs(rows["scheduled"], edges, label="scheduled (paid)", **line)
    agents.set_ylabel("agents")
    agents.set_title(f"{channel}: requirement ({rows['method'].iloc[0]}) and schedule")
    agents.legend(loc="upper left")
    agents.grid(alpha=0.3)
    if "sl_simulated" in rows:
        low, high = rows["sl_low"].clip(0, 1), rows["sl_high"].clip(0, 1)
        level.stairs(high, edges, baseline=low, fill=True, alpha=0.3, label="confidence interval")
        level.stairs(rows["sl_simulated"], edges, label="simulated schedule", **line)
    if target is not None:
        level.axhline(target, color="black", linestyle="--", label=f"target {target:.0%}")
    level.set_ylabel("service level")
    level.yaxis.set_major_formatter(PercentFormatter(1.0))
    lowest = rows["sl_low"].min() if "sl_low" in rows else math.nan
    level.set_ylim(max(0.0, min(0.5, lowest if lowest == lowest else 0.5) - 0.05), 1.02)
    level.legend(loc="lower right")
    level.grid(alpha=0.3)
    every = max(1, len(rows) // 16)
    level.set_xticks(edges[:-1][::every])
    level.set_xticklabels([s[5:16].replace("T", " ") for s in rows["interval_start"][::every]])
    level.tick_params(axis="x", labelrotation=45)
    return figure


def write_staffing(out: str | Path, table: pd.DataFrame, schedule: Schedule) -> list[Path]:
    """Write ``requirements.csv``, ``schedule.yaml`` and one ``staffing-<channel>.png`` per
    channel into ``out``, each atomically; returns the paths."""
    out = Path(out)
    paths = [
        write_csv(out / "requirements.csv", table),
        write_schedule(out / "schedule.yaml", schedule),
    ]
    for channel in table["channel"].unique():
        spec = schedule.scenario.channels.get(channel)
        figure = plot_staffing(table, channel, spec.service_level.target if spec else None)
        paths.append(
            atomic_write(
                out / f"staffing-{channel}.png",
                lambda tmp, f=figure: f.savefig(
                    tmp, format="png", dpi=100, metadata={"Software": None}
                ),
            )
        )
    return paths
