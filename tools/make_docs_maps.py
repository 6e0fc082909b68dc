"""Regenerate the example maps in ``docs/``: the README's meeting map and a county map with a land-cover raster.

Run from the repository root: ``python tools/make_docs_maps.py`` (needs Chromium, see ``bazhong_geo.maps.export``).

Writes
------
docs/meeting_map.png          the README's meeting map (tiers, county-town catchments, progress panel), printed
                              as an A3 landscape page (print layout, 96 CSS px per inch, device scale 1)
docs/meeting_map_A3.pdf       the same page as a vector PDF
docs/county_landcover.png     通江县 (511921) on an A4 landscape page with a land-cover raster in ESA WorldCover
                              classes and its class legend
docs/counties_A4.pdf          one A4 page per county (``per_county=True``)

The land-cover raster is ILLUSTRATIVE: no land-cover product ships with this repository (ESA WorldCover and
CLCD tiles are large downloads with their own licences), so the script makes a synthetic raster in WorldCover
classes (smoothed seeded noise; built-up around the located settlements) to show how a class raster and its
legend are printed. The map says so in its subtitle. With a real product, pass its path instead:
``maps.add_raster(m, "ESA_WorldCover_10m_2021_v200_N30E105_Map.tif")`` (the classes are detected).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bazhong_geo import load_bazhong, maps  # noqa: E402  (the checkout first on the path)
from bazhong_geo.meeting import build_meeting_inputs  # noqa: E402

DOCS = ROOT / "docs"
DATE = "2026-12-01"  # the map date printed on the examples (fixed: same input, same pixels)


def synthetic_landcover(region, code: str, path: Path, cell_m: float = 100.0, seed: int = 13) -> Path:
    """A WorldCover-class raster over county ``code`` (EPSG:4545): forest, cropland, water and built-up; 0 outside."""
    import rasterio
    import shapely
    from affine import Affine
    from rasterio.features import geometry_mask
    from scipy.ndimage import gaussian_filter

    county = region.counties.set_index("code").geometry[code]
    minx, miny, maxx, maxy = county.bounds
    width, height = int(np.ceil((maxx - minx) / cell_m)), int(np.ceil((maxy - miny) / cell_m))
    transform = Affine(cell_m, 0, minx, 0, -cell_m, maxy)
    rng = np.random.default_rng(seed)
    relief = gaussian_filter(rng.standard_normal((height, width)), 18)
    relief = (relief - relief.mean()) / relief.std()
    data = np.where(relief > -0.35, 10, 40).astype("uint8")  # tree cover on the hills, cropland in the valleys
    data[relief < -1.6] = 80  # water in the lowest valleys
    data[(relief > -0.35) & (relief < -0.2)] = 30  # grassland at the forest edge
    s = region.settlements
    towns = s[s.geometry.notna() & ~s.geometry.is_empty & (s["county_code"].astype("string") == code)]
    rows, cols = np.mgrid[0:height, 0:width]
    x, y = minx + (cols + 0.5) * cell_m, maxy - (rows + 0.5) * cell_m
    for pt, tier in zip(towns.geometry, towns["tier"].astype(str), strict=True):
        r = 2500.0 if tier in ("county_town", "central_city") else 700.0
        data[(x - pt.x) ** 2 + (y - pt.y) ** 2 < r ** 2] = 50
    outside = geometry_mask([shapely.geometry.mapping(county)], (height, width), transform)
    data[outside] = 0
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=1, dtype="uint8",
                       crs="EPSG:4545", transform=transform, nodata=0, compress="deflate") as dst:
        dst.write(data, 1)
    return path


def main() -> int:
    """Write the examples of ``docs/`` and print what was written."""
    DOCS.mkdir(exist_ok=True)
    region = load_bazhong()
    inputs = build_meeting_inputs(region, as_of=2020)
    m = maps.meeting_map(region, progress=inputs.progress, catchments=inputs.catchments)
    written = maps.export_print(m, DOCS / "meeting_map.png", paper="A3", scale=1, date=DATE)
    written += maps.export_print(m, DOCS / "meeting_map_A3.pdf", paper="A3", date=DATE)
    with tempfile.TemporaryDirectory() as tmp:
        tif = synthetic_landcover(region, "511921", Path(tmp) / "landcover_511921.tif")
        county = maps.settlement_map(region, raster=tif, title="通江县 城镇体系与土地覆盖",
                                     subtitle="土地覆盖为合成示意栅格（ESA WorldCover 分类），非观测数据",
                                     label_tiers=("central_city", "county_town", "featured_town", "town"))
        written += maps.export_print(county, DOCS / "county_landcover.png", paper="A4", extent="511921", scale=1.5,
                                     date=DATE)
    written += maps.export_print(m, DOCS / "counties_A4.pdf", paper="A4", per_county=True, date=DATE)
    for path in written:
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
