"""Meeting-map size and timings: the full Bazhong map, and a stress case with every settlement located.

Run: ``python benchmarks/bench_maps.py`` (not collected by pytest). Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

warnings.simplefilter("ignore")
if __import__("importlib.util").util.find_spec("bazhong_geo") is None:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _region():
    """The embedded region (datasets.load_bazhong)."""
    from bazhong_geo import load_bazhong

    return load_bazhong()


def _stress_region(region, seed: int = 0):
    """Every township and village given a random point inside its county (fixed seed) — a worst case."""
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    s = region.settlements.copy()
    counties = region.counties.set_index("code")
    geoms = np.asarray(s.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    cc = s["county_code"].astype("string").fillna("511902")
    for code in sorted(set(cc[missing])):
        poly = counties.geometry.get(code, region.prefecture.geometry.iloc[0])
        idx = np.flatnonzero(missing & (cc == code).to_numpy())
        minx, miny, maxx, maxy = poly.bounds
        pts = []
        while len(pts) < len(idx):
            cand = shapely.points(rng.uniform(minx, maxx, 4 * len(idx)), rng.uniform(miny, maxy, 4 * len(idx)))
            pts.extend(cand[shapely.contains(poly, cand)].tolist())
        geoms[idx] = np.asarray(pts[: len(idx)], dtype=object)
    s = s.set_geometry(gpd.GeoSeries(geoms, index=s.index, crs=s.crs))
    s["population"] = s["population"].fillna(1000.0)
    from dataclasses import replace

    return replace(region, settlements=s)


def folium_baseline_mb(region) -> float:
    """Size of the same layers drawn the plain folium way (GeoJson at full precision, CDN assets not counted)."""
    import folium

    from bazhong_geo.meeting import county_town_catchments

    m = folium.Map(tiles=None)
    folium.GeoJson(region.boundaries.drop(columns=[c for c in ("source",) if c in region.boundaries]).to_crs(4326),
                   name="boundaries").add_to(m)
    c = county_town_catchments(region)
    folium.GeoJson(c[["code", "name", "geometry"]].to_crs(4326), name="catchments").add_to(m)
    s = region.settlements
    s = s[~(s.geometry.isna() | s.geometry.is_empty)]
    cols = [c for c in ("code", "name", "tier", "population", "designations", "county_code") if c in s.columns]
    folium.GeoJson(s[[*cols, "geometry"]].to_crs(4326), marker=folium.CircleMarker(radius=4),
                   popup=folium.GeoJsonPopup(fields=cols)).add_to(m)
    return len(m.get_root().render().encode("utf-8")) / 1e6


def _print_timings(m, region, tmp: Path) -> tuple[float, float, float]:
    """Seconds for: the A3 print page as PDF; one A4 page per county; the A3 page as PNG with every settlement
    labelled (labels placed without overlaps by priority)."""
    from bazhong_geo import maps

    t0 = time.perf_counter()
    maps.export_print(m, tmp / "map.pdf", paper="A3")
    t1 = time.perf_counter()
    maps.export_print(m, tmp / "counties.pdf", paper="A4", per_county=True)
    t2 = time.perf_counter()
    labelled = maps.settlement_map(region, label_tiers=("central_city", "county_town", "featured_town", "town",
                                                        "central_village", "village"))
    t3 = time.perf_counter()
    maps.export_print(labelled, tmp / "labels.png", paper="A3", scale=1)
    return t1 - t0, t2 - t1, time.perf_counter() - t3


def measure(label, region, tolerance_m=30.0, export=True):
    from bazhong_geo import maps
    from bazhong_geo.meeting import build_meeting_inputs

    t0 = time.perf_counter()
    inputs = build_meeting_inputs(region)
    notes = inputs.notes
    m = maps.meeting_map(region, progress=inputs.progress, catchments=inputs.catchments)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = maps.save(m, Path(tmp) / "map.html")
        t2 = time.perf_counter()
        size = out.stat().st_size
        png_s = print_s = county_s = labels_s = float("nan")
        if export:
            from bazhong_geo.maps.export import export_png

            t3 = time.perf_counter()
            export_png(out, Path(tmp) / "map.png", size=(1600, 1000))
            png_s = time.perf_counter() - t3
            print_s, county_s, labels_s = _print_timings(m, region, Path(tmp))
    located = int((~region.settlements.geometry.is_empty & region.settlements.geometry.notna()).sum())
    return {"case": label, "located": located, "html_mb": size / 1e6, "build_s": t1 - t0, "save_s": t2 - t1,
            "png_s": png_s, "print_s": print_s, "county_s": county_s, "labels_s": labels_s, "notes": notes, "folium_mb": folium_baseline_mb(region)}


def main() -> int:
    region = _region()
    rows = [measure("Bazhong meeting map (embedded data)", region),
            measure("stress: all 1,948 settlements located", _stress_region(region))]
    print(f"machine: {platform.machine()}, {platform.python_version()}, 2 cores; date {time.strftime('%Y-%m-%d')}")
    print("| case | located settlements | HTML MB (offline, Leaflet inlined) | plain folium MB (CDN, not inlined) | "
          "ratio | build s | save s | PNG export s | A3 print PDF s | A4 per-county PDF s | A3 PNG, all labelled s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['case']} | {r['located']:,} | {r['html_mb']:.2f} | {r['folium_mb']:.2f} | "
              f"{r['html_mb'] / r['folium_mb']:.2f} | {r['build_s']:.2f} | {r['save_s']:.2f} | {r['png_s']:.2f} | "
              f"{r['print_s']:.2f} | {r['county_s']:.2f} | {r['labels_s']:.2f} |")
        for n in r["notes"]:
            print(f"  note: {n}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
