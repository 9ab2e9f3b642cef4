"""Check an experiment report page without a browser.

    python scripts/check_report.py results/overflow_threshold/report.html

Parses the page with the standard library's ``html.parser`` and checks that it is complete
and self-contained: it opens with a non-empty answer sentence, the headline chart, the target
table (or the sentence that says why there is none) and the sensitivity section, before the
detail below the fold; the models table has a column per model and rows, every table has rows,
every image is an embedded PNG (a base64 data URI with the PNG signature, of plausible size,
the same bytes as its file under ``figures/``), and nothing is loaded from outside the page
(no ``src``/``href`` but data URIs and in-page anchors, no ``<link>``, ``<script>``,
``<iframe>``, no CSS ``url()`` or ``@import`` but data URIs). Prints a short summary; exit
status 0 when all is well, 1 with the problems listed, 2 for a usage error.

Standard library only, so it runs wherever the page is copied.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MIN_PNG_BYTES = 2_000  # an empty figure is a few hundred bytes
MIN_PNG_WIDTH = 300
_URL_ATTRIBUTES = {"src", "href", "srcset", "poster", "data", "action", "formaction", "background"}
_FORBIDDEN_TAGS = {"script", "link", "iframe", "object", "embed", "frame"}
_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]*)|@import", re.IGNORECASE)


@dataclass
class Table:
    id: str
    columns: list[str] = field(default_factory=list)  # data-scenario of the header cells
    rows: list[str] = field(default_factory=list)  # data-kpi of the body rows
    n_rows: int = 0  # body rows with data cells


@dataclass
class Image:
    figure: str  # the id of the enclosing figure, without "fig-"
    src: str
    width: str | None
    height: str | None


@dataclass
class Page:
    """What the parser found in a report page."""

    title: str = ""
    doctype: bool = False
    tables: dict[str, Table] = field(default_factory=dict)
    images: list[Image] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # figures not shown: id -> text
    sections: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)  # what would load from outside


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._stack: list[tuple[str, dict[str, str | None]]] = []
        self._table: Table | None = None
        self._in_body = self._row_has_data = False
        self._note: str | None = None
        self._text: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.page.doctype = self.page.doctype or decl.lower().startswith("doctype html")

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        self._check_urls(tag, attributes)
        if tag in _FORBIDDEN_TAGS:
            self.page.external.append(f"<{tag}> element")
        if tag not in ("img", "br", "meta", "input", "hr", "link"):
            self._stack.append((tag, attributes))
        if tag == "section" and attributes.get("id"):
            self.page.sections.append(attributes["id"])
        elif tag == "table":
            self._table = Table(attributes.get("id") or f"table{len(self.page.tables) + 1}")
            self.page.tables[self._table.id] = self._table
        elif tag == "tbody":
            self._in_body = True
        elif tag == "th" and self._table is not None and not self._in_body:
            if attributes.get("data-scenario") is not None:
                self._table.columns.append(attributes["data-scenario"])
        elif tag == "tr" and self._table is not None and self._in_body:
            self._row_has_data = False
            if attributes.get("data-kpi") is not None:
                self._table.rows.append(attributes["data-kpi"])
        elif tag == "td" and self._table is not None and self._in_body:
            self._row_has_data = True
        elif tag == "img":
            figure = next((a.get("id", "") for t, a in reversed(self._stack) if t == "figure"), "")
            self.page.images.append(
                Image(
                    figure.removeprefix("fig-"),
                    attributes.get("src") or "",
                    attributes.get("width"),
                    attributes.get("height"),
                )
            )
        elif tag == "p" and (attributes.get("id") or "").startswith("fig-"):
            self._note, self._text = attributes["id"].removeprefix("fig-"), []
        elif tag == "title":
            self._text = []

    def handle_endtag(self, tag) -> None:
        while self._stack:
            if self._stack.pop()[0] == tag:
                break
        if tag == "table":
            self._table, self._in_body = None, False
        elif tag == "tbody":
            self._in_body = False
        elif tag == "tr" and self._table is not None and self._row_has_data:
            self._table.n_rows += 1
            self._row_has_data = False
        elif tag == "p" and self._note is not None:
            self.page.notes[self._note] = " ".join("".join(self._text).split())
            self._note = None
        elif tag == "title":
            self.page.title = "".join(self._text).strip()

    def handle_data(self, data: str) -> None:
        self._text.append(data)
        if self._stack and self._stack[-1][0] == "style":
            self._check_css(data, "<style>")

    def _check_urls(self, tag: str, attributes: dict[str, str | None]) -> None:
        for name, value in attributes.items():
            value = (value or "").strip()
            if name in _URL_ATTRIBUTES and value and not value.startswith(("data:", "#")):
                self.page.external.append(f"<{tag} {name}={value[:60]!r}>")
            if name == "style":
                self._check_css(value, f"<{tag} style>")

    def _check_css(self, css: str, where: str) -> None:
        for match in _CSS_URL.finditer(css):
            if match[0].lower() == "@import" or not match[1].strip().startswith("data:"):
                self.page.external.append(f"{where}: {match[0][:60]}")


def parse(text: str) -> Page:
    """The tables, images, notes and outside references of a report page."""
    parser = _Parser()
    parser.feed(text)
    parser.close()
    return parser.page


def decode_png(src: str) -> bytes:
    """The PNG bytes of a ``data:image/png;base64,...`` URI; ValueError if it is not one."""
    prefix = "data:image/png;base64,"
    if not src.startswith(prefix):
        raise ValueError(f"not a PNG data URI: {src[:40]!r}")
    try:
        png = base64.b64decode(src[len(prefix) :], validate=True)
    except binascii.Error as exc:
        raise ValueError(f"bad base64 ({exc})") from None
    if not png.startswith(PNG_SIGNATURE) or png[12:16] != b"IHDR":
        raise ValueError("no PNG signature")
    return png


def png_size(png: bytes) -> tuple[int, int]:
    return struct.unpack(">II", png[16:24])


def check(path: str | Path) -> tuple[Page, list[str], list[str]]:
    """Parse and check a report page: (page, summary lines, problems)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    page = parse(text)
    problems, lines = [], [f"{path}: {len(text.encode()) / 1024:.0f} kB, {page.title!r}"]
    if not page.doctype:
        problems.append("no <!DOCTYPE html>")
    if not page.title:
        problems.append("no <title>")
    models = page.tables.get("models")
    if models is None:
        problems.append("no models table (id='models')")
    elif not models.columns or not models.rows:
        problems.append("the models table has no model columns or no rows")
    for table in page.tables.values():
        shape = f"{len(table.columns)} model(s) x {table.n_rows} row(s)"
        lines.append(f"  table {table.id}: {shape}: {', '.join(dict.fromkeys(table.rows))}")
        if table.n_rows == 0:
            problems.append(f"table {table.id} has no rows")
    for image in page.images:
        name = image.figure or "?"
        try:
            png = decode_png(image.src)
        except ValueError as exc:
            problems.append(f"image {name}: {exc}")
            continue
        width, height = png_size(png)
        lines.append(f"  image {name}: PNG {width}x{height}, {len(png) / 1024:.0f} kB")
        if len(png) < MIN_PNG_BYTES or width < MIN_PNG_WIDTH:
            problems.append(f"image {name}: too small ({width}x{height}, {len(png)} bytes)")
        if (image.width, image.height) != (str(width), str(height)) and image.width is not None:
            problems.append(f"image {name}: width/height attributes differ from the PNG")
        saved = path.parent / "figures" / f"{name}.png"
        if not saved.is_file():
            problems.append(f"image {name}: {saved} missing")
        elif saved.read_bytes() != png:
            problems.append(f"image {name}: {saved} differs from the embedded image")
    if not page.images:
        problems.append("no images")
    problems += _check_top(page, text)
    for name, note in page.notes.items():
        lines.append(f"  not shown: {name}: {note}")
    lines.append(f"  external resources: {len(page.external) or 'none'}")
    problems += [f"loads from outside the page: {item}" for item in page.external]
    return page, lines, problems


