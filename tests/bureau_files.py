"""Bureau-like files made by the tests, with answers known by construction (used by test_end_to_end and test_cli).

Four townships of 通江县 in a row, 6 km x 6 km each (work CRS EPSG:4545, origin near 107.05°E 32.05°N, about
23 km from the embedded 通江县城 and farther from every other embedded county town):

====  =========  ===============  =======================  ==================  ================
zone  code       name             seat (km from origin)    built-up block      road from west
====  =========  ===============  =======================  ==================  ================
A     511921100  诺江镇            通江县 县城 (3, 3)         100 x 100 cells     县道 40 km/h
B     511921101  民胜镇 (重点镇)    (7, 3)                   50 x 50 cells       县道
C     511921102  火炬镇            (15, 3)                  80 x 40 cells       县道 ends at 15
D     511921104  铁佛镇            (23, 3)                  none                村道 20 km/h 15 -> 23
====  =========  ===============  =======================  ==================  ================

Built-up km²: cells of 10 m x 10 m in UTM 48N (true area within 0.02 %): A 1.0, B 0.25, C 0.32, D 0.
Travel: 县道 from (3, 3) to (15, 3), 村道 from (15, 3) to (23, 3): 铁佛镇 is 12 min + 24 min = 36 min from the
nearest facility (民胜镇, key town), beyond 30 minutes; the other seats are within 30 minutes.
Key-town check (25,000-35,000 people and >= 10 km from a county town): 民胜镇 (30,000 people, 4 km from the
user's county town) does not qualify, 火炬镇 (28,000 people, 12 km) qualifies — measured from the embedded
通江县城 (about 20 km away) both would qualify.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

X0_LONLAT = (107.05, 32.05)
ZONES = [("511921100", "诺江镇", 0), ("511921101", "民胜镇", 1), ("511921102", "火炬镇", 2), ("511921104", "铁佛镇", 3)]
SEATS = [("通江县", 3, 3, 100000, "县城"), ("民胜镇", 7, 3, 30000, "重点镇"), ("火炬镇", 15, 3, 28000, "镇"),
         ("铁佛镇", 23, 3, 8000, "镇")]
BLOCKS = {"511921100": (100, 100, (3, 3)), "511921101": (50, 50, (7, 3)), "511921102": (80, 40, (15, 3))}
BUILTUP_KM2 = {"511921100": 1.0, "511921101": 0.25, "511921102": 0.32, "511921104": 0.0}
BEYOND_30 = "511921104"
SEAT_MINUTES_BEYOND = 36.0

CONFIG = """
[boundaries.township]
path = "data/乡镇界.shp"
crs = "cgcs2000"
zone_prefix = true
fields = { code = "乡镇代码", name = "乡镇名称" }

[settlements]
path = "data/乡镇驻地.xlsx"
crs = "gcj02"

[[landcover]]
year = 2021
path = "data/worldcover_2021.tif"
legend = "worldcover"

