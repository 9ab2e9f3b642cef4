"""The tutorials run as written: every lesson's code, whose assertions are the lesson's claims,
and every figure it shows is drawn by it.

Each lesson runs in a copy of ``tutorials/`` (beside a copy of ``configs/``, which some lessons
read), with its committed figures removed first, so that a figure the Markdown shows but the
code no longer draws fails the test instead of passing on a stale file.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "tutorials"
PNG = b"\x89PNG\r\n\x1a\n"


def _runner():
    spec = importlib.util.spec_from_file_location("tutorials_run", TUTORIALS / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RUN = _runner()
LESSONS = RUN.lessons(TUTORIALS)


def test_there_are_eight_lessons_and_each_has_its_parts():
    assert len(LESSONS) >= 8
    for lesson in LESSONS:
        text = lesson.read_text(encoding="utf-8")
        assert text.startswith("# "), lesson.name
        assert "**Question.**" in text, lesson.name
        assert "## What to notice" in text and "## Exercise" in text, lesson.name
        assert RUN.code_blocks(lesson), lesson.name
        shown = RUN.figures(lesson)
        assert shown, lesson.name
        for figure in shown:  # committed, so that the lesson renders where it is read
            assert (TUTORIALS / figure).read_bytes().startswith(PNG), figure


def test_the_readme_lists_every_lesson():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    learn = readme[readme.index("## Learn") :]
    for lesson in LESSONS:
        assert f"tutorials/{lesson.name}" in learn, lesson.name


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS, ids=lambda path: path.stem)
def test_lesson_runs_and_draws_its_figures(lesson, tmp_path):
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    copy = tmp_path / "tutorials"
    shutil.copytree(TUTORIALS, copy, ignore=shutil.ignore_patterns("*.png", "__pycache__"))
    RUN.run_lesson(copy / lesson.name)
    for figure in RUN.figures(lesson):
        assert (copy / figure).read_bytes().startswith(PNG), figure
    # Nothing written outside the lesson's folder (the checkout stays clean).
    written = {p.relative_to(tmp_path).parts[0] for p in tmp_path.iterdir()}
    assert written == {"configs", "tutorials"}


def test_code_blocks_are_found_with_their_lines(tmp_path):
    lesson = tmp_path / "01_x.md"
    lesson.write_text("# x\n\n```python\na = 1\n```\n\n```text\nno\n```\n```python\nb = a\n```\n")
    assert RUN.code_blocks(lesson) == [(4, "a = 1\n"), (11, "b = a\n")]
    lesson.write_text("# x\n\n\n```python\nassert 1 == 2\n```\n")
    with pytest.raises(AssertionError) as info:
        RUN.run_lesson(lesson)
    # The traceback points at the Markdown line of the failing assertion.
    assert any(entry.path == lesson and entry.lineno + 1 == 5 for entry in info.traceback), (
        info.traceback
    )
    assert re.fullmatch(r"\d\d_\w+\.md", lesson.name)
