"""The layers of docs/architecture.md, kept true by the code's own imports.

The contract is stated once, in pyproject.toml (``[tool.importlinter]``, highest layer first):
a module may import from the layers below its own, never from one above, and siblings in one
layer (``ccsim.sim | ccsim.theory``) not from each other. These tests run that contract on
the import graph (grimp, which import-linter builds on: imports inside functions and under
``TYPE_CHECKING`` count too), check that it would catch a violation, that no import cycle
exists anywhere, that modules and functions stay small, that no module reaches for another's
private names, and that docs/architecture.md lists the packages and modules that exist.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
import tomllib
from functools import cache
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ccsim"

#: "No module over ~400 lines and no function over ~80" (issue #25): a module or function
#: past these needs a reason, and there is none today.
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


@cache
def layers() -> list[list[str]]:
    """The contract's layers, highest first; each a list of sibling packages."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    return [[name.strip() for name in layer.split("|")] for layer in contract["layers"]]


def _build() -> grimp.ImportGraph:
    return grimp.build_graph("ccsim", include_external_packages=False, cache_dir=None)


@cache
def graph() -> grimp.ImportGraph:
    return _build()


def _illegal(graph: grimp.ImportGraph) -> list[str]:
    from grimp import Layer

    stated = [Layer(*layer, independent=True) for layer in layers()]
    found = graph.find_illegal_dependencies_for_layers(layers=stated)
    return sorted(f"{d.importer} -> {d.imported}" for d in found)


def test_every_layer_imports_only_the_layers_below_it():
    assert _illegal(graph()) == []


def test_the_contract_catches_a_lower_layer_importing_a_higher_one():
    """The check above is not vacuous: one import upwards (the model importing the report,
    the simulation the planner) or across siblings (sim and theory) breaks it."""
    for importer, imported in [
        ("ccsim.model.units", "ccsim.report.html"),
        ("ccsim.sim.engine", "ccsim.planning.frontier"),
        ("ccsim.sim.engine", "ccsim.theory.erlang"),
        ("ccsim.files", "ccsim.model.errors"),
    ]:
        changed = _build()
        changed.add_import(importer=importer, imported=imported)
        assert _illegal(changed), (importer, imported)


def test_lint_imports_keeps_the_contract():
    """The same contract as ``lint-imports`` reads it (what a developer runs by hand)."""
    from importlinter import cli

    assert cli.lint_imports(no_cache=True, no_logo=True) == 0


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively). The
    package root is left out: its lazy public API names every layer by design."""
    edges = {
        m: sorted(i for i in graph.find_modules_directly_imported_by(m) if i != "ccsim")
        for m in graph.modules
        if m != "ccsim"
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, []))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle_anywhere():
    assert _cycles(graph()) == []


def test_the_cycle_check_finds_a_cycle():
    changed = _build()
    changed.add_import(importer="ccsim.model.units", imported="ccsim.model.scenario")
    assert any("ccsim.model.units" in component for component in _cycles(changed))


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_module_is_over_400_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in _sources()
        if (n := p.read_text().count("\n")) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_over_80_lines():
    long = {}
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"] = lines
    assert long == {}


def _module_aliases(tree: ast.Module) -> dict[str, str]:
    """The names a module binds to other ccsim modules (``import ccsim.x as y``,
    ``from ccsim.report import tables``)."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("ccsim.") and alias.asname:
                    aliases[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ccsim"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if importlib.util.find_spec(node.module) and _is_module(full):
                    aliases[alias.asname or alias.name] = full
    return aliases


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def test_no_module_imports_another_modules_private_names():
    """A leading underscore says "not for other modules": a name two modules share is made
    public where it lives, whether imported (``from m import _x``) or reached through the
    module (``m._x``). Private attributes of objects are another matter: the engine's
    callbacks read their own events' ``_value``; SimPy's internals are the clock's alone
    (:func:`test_only_the_clock_knows_simpys_internals`)."""
    private = []
    for path in _sources():
        tree = ast.parse(path.read_text())
        modules = _module_aliases(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ccsim"):
                private += [
                    f"{path.relative_to(ROOT)}:{node.lineno} {node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_") and not alias.name.startswith("__")
                ]
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in modules
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                private.append(f"{where} {node.value.id}.{node.attr}")
    assert private == []


#: SimPy's private attributes the clock reads: the environment's time, heap and event counter.
SIMPY_INTERNALS = {"_now", "_queue", "_eid"}


def test_only_the_clock_knows_simpys_internals():
    """The clock owns the heap (issue #29): SimPy's private attributes, and SimPy itself
    (the heap entry's priorities ``NORMAL`` and ``URGENT`` come from ``simpy.events``), are
    used in ``ccsim/sim/clock.py`` alone, so that a change of SimPy's internals, or of the
    layout of a heap entry, is made in one module. Everything else reads ``clock.now`` and
    schedules through the clock's methods."""
    clock = PACKAGE / "sim" / "clock.py"
    found = []
    for path in _sources():
        if path == clock:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Attribute) and node.attr in SIMPY_INTERNALS:
                found.append(f"{where} .{node.attr}")
            elif isinstance(node, ast.Import):
                found += [f"{where} import {a.name}" for a in node.names if _is_simpy(a.name)]
            elif isinstance(node, ast.ImportFrom) and _is_simpy(node.module or ""):
                found.append(f"{where} from {node.module}")
    assert found == []


