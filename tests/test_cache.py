"""The boundary cache and all-or-nothing writes under faults: concurrent processes, corrupt files, killed writers."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

gpd = pytest.importorskip("geopandas")

from bazhong_geo import atomic, datasets  # noqa: E402
from bazhong_geo._errors import OutputError  # noqa: E402
from bazhong_geo.regions import cnmaps  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CODES = [datasets.PREFECTURE_CODE, *datasets.COUNTIES]


def _cache_file(folder: Path) -> Path:
    """The cache of Sichuan's converted polygons (the generic per-province cache every region shares)."""
    return folder / f"cnmaps-{cnmaps.cnmaps_version()}" / "wgs84_51.gpkg"


def _load_in_child(cache: str, barrier, results) -> None:
    """One process: wait for the others, then load the boundaries through the (empty) cache."""
    os.environ["BAZHONG_GEO_CACHE"] = cache
    barrier.wait(timeout=120)
    try:
        out = datasets.cnmaps_boundaries(cache=True)
        results.put(("ok", sorted(out["code"]), round(float(out.area.sum()) / 1e6, 3)))
    except BaseException as exc:  # report anything to the parent: the test asserts on it
        results.put(("failed", f"{type(exc).__name__}: {exc}", 0.0))


def test_four_processes_on_an_empty_cache_all_succeed(tmp_path):
    """Four processes convert and cache at the same moment: all succeed, the cache is whole, no temporary files."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(4)
    results = ctx.Queue()
    procs = [ctx.Process(target=_load_in_child, args=(str(tmp_path), barrier, results)) for _ in range(4)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert [o[0] for o in outcomes] == ["ok"] * 4, outcomes
    assert all(o[1] == sorted(CODES) for o in outcomes)
    assert len({o[2] for o in outcomes}) == 1                       # the same km² in every process
    assert sorted(p.name for p in _cache_file(tmp_path).parent.iterdir()) == [_cache_file(tmp_path).name]
    cached, problem = datasets.read_cache(_cache_file(tmp_path), CODES)
    assert problem == ""
    assert set(CODES) <= set(cached["code"]) and set(cached["code"]) == set(cnmaps.group_codes("51"))


@pytest.mark.parametrize(("content", "why"), [
    (b"", "empty (0 bytes)"),
    (b"SQLite format 3\x00" + b"\x00" * 50, "truncated"),
    (b"<html>proxy error</html>" * 10, "not a GeoPackage"),
])
def test_a_broken_cache_file_is_rebuilt_with_a_note(tmp_path, monkeypatch, content, why):
    monkeypatch.setenv("BAZHONG_GEO_CACHE", str(tmp_path))
    _cache_file(tmp_path).parent.mkdir()
    _cache_file(tmp_path).write_bytes(content)
    out = datasets.cnmaps_boundaries(cache=True)
    assert sorted(out["code"]) == sorted(CODES)
    assert any(why in n and "rebuilt" in n for n in out.attrs["notes"]), out.attrs
    again = datasets.cnmaps_boundaries(cache=True)                  # the rebuilt cache is used, silently
    assert "notes" not in again.attrs
    assert again.geom_equals_exact(out.set_index(out.index), tolerance=1e-6).all()


def test_a_truncated_copy_of_a_good_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("BAZHONG_GEO_CACHE", str(tmp_path))
    good = datasets.cnmaps_boundaries(cache=True)
    path = _cache_file(tmp_path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    out = datasets.cnmaps_boundaries(cache=True)
    assert any("truncated" in n for n in out.attrs["notes"])
    assert out.geom_equals_exact(good, tolerance=1e-6).all()


def test_a_cache_of_another_region_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("BAZHONG_GEO_CACHE", str(tmp_path))
    good = datasets.cnmaps_boundaries(cache=True)
    _cache_file(tmp_path).unlink()
    good.to_crs(4326).iloc[:2].to_file(_cache_file(tmp_path), driver="GPKG", engine="pyogrio", layer="boundaries")
    out = datasets.cnmaps_boundaries(cache=True)
    assert any("codes" in n for n in out.attrs["notes"])
    assert len(out) == len(CODES)


def test_an_unwritable_cache_folder_costs_only_a_note(tmp_path, monkeypatch):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("BAZHONG_GEO_CACHE", str(blocker / "cache"))
    out = datasets.cnmaps_boundaries(cache=True)
    assert sorted(out["code"]) == sorted(CODES)
    assert any("not written" in n and "is a file, not a folder" in n for n in out.attrs["notes"])


def test_load_bazhong_passes_cache_notes_on(tmp_path, monkeypatch):
    monkeypatch.setenv("BAZHONG_GEO_CACHE", str(tmp_path))
    _cache_file(tmp_path).parent.mkdir()
    _cache_file(tmp_path).write_bytes(b"")
    region = datasets.load_bazhong()
    assert any("was unusable" in n for n in region.notes)
    assert region.reports
    assert region.reports[-1].kind == "settlements"


# ============================================================================================ interrupted writes

_WRITER = textwrap.dedent("""
    import sys, time
    from bazhong_geo import atomic
    with atomic.atomic_path(sys.argv[1]) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(b"NEW" * 100000)
            fh.flush()
        print("half-way", flush=True)
        time.sleep(120)
