"""Layers kept by a test: a lower layer never imports a higher one.

The layer table lives in one place, ``docs/ARCHITECTURE.md`` (the table under
"Layer table"); this test reads it from there. Every module under
``station_portal/`` is read with ``ast``, and every import it makes counts,
including imports inside functions and under ``TYPE_CHECKING``: a late import
does not hide a dependency. Imports by string (``importlib.import_module`` in
``features.py`` and ``datafiles.py``) are not seen.

Checked:

- each module belongs to a row of the table (longest dotted name wins);
- a module imports only modules of its own row or of lower rows;
- a private name (leading underscore; ``_`` and ``_l``, the translation
  functions, excepted) or a private module is used only inside the top-level
  package that defines it (``pages.*`` may share one, ``jobs`` may not take
  ``demo``'s), by import or through a module's attribute.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import station_portal

PACKAGE = Path(station_portal.__file__).parent
ARCHITECTURE = PACKAGE.parent / "docs" / "ARCHITECTURE.md"
TABLE_START = "<!-- layer table: read by tests/unit/test_layers.py -->"
ROOT = "station_portal"
TRANSLATION_FUNCTIONS = {"_", "_l"}


@dataclass(frozen=True)
class Row:
    level: int
    layer: str
    names: tuple[str, ...]  # dotted under station_portal; "__init__" is the package itself


def layer_table(text: str) -> list[Row]:
    """The rows of the layer table in ``docs/ARCHITECTURE.md``."""
    lines = text.splitlines()
    start = lines.index(TABLE_START)
    rows = []
    for line in lines[start + 1:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not cells[0].isdigit():
            continue  # the header and its rule
        rows.append(Row(int(cells[0]), cells[1], tuple(re.findall(r"`([^`]+)`", cells[2]))))
    return rows


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name not in TRANSLATION_FUNCTIONS


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # a module of ours
    name: str | None  # the name taken from it (from-imports and attribute use), if any
    line: int


def imports_of(module: str, path: Path, modules: set[str]) -> list[Import]:
    """Every import of a ``station_portal`` module in ``module``, wherever it stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []
    aliases: dict[str, str] = {}  # a local name bound to one of our modules
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == ROOT:
                    found.append(Import(module, alias.name, None, node.lineno))
                    if alias.asname:
                        aliases[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != ROOT:
                continue
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in modules:  # from package import module
                    found.append(Import(module, submodule, None, node.lineno))
                    aliases[alias.asname or alias.name] = submodule
                else:
                    found.append(Import(module, source, alias.name, node.lineno))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and is_private(node.attr)):
            found.append(Import(module, aliases[node.value.id], node.attr, node.lineno))
    return found


def row_of(module: str, rows: list[Row]) -> Row | None:
    relative = module[len(ROOT) + 1:] if module != ROOT else "__init__"
    best: tuple[int, Row] | None = None
    for row in rows:
        for name in row.names:
            matches = relative == name or relative.startswith(name + ".")
            if matches and (best is None or len(name) > best[0]):
                best = (len(name), row)
    return best[1] if best else None


def top_package(module: str) -> str:
    """``station_portal.pages.charts.common`` → ``station_portal.pages``; a top-level
    module (``station_portal.labels``) is a package of its own."""
    return ".".join(module.split(".")[:2])


def private_imports(found: list[Import]) -> list[str]:
    """Private names and private modules used outside the top-level package that
    defines them."""
    problems = []
    for imp in found:
        if top_package(imp.importer) == top_package(imp.target):
            continue
        if imp.name is not None and is_private(imp.name):
            problems.append(f"{imp.importer} (line {imp.line}) uses the private name "
                            f"{imp.name} of {imp.target}")
        if any(is_private(part) for part in imp.target.split(".")):
            problems.append(f"{imp.importer} (line {imp.line}) imports the private module "
                            f"{imp.target}")
    return problems


def layer_violations(found: list[Import], rows: list[Row]) -> list[str]:
    problems = []
    for imp in found:
        lower, upper = row_of(imp.importer, rows), row_of(imp.target, rows)
        if lower is None or upper is None:
            continue  # reported by test_every_module_is_in_the_layer_table
        if upper.level > lower.level:
            problems.append(
                f"module {imp.importer} ({lower.layer} {lower.level}) imports {imp.target} "
                f"({upper.layer} {upper.level}) at line {imp.line}")
    return sorted(set(problems))


def everything() -> tuple[list[Row], dict[str, Path], list[Import]]:
    rows = layer_table(ARCHITECTURE.read_text(encoding="utf-8"))
    modules = all_modules()
    found = [imp for name, path in modules.items() for imp in imports_of(name, path, set(modules))]
    return rows, modules, found


def test_the_layer_table_is_read_from_the_architecture_doc():
    rows = layer_table(ARCHITECTURE.read_text(encoding="utf-8"))
    levels = [r.level for r in rows]
    assert levels == sorted(levels) and len(set(levels)) == len(levels)
    named = [n for r in rows for n in r.names]
    assert len(named) == len(set(named)), "a name stands in two rows"
    assert {"foundation", "domain", "services"} <= {r.layer for r in rows}


def test_every_module_is_in_the_layer_table():
    rows, modules, _found = everything()
    missing = [m for m in modules if row_of(m, rows) is None]
    assert not missing, "not in the layer table of docs/ARCHITECTURE.md: " + ", ".join(missing)


def test_no_module_imports_a_higher_layer():
    rows, _modules, found = everything()
    problems = layer_violations(found, rows)
    assert not problems, "a lower layer imports a higher one:\n" + "\n".join(problems)


def test_no_module_uses_another_packages_private_names():
    _rows, _modules, found = everything()
    problems = private_imports(found)
    assert not problems, "\n".join(problems)


def test_the_check_sees_late_imports_and_private_names(tmp_path):
    """The checker itself: an import inside a function and a private helper are found."""
    (tmp_path / "station_portal" / "sla").mkdir(parents=True)
    source = ("def late():\n"
              "    from station_portal.services.customer import RATEABLE\n"
              "    from station_portal.demo.orders import _shares\n"
              "    return RATEABLE, _shares\n")
    path = tmp_path / "station_portal" / "sla" / "late.py"
    path.write_text(source, encoding="utf-8")
    found = imports_of("station_portal.sla.late", path,
                       {"station_portal.services.customer", "station_portal.demo.orders"})
    rows = [Row(1, "domain", ("sla",)), Row(2, "services", ("services",)),
            Row(3, "drivers", ("demo",))]
    assert layer_violations(found, rows) == [
        "module station_portal.sla.late (domain 1) imports station_portal.demo.orders "
        "(drivers 3) at line 3",
        "module station_portal.sla.late (domain 1) imports station_portal.services.customer "
        "(services 2) at line 2"]
    assert private_imports(found) == [
        "station_portal.sla.late (line 3) uses the private name _shares of "
        "station_portal.demo.orders"]
