"""The runnable examples in the docstrings run and give what they show (examples marked +SKIP need user files)."""

import doctest
import importlib
import pkgutil

import pytest

import bazhong_geo

MODULES = sorted(m.name for m in pkgutil.walk_packages(bazhong_geo.__path__, "bazhong_geo."))  # subpackages too


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.setenv("BAZHONG_GEO_CACHE", str(tmp_path))
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_the_walk_reaches_subpackages():
    """Modules inside subpackages (regions, zonal, io, maps) are collected, not only the top-level ones."""
    for sub in ("regions", "zonal", "io", "maps"):
        assert f"bazhong_geo.{sub}" in MODULES
        assert any(m.startswith(f"bazhong_geo.{sub}.") for m in MODULES), sub
    assert {"bazhong_geo.regions.load", "bazhong_geo.regions.cnmaps", "bazhong_geo.regions.info"} <= set(MODULES)


def test_public_modules_have_examples():
    """Each analysis module (and each module of the region subpackage) shows at least one runnable example."""
    for name in ("crs", "settlements", "builtup", "urbanization", "catchments", "network", "accessibility",
                 "targets", "designation", "maps", "region", "datasets", "compare", "regions.tables",
                 "regions.workcrs", "regions.cnmaps", "regions.info", "regions.load"):
        tests = doctest.DocTestFinder(exclude_empty=True).find(importlib.import_module(f"bazhong_geo.{name}"))
        runnable = [ex for t in tests for ex in t.examples if not ex.options.get(doctest.SKIP)]
        assert runnable, name
