"""Small, valid reference inputs and the ways to break them (files, frames, tables), for the bad-input corpus."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Point, Polygon

SQ_A = Polygon([(106.6, 31.7), (106.9, 31.7), (106.9, 32.0), (106.6, 32.0)])
SQ_B = Polygon([(107.0, 31.7), (107.3, 31.7), (107.3, 32.0), (107.0, 32.0)])

PLAN_HEADER = ("key,indicator,description_zh,description_en,unit,comparison,target,target_year,baseline_year,scope,"
               "definition,source")
PLAN_ROW = ("urbanization_rate,urbanization_rate,城镇化率,Urbanization rate,percent,>=,45,2020,2017,511900,"
            "resident_urban_share,test")
IND_HEADER = "key,scope,year,value,unit,kind,bound,definition,note,source"
IND_ROW = "urbanization_rate,511900,2020,46.16,percent,reported,,resident_urban_share,,test"


def boundaries(geoms=(SQ_A, SQ_B), codes=("511902", "511921"), names=("巴州区", "通江县"), crs=4490):
    return gpd.GeoDataFrame({"code": list(codes), "name": list(names)}, geometry=list(geoms), crs=crs)


def write_boundaries(folder: Path, name: str = "b.gpkg", **kw) -> Path:
    path = folder / name
    boundaries(**kw).to_file(path)
    return path


def register(changes: dict | None = None) -> pd.DataFrame:
    """The reference register; ``changes`` maps (column, row) -> a bad value."""
    df = pd.DataFrame({
        "code": ["511900", "511921", "511921101", "511921101201"],
        "name": ["巴城", "通江县城", "诺江镇", "某村"],
        "tier": ["central_city", "county_town", "town", "village"],
        "parent_code": ["", "511900", "511921", "511921101"],
        "lon": [106.764727, 107.240525, 107.25, 107.26],
        "lat": [31.853662, 31.913888, 31.92, 31.93],
        "population": [608152, 150000, 22000, 900],
    })
    for (col, row), value in (changes or {}).items():
        df[col] = df[col].astype(object)
        df.loc[row, col] = value
    return df


def write_register(folder: Path, name: str = "r.csv", df: pd.DataFrame | None = None,
                   changes: dict | None = None) -> Path:
    path = folder / name
    (register(changes) if df is None else df).to_csv(path, index=False)
    return path


def system_frame(crs=4326) -> gpd.GeoDataFrame:
    df = register()
    return gpd.GeoDataFrame(df.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(df.lon, df.lat), crs=crs)


def roads(crs=4545, speed=(40.0, 60.0)) -> gpd.GeoDataFrame:
    x0, y0 = 520000.0, 3530000.0
    lines = [LineString([(x0, y0), (x0 + 5000, y0)]), LineString([(x0 + 5000, y0), (x0 + 5000, y0 + 5000)])]
    return gpd.GeoDataFrame({"speed_kmh": list(speed)}, geometry=lines, crs=crs)


def zones(crs=4545) -> gpd.GeoDataFrame:
    x0, y0 = 520000.0, 3530000.0
    sq = Polygon([(x0, y0), (x0 + 1000, y0), (x0 + 1000, y0 + 1000), (x0, y0 + 1000)])
    return gpd.GeoDataFrame({"code": ["511902"], "name": ["巴州区"]}, geometry=[sq], crs=crs)


def landuse(crs=4545) -> gpd.GeoDataFrame:
    x0, y0 = 520000.0, 3530000.0
    sq = Polygon([(x0, y0), (x0 + 500, y0), (x0 + 500, y0 + 500), (x0, y0 + 500)])
    return gpd.GeoDataFrame({"class_code": ["20"]}, geometry=[sq], crs=crs)


def text(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def folder_named(folder: Path, name: str) -> Path:
    path = folder / name
    path.mkdir()
    (path / "inside.txt").write_text("x", encoding="utf-8")
    return path


def truncated(path: Path, keep: float = 0.5) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def unreadable(path: Path, monkeypatch) -> Path:
    """Make ``path`` unreadable. Root reads anything, so ``os.access`` is made to answer as for a normal user."""
    path.chmod(0)
    if os.access(path, os.R_OK):   # running as root: permissions are not enforced; simulate the normal user
        real = os.access

        def access(p, mode, *args, **kwargs):
            if Path(p) == path and mode & os.R_OK:
                return False
            return real(p, mode, *args, **kwargs)

        monkeypatch.setattr(os, "access", access)
    assert not os.access(path, os.R_OK)
    return path


def read_only_folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o555)
    return path


def read_only_file(path: Path, content: str = "old") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    path.chmod(0o444)
    return path


def plain_sqlite(path: Path) -> Path:
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE t (a INTEGER)")
    return path


def point_layer(folder: Path) -> Path:
    path = folder / "pts.gpkg"
    gpd.GeoDataFrame({"code": ["511902"], "name": ["巴州区"]}, geometry=[Point(106.7, 31.8)], crs=4490).to_file(path)
    return path