def _check_top(page: Page, text: str) -> list[str]:
    """The page answers first: a non-empty answer sentence, then the headline chart, the
    target table (or the sentence saying why not) and the sensitivity section, all before
    the detail below the fold."""
    if "answer" not in page.sections:
        return []  # a page of an older ccsim, or one scenario's page
    problems = []
    sentence = re.search(r'id="answer-sentence">([^<]*)<', text)
    if sentence is None or not sentence[1].strip():
        problems.append("the answer sentence is missing or empty")
    if "headline" not in {image.figure for image in page.images} | set(page.notes):
        problems.append("no headline chart (id='fig-headline'), nor a note saying why")
    fold = text.find('<details id="detail">')
    top = text[:fold] if fold >= 0 else text
    order = ['id="answer-sentence"', 'id="fig-headline"', 'id="targets-met"', 'id="sensitivity"']
    places = [top.find(marker) for marker in order]
    if -1 in places or places != sorted(places):
        problems.append("the top of the page is not answer, headline, targets, sensitivity")
    if "targets" not in page.tables and "Not judged" not in top:
        problems.append("no target table (id='targets'), nor a sentence saying why")
    return problems


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python scripts/check_report.py PATH/report.html", file=sys.stderr)
        return 2
    if not Path(argv[0]).is_file():
        print(f"check_report: {argv[0]}: no such file", file=sys.stderr)
        return 2
    _, lines, problems = check(argv[0])
    print("\n".join(lines))
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