def _is_simpy(module: str) -> bool:
    return module == "simpy" or module.startswith("simpy.")


# --- docs/architecture.md ----------------------------------------------------------------


def _layer_table() -> list[tuple[list[str], set[str]]]:
    """The rows of the layer table: (the packages or modules the first cell names, as
    ``sim`` or ``files``; the modules the second cell names)."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    rows = []
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        names = re.findall(r"`ccsim/([a-z_]+)(?:/|\.py)`", cells[0]) if len(cells) == 3 else []
        if names:
            rows.append((names, set(re.findall(r"`([a-z_]+)/?`", cells[1]))))
    return rows


def test_the_architecture_table_lists_the_layers_in_the_contracts_order():
    stated = [[name.removeprefix("ccsim.") for name in layer] for layer in layers()]
    table = [names for names, _ in _layer_table()]
    # Siblings of one layer may have a row each (sim, theory): the order is what counts.
    assert [name for names in table for name in names] == [n for layer in stated for n in layer]


@pytest.mark.parametrize(
    "package",
    ["model", "sim", "theory", "experiment", "planning", "study", "report", "fit", "whatif", "cli"],
)
def test_the_architecture_table_names_each_module_of_a_package(package):
    (named,) = [modules for names, modules in _layer_table() if names == [package]]
    folder = PACKAGE / package
    present = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    present |= {p.name for p in folder.iterdir() if (p / "__init__.py").is_file()}
    assert named == present


def _resolves(target: str) -> bool:
    parts = target.split(".")
    for i in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:i]))
            break
        except ImportError:
            continue
    else:
        return False
    for part in parts[i:]:
        if not hasattr(found, part):
            # A dataclass field is set on instances only: its class annotates it.
            return isinstance(found, type) and any(
                part in getattr(c, "__annotations__", {}) for c in found.__mro__
            )
        found = getattr(found, part)
    return True


def test_docstrings_name_only_code_that_exists():
    """A docstring's ``:mod:``, ``:func:``, ``:class:``... role (relative ``~.x`` or absolute
    ``ccsim.x``) names a module and object that exist: files move, references must follow."""
    stale = []
    role = re.compile(r":(?:mod|func|class|meth|data|attr|exc):`~?([A-Za-z_.][\w.]*)`")
    for path in _sources():
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for target in role.findall(path.read_text()):
            if target.startswith("."):
                dots = len(target) - len(target.lstrip("."))
                base = package.split(".")[: len(package.split(".")) - (dots - 1)]
                target = ".".join(base) + "." + target.lstrip(".")
            elif not target.startswith("ccsim"):
                continue  # a name of the module itself or of a library
            if not _resolves(target):
                stale.append(f"{path.relative_to(ROOT)}: {target}")
    assert stale == []


def test_the_docs_import_only_what_exists():
    """The Python shown in the README, docs/ and the lessons imports names that exist: the
    lessons run only in the slow tier, and a moved function broke one unseen."""
    imports = re.compile(r"from (ccsim[\w.]*) import \(?([^)]*?)\)?\s*", re.S)
    missing = []
    pages = [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "tutorials").glob("*.md")]
    for page in pages:
        text = page.read_text()
        for block in re.findall(r"```python\n(.*?)```", text, re.S):
            for statement in re.findall(
                r"^from ccsim[\w.]* import (?:\([^)]*\)|[^\n]*)", block, re.M
            ):
                match = imports.fullmatch(statement)
                module, names = match[1], match[2]
                for name in (
                    n.strip().split(" as ")[0] for n in names.replace("\n", " ").split(",")
                ):
                    if name and not _resolves(f"{module}.{name}"):
                        missing.append(f"{page.relative_to(ROOT)}: {module}.{name}")
    assert missing == []
