"""How long the command line takes to answer: ``ccsim --help``, ``--version`` and ``erlang``.

Each command runs in a fresh interpreter (as a user types it), several times; the median is
printed. The aim is under 0.5 s for these three: they import no pandas, scipy, matplotlib
or simulator (Erlang A's tail needs scipy, so ``erlang --patience`` is shown apart).

    python benchmarks/bench_startup.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "ccsim --version": [sys.executable, "-m", "ccsim", "--version"],
    "ccsim --help": [sys.executable, "-m", "ccsim", "--help"],
    "ccsim erlang (C, --target)": [
        sys.executable, "-m", "ccsim", "erlang", "--rate", "600/h", "--aht", "4.5min",
        "--target", "80/20s",
    ],
    "ccsim erlang (A, --patience)": [
        sys.executable, "-m", "ccsim", "erlang", "--rate", "600/h", "--aht", "4.5min",
        "--patience", "90s", "--target", "80/20s",
    ],
}  # fmt: skip


def main(repeats: int = 7) -> None:
    for name, command in COMMANDS.items():
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            times.append(time.perf_counter() - started)
        print(f"{name:<30} median {statistics.median(times):.2f}s  min {min(times):.2f}s")


if __name__ == "__main__":
    main()
