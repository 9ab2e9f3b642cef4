"""Run the tutorials: each lesson's Python code blocks, in order, in one namespace per lesson,
with the lesson's folder as the working directory, so that its figures are drawn again into
``tutorials/figures/`` and its assertions checked.

    python tutorials/run.py          # every lesson
    python tutorials/run.py 03 05    # the lessons whose file names start with 03 or 05

A lesson is a Markdown file ``NN_name.md``; only fenced blocks marked ``python`` run. Errors
point at the line of the Markdown file, so a failing assertion is found where it is written.
``tests/test_tutorials.py`` runs every lesson the same way, in a copy of the folder.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
_LESSON = re.compile(r"\d\d_\w+\.md")
_CODE = re.compile(r"^```python\n(.*?)^```", flags=re.MULTILINE | re.DOTALL)
_IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+\.png)\)")


def lessons(folder: Path = FOLDER) -> list[Path]:
    """The lessons of a folder, in their numbered order."""
    return sorted(path for path in folder.iterdir() if _LESSON.fullmatch(path.name))


def code_blocks(lesson: Path) -> list[tuple[int, str]]:
    """The ``python`` blocks of a lesson, each with the line of the Markdown it starts on."""
    text = lesson.read_text(encoding="utf-8")
    return [(text.count("\n", 0, match.start(1)) + 1, match[1]) for match in _CODE.finditer(text)]


def figures(lesson: Path) -> list[str]:
    """The PNG files a lesson shows, as written in its Markdown (relative to its folder)."""
    return _IMAGE.findall(lesson.read_text(encoding="utf-8"))


def run_lesson(lesson: Path) -> float:
    """Execute a lesson's code in its own namespace from its folder; return the seconds taken."""
    import matplotlib

    matplotlib.use("Agg")  # no window: the figures are files
    namespace: dict = {"__name__": "__lesson__"}
    here = Path.cwd()
    started = time.perf_counter()
    os.chdir(lesson.parent)
    try:
        for line, code in code_blocks(lesson):
            # Padded so that a traceback's line numbers are the Markdown file's.
            exec(compile("\n" * (line - 1) + code, str(lesson), "exec"), namespace)
    finally:
        os.chdir(here)
        import matplotlib.pyplot as plt

        plt.close("all")
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    chosen = [path for path in lessons() if not argv or any(path.name.startswith(a) for a in argv)]
    if not chosen:
        print(f"no lesson matches {' '.join(argv)}", file=sys.stderr)
        return 2
    for lesson in chosen:
        print(f"{lesson.name}: ", end="", flush=True)
        seconds = run_lesson(lesson)
        print(f"{seconds:.1f}s, figures: {', '.join(figures(lesson))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