""")


def _killed_writer(target: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(target)], stdout=subprocess.PIPE, env=env, text=True)
    try:
        assert proc.stdout.readline().strip() == "half-way"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def test_a_killed_writer_leaves_the_old_file_intact(tmp_path):
    target = tmp_path / "progress.csv"
    target.write_bytes(b"OLD")
    _killed_writer(target)
    assert target.read_bytes() == b"OLD"
    leftovers = [p for p in tmp_path.iterdir() if p != target]
    assert len(leftovers) == 1
    assert leftovers[0].name.startswith(".progress.")   # the temp file, never the target
    atomic.write_text(target, "NEW")                                            # the next run just works
    assert target.read_text(encoding="utf-8") == "NEW"


def test_a_writer_killed_while_filling_the_cache_does_not_break_the_next_run(tmp_path, monkeypatch):
    monkeypatch.setenv("BAZHONG_GEO_CACHE", str(tmp_path))
    _cache_file(tmp_path).parent.mkdir()
    _killed_writer(_cache_file(tmp_path))
    assert not _cache_file(tmp_path).exists()                       # nothing half-written under the real name
    out = datasets.cnmaps_boundaries(cache=True)
    assert sorted(out["code"]) == sorted(CODES)
    assert _cache_file(tmp_path).exists()
    assert datasets.read_cache(_cache_file(tmp_path), CODES)[1] == ""


def test_a_failed_transaction_keeps_every_old_file(tmp_path):
    old = {"a.csv": "old a", "b.md": "old b"}
    for name, text in old.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(ZeroDivisionError), atomic.Transaction() as tx:
        tx.path(tmp_path / "a.csv").write_text("new a", encoding="utf-8")
        tx.path(tmp_path / "b.md").write_text("new b", encoding="utf-8")
        tx.path(tmp_path / "c.html").write_text("new c", encoding="utf-8")
        _ = 1 / 0                                               # the command fails half-way
    assert {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()} == old


def test_a_rename_that_fails_half_way_rolls_the_others_back(tmp_path, monkeypatch):
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text(f"old {name}", encoding="utf-8")
    real = Path.replace

    def flaky(self, target):
        if Path(target).name == "b.csv" and not self.name.endswith(".old"):
            raise PermissionError(13, "Permission denied")
        return real(self, target)

    monkeypatch.setattr(Path, "replace", flaky)
    with pytest.raises(OutputError, match=r"b\.csv: cannot be replaced"), atomic.Transaction() as tx:
        tx.path(tmp_path / "a.csv").write_text("new a", encoding="utf-8")
        tx.path(tmp_path / "b.csv").write_text("new b", encoding="utf-8")
    monkeypatch.setattr(Path, "replace", real)
    assert {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()} == {"a.csv": "old a.csv",
                                                                                   "b.csv": "old b.csv"}


def test_stale_temporaries_of_killed_writers_are_swept(tmp_path, monkeypatch):
    monkeypatch.setenv("BAZHONG_GEO_CACHE", str(tmp_path))
    _cache_file(tmp_path).parent.mkdir()
    stale = _cache_file(tmp_path).parent / f".{_cache_file(tmp_path).stem}.abc123.gpkg"
    fresh = _cache_file(tmp_path).parent / f".{_cache_file(tmp_path).stem}.def456.gpkg"   # maybe another process writing right now
    for p in (stale, fresh):
        p.write_bytes(b"half")
    os.utime(stale, (0, 0))
    datasets.cnmaps_boundaries(cache=True)
    assert not stale.exists()
    assert fresh.exists()
