"""The vocabulary and data layer flows one way: no import cycles among these modules, sibling imports at the top,
no private names imported across modules, Bazhong facts and the work CRS defined once."""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "bazhong_geo"
# the foundation modules of this layer (settings → region/units/vocabulary → io → datasets → targets → report);
# a subpackage counts with all its modules (io.columns, io.formats …)
LAYER_TOP = ("settings", "region", "units", "vocabulary", "resources", "_validate", "io", "settlements",
             "datasets", "targets", "trajectory", "report")


def _modules():
    out = {}
    for top in LAYER_TOP:
        if (PKG / f"{top}.py").is_file():
            out[top] = PKG / f"{top}.py"
        else:
            for f in sorted((PKG / top).glob("*.py")):
                out[top if f.stem == "__init__" else f"{top}.{f.stem}"] = f
    return out


MODULES = _modules()
LAYER = tuple(MODULES)


def _resolve(name, level, module):
    """The dotted module (relative to bazhong_geo) an import of ``module`` at ``level`` in ``name`` names."""
    is_pkg = MODULES[name].name == "__init__.py"
    parts = name.split(".") if is_pkg else name.split(".")[:-1]
    base = parts[:len(parts) - (level - 1)] if level > 1 else parts
    return ".".join(base + ([module] if module else []))


def _sibling_imports(name):
    """(module imported, names imported, at top level?) for every relative import of module ``name``."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    top = set(map(id, tree.body))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level >= 1:
            names = [a.name for a in node.names]
            target = _resolve(name, node.level, node.module)
            if node.module is None:           # from . import a, b
                out += [(_resolve(name, node.level, n), [], id(node) in top) for n in names]
            else:
                out.append((target, names, id(node) in top))
    return out


def _graph():
    graph = {}
    for m in LAYER:
        deps = set()
        for dep, _, _ in _sibling_imports(m):
            while dep and dep not in MODULES:      # bazhong_geo.crs is outside the layer; io.x.y -> io.x
                dep = dep.rpartition(".")[0]
            if dep and not m.startswith(dep + ".") and dep != m:   # a package's own __init__ is not a dependency
                deps.add(dep)
        graph[m] = deps
    return graph


def test_no_import_cycle_in_the_layer():
    graph = _graph()
    state = {}

    def visit(m, path):
        state[m] = "open"
        for dep in sorted(graph[m]):
            if state.get(dep) == "open":
                pytest.fail("import cycle: " + " -> ".join(path[path.index(dep):] + [dep]))
            if dep not in state:
                visit(dep, path + [dep])
        state[m] = "done"

    for m in LAYER:
        if m not in state:
            visit(m, [m])


def test_known_edges_point_one_way():
    graph = _graph()
    assert "datasets" not in graph["_validate"]
    assert not any("datasets" in graph[m] for m in LAYER if m == "io" or m.startswith("io."))
    assert "trajectory" not in graph["targets"] and "report" not in graph["targets"]
    assert "targets" in graph["trajectory"] and {"targets", "trajectory"} <= graph["report"]


@pytest.mark.parametrize("name", LAYER)
def test_sibling_imports_at_top_and_public(name):
    for dep, names, at_top in _sibling_imports(name):
        assert at_top, f"{name}: imports .{dep} inside a function; import sibling modules at the top"
        private = [n for n in names if n.startswith("_")]
        assert not private, f"{name}: imports private name(s) {private} from .{dep}; make them public"


def _assigned_constants(name):
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) else []
        for t in targets:
            if isinstance(t, ast.Name) and node.value is not None:
                yield t.id, node.value


def test_region_facts_and_work_crs_are_not_copied():
    """No module of the layer other than settings/region spells the work CRS, the prefecture or a county list."""
    assert {"io", "io.readers", "io.columns"} <= set(LAYER)       # subpackage modules are checked too
    for name in LAYER:
        if name in ("settings", "region"):
            continue
        for ident, value in _assigned_constants(name):
            literal = ast.unparse(value)
            assert "EPSG:4545" not in literal, f"{name}.{ident} redefines the work CRS; use settings.WORK_CRS"
            assert "'511900'" not in literal and '"511900"' not in literal, \
                f"{name}.{ident} copies the prefecture code; use region.BAZHONG"
            assert "'511971'" not in literal and "'511902'" not in literal, \
                f"{name}.{ident} copies county codes; use region.BAZHONG"
