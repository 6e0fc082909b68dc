"""The package is self-contained: tables ship inside it, a non-editable install works from any folder, the
planner's override folder wins, and nothing in the repository reaches for a folder outside it."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bazhong_geo import cli, resources, targets

REPO = Path(__file__).resolve().parent.parent
SCANNED = ["bazhong_geo", "tests", "notebooks", "tools", "benchmarks"]
# a path to the shared reference folder outside the repository, however spelled
OUTSIDE = re.compile(r"""\.\./shared|["']shared["']|parents?\b[^\n]*/\s*["']shared|/work/shared""")


def test_nothing_reads_outside_the_repository():
    offenders = []
    for top in SCANNED:
        for path in sorted((REPO / top).rglob("*")):
            if path.suffix not in (".py", ".ipynb", ".toml", ".cfg") or path == Path(__file__).resolve():
                continue
            for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if OUTSIDE.search(line):
                    offenders.append(f"{path.relative_to(REPO)}:{no}: {line.strip()[:100]}")
    assert offenders == [], "paths outside the repository (copy the file into the repo with its provenance):\n" + \
        "\n".join(offenders)


def _untracked(*tops: str) -> list[str]:
    """Files under ``tops`` that git does not track (untracked or ignored): a fresh clone would not have them."""
    out = subprocess.run(["git", "-C", str(REPO), "ls-files", "--others", "--", *tops], capture_output=True,
                         text=True, timeout=60, check=True)
    junk = ("__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".ruff_cache")
    return [f for f in out.stdout.splitlines() if not any(j in f for j in junk) and not f.endswith(".pyc")]


def _tracked(top: str) -> set[str]:
    out = subprocess.run(["git", "-C", str(REPO), "ls-files", "--", top], capture_output=True, text=True, timeout=60,
                         check=True)
    return set(out.stdout.splitlines())


def test_a_fresh_clone_has_every_file_the_suite_reads():
    """A fresh clone holds what git tracks: the package, tests, notebooks and tools read no file that only exists
    in this working copy (untracked or ignored), and every table the package names is committed."""
    assert _untracked(*SCANNED) == [], "files only in this working copy (commit them with their provenance)"
    tracked = _tracked("bazhong_geo/data")
    named = set()
    for path in (REPO / "bazhong_geo").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if path.relative_to(REPO).as_posix() == "bazhong_geo/regions/tables.py":   # its tables live in data/china/
            named |= {f"china/{n}" for n in re.findall(r"""(?:data_file|_read_csv)\(["']([^"']+)["']""", text)}
        else:
            named |= set(re.findall(r"""data_file\(["']([^"']+)["']\)""", text))
    named |= set(resources.EDITABLE)
    missing = [rel for rel in sorted(named)
               if f"bazhong_geo/data/{rel}" not in tracked and not any(t.startswith(f"bazhong_geo/data/{rel}/")
                                                                       for t in tracked)]
    assert {"settlements/register.csv", "china/streets.csv.gz", "china/PROVENANCE.md"} <= named   # the scan sees both
    assert missing == [], f"tables the package reads but git does not track: {missing}"


def test_guard_pattern_catches_the_old_spellings():
    # spellings of a path out of the repository, built from a placeholder so that this file holds none itself
    bad = [s.replace("SIBLING", "sha" + "red") for s in (
        'SIBLING_DIR = REPO.parent / "SIBLING" / "data"', 'Path("../SIBLING/data/bazhong")',
        'Path(__file__).resolve().parents[2] / "SIBLING" / "x.csv"', 'open("/work/SIBLING/data/x.csv")')]
    good = ['"shared FACTS.md: figures"', "shared edges stay shared", 'SOURCES = REPO / "bazhong_geo" / "data"']
    assert [bool(OUTSIDE.search(s)) for s in bad] == [True] * len(bad)
    assert [bool(OUTSIDE.search(s)) for s in good] == [False] * len(good)


def test_every_table_is_read_from_the_package():
    pkg = REPO / "bazhong_geo" / "data"
    assert resources.package_data_dir().resolve() == pkg.resolve()
    for rel in resources.EDITABLE:
        assert (pkg / rel).exists(), rel
    assert resources.data_file("settlements/register.csv") == resources.package_data_dir() / "settlements/register.csv"


def test_override_folder_wins_file_by_file(tmp_path, monkeypatch):
    written = resources.init_data_folder(tmp_path)
    assert {p.relative_to(tmp_path).as_posix() for p in written} >= {
        "config/catchment_radii.csv", "config/road_speeds.csv", "config/profiles/key-town.toml",
        "settlements/plan_2020.csv", "settlements/indicators.csv", "settlements/register.csv"}
    # a planner edits the indicators table in their folder and deletes the plan: indicators from the folder,
    # plan from the package
    ind = tmp_path / "settlements" / "indicators.csv"
    table = pd.read_csv(ind, dtype=str, keep_default_na=False)
    row = (table["key"] == "urbanization_rate") & (table["scope"] == "511900") & (table["year"] == "2020")
    assert row.sum() == 1
    table.loc[row, "value"] = "47.5"
    table.to_csv(ind, index=False)
    (tmp_path / "settlements" / "plan_2020.csv").unlink()
    monkeypatch.setenv("BAZHONG_GEO_DATA", str(tmp_path))
    assert resources.data_source("settlements/indicators.csv") == "override"
    assert resources.data_source("settlements/plan_2020.csv") == "package"
    got = targets.load_indicators().query("key == 'urbanization_rate' and scope == '511900' and year == 2020")
    assert got["value"].item() == 47.5
    assert len(targets.load_plan()) > 0
    # init keeps the planner's edits unless told to overwrite
    assert ind not in resources.init_data_folder(tmp_path)
    assert "47.5" in ind.read_text(encoding="utf-8")


def test_data_command_init_and_path(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "plans"
    assert cli.main(["data", "init", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"BAZHONG_GEO_DATA={folder}" in out
    assert (folder / "settlements" / "register.csv").is_file()
    monkeypatch.setenv("BAZHONG_GEO_DATA", str(folder))
    assert cli.main(["data", "path"]) == 0
    lines = {ln.split()[0]: ln.split()[1:] for ln in capsys.readouterr().out.splitlines()[1:]}
    assert lines["settlements/register.csv"] == ["override", str(folder / "settlements" / "register.csv")]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``pip install .`` (not editable) into a fresh folder: what a wheel carries."""
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    # build from a copy of the sources so that no build/ or egg-info litter lands in the worktree
    src = build / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".git", "__pycache__", "build", "*.egg-info",
                                                              ".pytest_cache", ".hypothesis", "*.html", "*.png"))
    run = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                          "--no-compile", "--target", str(target), str(src)], check=False, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return target


