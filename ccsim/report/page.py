"""The pages' HTML: Jinja2 templates with autoescaping, shipped in ``ccsim/report/templates``.

``base.html`` holds what every page shares (the inline style of ``style.css``, no script, no
outside resource); ``macros.html`` the building blocks (a figure as a PNG data URI, a table
of KPIs, the target table); ``report.html``, ``run.html`` and ``validation.html`` are the
experiment report, the page of one run and the validation of a fit. The Python side computes
the numbers and the words; the templates only lay them out. jinja2 is imported when a page is
rendered, never by ``import ccsim``.
"""

from __future__ import annotations

import base64
import functools
import struct
from typing import Any

__all__ = ["render_macro", "render_page"]


def render_page(template: str, **context: Any) -> str:
    """The page of ``template`` (a file name under ``templates/``) with ``context``."""
    return _environment().get_template(template).render(**context)


def render_macro(name: str, *args: Any) -> str:
    """One building block of ``macros.html`` on its own (a table, a figure)."""
    return str(getattr(_environment().get_template("macros.html").module, name)(*args))


def _png_size(png: bytes) -> tuple[int, int]:
    return struct.unpack(">II", png[16:24])  # width and height, from the PNG's IHDR chunk


def _png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@functools.cache
def _environment():
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("ccsim.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a name the template lacks is a bug, not a blank
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["png_size"] = _png_size
    environment.filters["png_data_uri"] = _png_data_uri
    return environment