[roads]
path = "data/道路.gpkg"
fields = { class = "道路等级" }
"""


def origin() -> tuple[float, float]:
    """The origin in EPSG:4545 metres."""
    from pyproj import Transformer

    return Transformer.from_crs(4326, 4545, always_xy=True).transform(*X0_LONLAT)


def km(x: float, y: float) -> tuple[float, float]:
    """A point ``x``, ``y`` km from the origin, in EPSG:4545."""
    ox, oy = origin()
    return ox + x * 1000.0, oy + y * 1000.0


def townships():
    """The four township squares in EPSG:4545, with 乡镇代码 / 乡镇名称 / 面积 (km², nominal)."""
    import geopandas as gpd
    import shapely

    geoms = [shapely.box(*km(6 * i, 0), *km(6 * i + 6, 6)) for _, _, i in ZONES]
    return gpd.GeoDataFrame({"乡镇代码": [z[0] for z in ZONES], "乡镇名称": [z[1] for z in ZONES],
                             "面积": [36.0] * 4}, geometry=geoms, crs=4545)


def write_townships_shp(path: Path) -> Path:
    """GBK Shapefile without .cpg in EPSG:4524 (CGCS2000 3-degree Gauss–Krüger zone 36, eastings with the prefix)."""
    gdf = townships().to_crs(4524)
    assert gdf.total_bounds[0] > 36_000_000
    gdf.to_file(path, encoding="gbk", engine="pyogrio")
    cpg = path.with_suffix(".cpg")
    if cpg.exists():
        cpg.unlink()
    return path


def seat_lonlat_gcj02() -> pd.DataFrame:
    """The seats as an Amap export would list them: 名称 / 经度 / 纬度 (GCJ-02) / 常住人口 / 等级, no codes."""
    import geopandas as gpd
    import shapely

    from bazhong_geo import crs

    pts = gpd.GeoDataFrame(geometry=[shapely.Point(km(x, y)) for _, x, y, _, _ in SEATS], crs=4545).to_crs(4326)
    gcj = crs.convert(pts, src="wgs84", dst="gcj02")
    return pd.DataFrame({"名称": [s[0] for s in SEATS], "经度": gcj.geometry.x.round(7), "纬度": gcj.geometry.y.round(7),
                         "常住人口": [s[3] for s in SEATS], "等级": [s[4] for s in SEATS]})


def write_amap_xlsx(path: Path) -> Path:
    """The Amap export as an Excel workbook (one sheet)."""
    seat_lonlat_gcj02().to_excel(path, index=False, sheet_name="Sheet1")
    return path


def write_roads_gpkg(path: Path) -> Path:
    """Roads in CGCS2000 longitude/latitude (EPSG:4490) with 道路等级 and no speed column."""
    import geopandas as gpd
    import shapely

    lines = [shapely.LineString([km(3, 3), km(15, 3)]), shapely.LineString([km(15, 3), km(23, 3)])]
    gdf = gpd.GeoDataFrame({"道路名称": ["X001", "C101"], "道路等级": ["县道", "村道"]}, geometry=lines, crs=4545)
    gdf.to_crs(4490).to_file(path, layer="roads", engine="pyogrio")
    return path


def write_worldcover_tif(path: Path) -> Path:
    """A 10 m WorldCover-class GeoTIFF in UTM 48N: cropland (40) with built-up (50) blocks around three seats."""
    import rasterio
    from affine import Affine
    from pyproj import Transformer

    to_utm = Transformer.from_crs(4545, 32648, always_xy=True)
    corners = [to_utm.transform(*km(x, y)) for x in (-1, 25) for y in (-1, 7)]
    xs, ys = zip(*corners, strict=False)
    west, north = np.floor(min(xs) / 10) * 10, np.ceil(max(ys) / 10) * 10
    width, height = int((max(xs) - west) / 10) + 1, int((north - min(ys)) / 10) + 1
    data = np.full((height, width), 40, dtype="uint8")
    for w, h, (x, y) in BLOCKS.values():
        cx, cy = to_utm.transform(*km(x, y))
        col, row = int((cx - west) // 10), int((north - cy) // 10)
        data[row - h // 2: row - h // 2 + h, col - w // 2: col - w // 2 + w] = 50
    profile = {"driver": "GTiff", "width": width, "height": height, "count": 1, "dtype": "uint8", "crs": "EPSG:32648",
               "transform": Affine(10, 0, west, 0, -10, north), "nodata": 0, "compress": "deflate"}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return path


def write_bureau_files(folder: Path) -> dict[str, Path]:
    """Every bureau file in ``folder``; returns kind -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    return {"townships": write_townships_shp(folder / "乡镇界.shp"),
            "seats": write_amap_xlsx(folder / "乡镇驻地.xlsx"),
            "roads": write_roads_gpkg(folder / "道路.gpkg"),
            "landcover": write_worldcover_tif(folder / "worldcover_2021.tif")}


def cli_env() -> dict[str, str]:
    """Environment for ``python -m bazhong_geo.cli`` subprocesses: this checkout first on the path."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env