def test_installed_package_carries_every_table(installed):
    shipped = sorted(p.relative_to(REPO / "bazhong_geo").as_posix()
                     for p in (REPO / "bazhong_geo" / "data").rglob("*") if p.is_file())
    got = sorted(p.relative_to(installed / "bazhong_geo").as_posix()
                 for p in (installed / "bazhong_geo" / "data").rglob("*") if p.is_file())
    assert got == shipped


def test_installed_package_works_from_another_folder(installed, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(installed), "BAZHONG_GEO_CACHE": str(tmp_path / "cache")}
    env.pop("BAZHONG_GEO_DATA", None)
    code = (
        "import bazhong_geo as bg, bazhong_geo.profiles as pr, bazhong_geo.resources as rs, pathlib\n"
        f"assert pathlib.Path(bg.__file__).parent == pathlib.Path({str(installed)!r}) / 'bazhong_geo', bg.__file__\n"
        "reg = bg.read_settlements(rs.data_file('settlements/register.csv'))\n"
        "plan = bg.load_plan()\n"
        "prof = bg.load_profile('key-town')\n"
        "print(len(reg), len(plan) > 0, prof.name, len(pr.available_profiles()))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=False, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    n_reg, has_plan, name, n_prof = run.stdout.split()
    expected = len(pd.read_csv(REPO / "bazhong_geo" / "data" / "settlements" / "register.csv"))
    assert (int(n_reg), has_plan, name) == (expected, "True", "key-town")
    assert int(n_prof) == len(list((REPO / "bazhong_geo" / "data" / "config" / "profiles").glob("*.toml")))
    run = subprocess.run([sys.executable, "-m", "bazhong_geo.cli", "summary"], cwd=tmp_path, env=env,
                         check=False, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "巴州区" in run.stdout


def test_installed_package_makes_the_meeting_map_from_another_folder(installed, tmp_path):
    """Done means: after a non-editable install, `bazhong-geo map` run from any folder makes the map."""
    env = {**os.environ, "PYTHONPATH": str(installed), "BAZHONG_GEO_CACHE": str(tmp_path / "cache")}
    env.pop("BAZHONG_GEO_DATA", None)
    run = subprocess.run([sys.executable, "-m", "bazhong_geo.cli", "map"], cwd=tmp_path, env=env,
                         check=False, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    html = (tmp_path / "bazhong_progress.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "巴州区" in html
    assert "平昌县" in html
