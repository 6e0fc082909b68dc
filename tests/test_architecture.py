"""The house stays as designed: one-way imports, no private names across modules, facts defined once.

One guard file for the whole package (it absorbed the former ``test_layering.py``). These tests read the package's
source with :mod:`ast`; they run nothing of it. (That a fresh clone needs nothing outside the repository is checked
in ``test_packaging.py``.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "bazhong_geo"
SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
# the command line may load heavy modules on demand so that `bazhong-geo --help` stays fast
LAZY_IMPORTS_ALLOWED = {"cli.py", "__init__.py"}
CLI = [p for p in SOURCES if p.name == "cli.py" or "cli" in p.relative_to(PACKAGE).parts[:-1]]  # the command line


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(path: Path, node: ast.ImportFrom) -> str:
    """Absolute module name of a relative ``from`` import."""
    if node.level == 0:
        return node.module or ""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _top_level_imports(path: Path) -> list[ast.ImportFrom | ast.Import]:
    """Imports executed when the module loads (module body, not functions, not ``if TYPE_CHECKING``)."""
    out: list = []

    def visit(body):
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                out.append(node)
            elif isinstance(node, (ast.If, ast.Try, ast.With)) and not _is_type_checking(node):
                for field in ("body", "orelse", "finalbody", "handlers"):
                    for child in getattr(node, field, []) or []:
                        visit(child.body if isinstance(child, ast.ExceptHandler) else [child])

    visit(_tree(path).body)
    return out


def _package_targets(path: Path, node) -> list[str]:
    """Package modules an import statement loads."""
    names = []
    if isinstance(node, ast.ImportFrom):
        base = _resolve(path, node)
        if not base.startswith("bazhong_geo"):
            return []
        for alias in node.names:
            candidate = f"{base}.{alias.name}"
            names.append(candidate if candidate in MODULES else base)
    else:
        names = [a.name for a in node.names if a.name.startswith("bazhong_geo")]
    return names


MODULES = {_module_name(p): p for p in SOURCES}


def _graph() -> dict[str, set[str]]:
    graph = {}
    for name, path in MODULES.items():
        deps = set()
        for node in _top_level_imports(path):
            for target in _package_targets(path, node):
                while target not in MODULES and "." in target:
                    target = target.rsplit(".", 1)[0]
                if target != name and target in MODULES and not name.startswith(target + "."):
                    deps.add(target)
        graph[name] = deps
    return graph


def test_no_import_cycles():
    graph = _graph()
    state: dict[str, int] = {}
    cycles = []

    def dfs(node, stack):
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycles.append(" -> ".join([*stack[stack.index(dep):], dep]))
            elif dep not in state:
                dfs(dep, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            dfs(node, [])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_names_imported_across_modules(path):
    bad = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("bazhong_geo")):
            bad += [f"line {node.lineno}: {alias.name}" for alias in node.names
                    if alias.name.startswith("_") and alias.name != "__version__"]
    assert not bad, f"{path.name} imports private names: {bad}"


@pytest.mark.parametrize("path", [p for p in SOURCES if p.name not in LAZY_IMPORTS_ALLOWED and p not in CLI],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_sibling_modules_are_imported_at_the_top(path):
    tree = _tree(path)
    inner = [f"line {node.lineno}: from {'.' * node.level}{node.module or ''} import ..."
             for func in ast.walk(tree) if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef))
             for node in ast.walk(func) if isinstance(node, ast.ImportFrom) and node.level]
    assert not inner, f"{path.name} imports package modules inside functions: {inner}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_guards_for_the_packages_own_modules(path):
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Try):
            caught = " ".join(ast.unparse(h.type) for h in node.handlers if h.type is not None)
            own = [n for n in node.body if isinstance(n, ast.ImportFrom) and n.level]
            assert not ("ImportError" in caught and own), f"{path.name} line {node.lineno} guards its own import"


def _string_constants(tree: ast.Module):
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            docstrings.add(id(node.value))  # attribute docstrings
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node


def test_the_work_crs_is_defined_once():
    """The work CRS is spelled once, in settings.py: as text ("EPSG:4545", "4545") or as a number (4545).

    Error messages may mention it inside a longer sentence ("e.g. set_crs('EPSG:4545')"); a constant that *is* the
    CRS (an assignment, a dropdown entry, ``to_crs(4545)``) anywhere else is a copy.
    """
    places = []
    for path in SOURCES:
        tree = _tree(path)
        places += [f"{path.relative_to(PACKAGE)}:{node.lineno}" for node in _string_constants(tree)
                   if node.value.strip().upper() in ("EPSG:4545", "4545")]
        places += [f"{path.relative_to(PACKAGE)}:{node.lineno} (a number)" for node in ast.walk(tree)
                   if isinstance(node, ast.Constant) and type(node.value) is int and node.value == 4545]
    assert len(places) == 1, places
    assert places[0].startswith("settings.py:"), places


def test_the_work_crs_check_catches_copies(tmp_path):
    """The guard above sees the spellings of a copied work CRS (text and number) and not a mention in a message."""
    copies = ['WORK = "EPSG:4545"', "WORK_EPSG = 4545", 'gdf.to_crs("epsg:4545")', 'OPTIONS = ("wgs84", "EPSG:4545")']
    mention = ['raise ValueError("no CRS; set it first, e.g. gdf.set_crs(\'EPSG:4545\')")']
    def hits(line):
        tree = ast.parse(line)
        return [n for n in _string_constants(tree) if n.value.strip().upper() in ("EPSG:4545", "4545")] + \
            [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and type(n.value) is int and n.value == 4545]
    assert [bool(hits(c)) for c in copies] == [True] * len(copies)
    assert [bool(hits(m)) for m in mention] == [False]


# Bazhong's facts live in region.py (RegionInfo BAZHONG); the codes of its units must not be copied elsewhere
FACTS_HOME = "region.py"
BAZHONG_UNITS = ("511900", "511902", "511903", "511921", "511922", "511923", "511971")


def _assigned_values(tree: ast.Module):
    """(name, value) of every assignment in the module body and in class bodies."""
    bodies = [tree.body] + [n.body for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    for body in bodies:
        for node in body:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
                node, ast.AnnAssign) else []
            for t in targets:
                if isinstance(t, ast.Name) and node.value is not None:
                    yield t.id, node.value


@pytest.mark.parametrize("path", [p for p in SOURCES if str(p.relative_to(PACKAGE)) != FACTS_HOME],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_region_facts_are_not_copied(path):
    """No module other than region.py holds a Bazhong code as a constant (a table, a comparison, a default)."""
    tree = _tree(path)
    copied = [f"line {node.lineno}: {node.value!r}" for node in _string_constants(tree)
              if node.value.strip() in BAZHONG_UNITS]
    for ident, value in _assigned_values(tree):
        literal = ast.unparse(value)
        copied += [f"{ident} = ...{code}..." for code in BAZHONG_UNITS if f"'{code}'" in literal]
    assert not copied, f"{path.name} copies Bazhong's codes {copied}; use bazhong_geo.region.BAZHONG"


def test_generic_layers_do_not_depend_on_bazhongs():
    """The data flows one way: foundations below datasets, the generic region loader below Bazhong's, the plan
    (targets) below its trajectory and the report."""
    graph = _graph()

    def deps(prefix):
        return set().union(*(d for m, d in graph.items() if m == prefix or m.startswith(prefix + ".")))

    pkg = "bazhong_geo"
    for low in ("_validate", "io", "regions", "region", "settings", "vocabulary", "units"):
        assert f"{pkg}.datasets" not in deps(f"{pkg}.{low}"), f"{low} imports datasets"
    assert not {m for m in deps(f"{pkg}.region") if m.startswith(f"{pkg}.regions")}, "region imports regions"
    assert not deps(f"{pkg}.targets") & {f"{pkg}.trajectory", f"{pkg}.report"}
    assert f"{pkg}.targets" in graph[f"{pkg}.trajectory"]
    assert {f"{pkg}.targets", f"{pkg}.trajectory"} <= graph[f"{pkg}.report"]
    assert f"{pkg}.regions.load" in deps(f"{pkg}.datasets")          # load_bazhong is the generic loader + Bazhong


def _literal_of(tree: ast.Module, name: str):
    for ident, value in _assigned_values(tree):
        if ident == name:
            return ast.literal_eval(value)
    raise AssertionError(f"__init__.py defines no literal {name}")


def _top_level_names(path: Path) -> set[str]:
    names = set()
    for node in _tree(path).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _module_file(name: str) -> Path:
    single = PACKAGE / f"{name}.py"
    return single if single.is_file() else PACKAGE / name / "__init__.py"


def test_the_public_face_is_complete_and_lazy():
    """``bazhong_geo.__all__`` lists exactly the lazy exports and modules; each export is defined where it points."""
    init = _tree(PACKAGE / "__init__.py")
    exports, modules, listed = (_literal_of(init, n) for n in ("_EXPORTS", "_MODULES", "__all__"))
    assert sorted(listed) == sorted([*exports, *modules, "__version__"])
    assert len(listed) == len(set(listed))
    assert not set(exports) & set(modules), "a name cannot be both a function and a module"
    for module in modules:
        assert _module_file(module).is_file(), module
    for name, module in exports.items():
        assert name in _top_level_names(_module_file(module)), f"{name} is not defined in bazhong_geo.{module}"
    top = [n for n in _top_level_imports(PACKAGE / "__init__.py") if isinstance(n, ast.ImportFrom) and n.level]
    assert not top, "__init__.py imports package modules at import time; keep it lazy"


def test_exactextract_is_a_test_time_peer_only():
    users = [str(p.relative_to(PACKAGE)) for p in SOURCES
             if any((isinstance(n, (ast.Import, ast.ImportFrom))
                    and any("exactextract" in (a.name or "") for a in n.names))
                    or (isinstance(n, ast.ImportFrom) and (n.module or "").startswith("exactextract"))
                    for n in ast.walk(_tree(p)))]
    assert not users, users


@pytest.mark.parametrize("path", [p for p in SOURCES if p not in CLI], ids=lambda p: str(p.relative_to(PACKAGE)))
def test_library_code_never_prints(path):
    calls = [n.lineno for n in ast.walk(_tree(path))
             if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"]
    assert not calls, f"{path.name} prints at lines {calls}"


def _public_functions(tree: ast.Module):
    """Public module-level functions and public methods of public classes."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            yield node.name, node
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and not item.name.startswith("_"):
                    yield f"{node.name}.{item.name}", item


def _missing_annotations(func: ast.FunctionDef) -> list[str]:
    args = func.args
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    missing = [a.arg for a in params if a.annotation is None and a.arg not in ("self", "cls")]
    missing += [f"*{a.arg}" for a in (args.vararg, args.kwarg) if a is not None and a.annotation is None]
    if func.returns is None:
        missing.append("return")
    return missing


@pytest.mark.parametrize("path", [p for p in SOURCES if not p.name.startswith("_") or p.name == "__init__.py"],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_public_functions_are_annotated(path):
    missing = {name: gaps for name, func in _public_functions(_tree(path)) if (gaps := _missing_annotations(func))}
    assert not missing, f"{path.name}: public functions without annotations: {missing}"
