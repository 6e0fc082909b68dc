"""Meeting maps: offline HTML, escaping, layers and legends, PNG/PDF export — checked in headless Chromium."""

from __future__ import annotations

import json
import re
import subprocess

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from bazhong_geo import maps
from bazhong_geo._errors import BazhongGeoError, MissingColumnError, MissingCRSError, UnknownTierError
from bazhong_geo.export import CHROMIUM_ARGS, export_pdf, export_png, find_chromium
from bazhong_geo.meeting import build_meeting_inputs, county_town_catchments

HOSTILE = "<img src=x onerror=alert(1)>"
QUOTES = "诺水河镇 'q' \"dq\" `bt` </script>"
X0, Y0 = 575_000.0, 3_520_000.0  # EPSG:4545 (about 108.8°E, 31.8°N; same GCJ-02 offset as Bazhong)


# ----------------------------------------------------------------------------------------------- fixtures

def _region():
    """Five 40 km square counties, a prefecture, and settlements of every tier (one unlocated)."""
    cells = [box(X0 + i * 40_000, Y0 + j * 40_000, X0 + (i + 1) * 40_000, Y0 + (j + 1) * 40_000)
             for j in range(2) for i in range(3)][:5]
    codes = ["511902", "511903", "511921", "511922", "511923"]
    b = gpd.GeoDataFrame({"code": ["511900", *codes], "name": ["巴中市", "巴州区", "恩阳区", "通江县", "南江县", HOSTILE],
                          "level": ["prefecture"] + ["county"] * 5},
                         geometry=[shapely.union_all(cells), *cells], crs=4545)
    s = gpd.GeoDataFrame({
        "code": ["511900", "511921", "511922", "511923", "511921101", "511922102", "511923103",
                 "511902001001", "511902001201"],
        "name": ["巴城", "通江", "南江", HOSTILE, QUOTES, "长赤镇", "白衣村", "村一", "村二"],
        "tier": ["central_city", "county_town", "county_town", "county_town", "featured_town", "town",
                 "central_village", "village", "village"],
        "county_code": [None, "511921", "511922", "511923", "511921", "511922", "511923", "511902", "511902"],
        "population": [608_152, 150_000, 120_000, 293_300, 30_000, np.nan, 5_000, np.nan, 800],
        "designations": ["", "", "", "", "provincial_featured_town", "national_key_town", "", "", ""],
    }, geometry=[Point(X0 + 20_000, Y0 + 20_000), Point(X0 + 100_000, Y0 + 60_000), Point(X0 + 60_000, Y0 + 60_000),
                 Point(X0 + 100_000, Y0 + 20_000), Point(X0 + 90_000, Y0 + 70_000), Point(X0 + 50_000, Y0 + 50_000),
                 Point(X0 + 110_000, Y0 + 10_000), Point(X0 + 15_000, Y0 + 15_000), None], crs=4545)
    return {"boundaries": b, "settlements": s, "name": "巴中市"}


def _progress():
    return pd.DataFrame({
        "key": ["urbanization_rate", "central_city_population", "featured_towns", "gdp_bazhou"],
        "scope": ["511900", "511900", "511900", "511902"],
        "scope_name": ["巴中市", "巴中市", "巴中市", "巴州区"],
        "description_zh": ["常住人口城镇化率", "中心城区人口", "特色小镇", HOSTILE],
        "description_en": ["urbanization rate", "central city population", "featured towns", "GDP"],
        "unit": ["percent", "persons", "count", "bn_yuan"],
        "target": [45.0, 800_000.0, 40.0, 20.0],
        "latest_value": [48.91, 608_152.0, np.nan, 18.5],
        "latest_year": [2024, 2020, np.nan, 2023],
        "status": ["achieved", "behind", "no_data", "on_track"],
    })


def _catchments(region):
    c = region["boundaries"].iloc[1:4].copy()
    c["center_name"] = ["巴城", "通江", f"南江 {HOSTILE}"]
    c["population_served"] = [600_000, 400_000, 300_000]
    return c[["center_name", "population_served", "geometry"]]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def _raster(path):
    """A 8 km x 5 km GeoTIFF (EPSG:4545, 100 m cells) with a 2 km x 1 km block of ones."""
    import rasterio
    from affine import Affine

    data = np.zeros((50, 80), dtype="float32")
    data[10:20, 10:30] = 1.0
    with rasterio.open(path, "w", driver="GTiff", width=80, height=50, count=1, dtype="float32", crs="EPSG:4545",
                       transform=Affine(100, 0, X0, 0, -100, Y0 + 5_000)) as dst:
        dst.write(data, 1)
    return path


@pytest.fixture(scope="module")
def full_map_html(tmp_path_factory):
    region = _region()
    builtup = gpd.GeoDataFrame({"name": [HOSTILE]}, geometry=[box(X0 + 18_000, Y0 + 18_000, X0 + 24_000, Y0 + 22_000)],
                               crs=4545)
    candidates = gpd.GeoDataFrame({"code": ["c1", "c2"], "name": ["候选甲", QUOTES], "passed": [True, False],
                                   "reasons": ["", HOSTILE]},
                                  geometry=[Point(X0 + 30_000, Y0 + 30_000), Point(X0 + 70_000, Y0 + 30_000)], crs=4545)
    raster = _raster(tmp_path_factory.mktemp("raster") / "builtup.tif")
    m = maps.progress_map(region, _progress(), catchments=_catchments(region), builtup=builtup, candidates=candidates,
                          raster=raster, label_tiers=("central_city", "county_town", "featured_town"),
                          subtitle="测试 <b>subtitle</b> `x`")
    return maps.to_html(m, offline=True)


def _open(browser, tmp_path, html_text, size=(1400, 900)):
    """Open the HTML from a file, recording every request, console error and dialog."""
    path = tmp_path / "map.html"
    path.write_text(html_text, encoding="utf-8")
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    log = {"requests": [], "errors": [], "dialogs": []}

    def route(r):
        log["requests"].append(r.request.url)
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            r.abort()

    context.route("**/*", route)
    page.on("request", lambda req: log["requests"].append(req.url))
    page.on("console", lambda msg: log["errors"].append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: log["errors"].append(str(exc)))
    page.on("dialog", lambda d: (log["dialogs"].append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_function("window.__bazhong_ready === true", timeout=15_000)
    return context, page, log


# ----------------------------------------------------------------------------------------------- no browser

def test_js_embedding_cannot_close_the_script_element():
    text = maps.markup.script_json({"n": "</script><script>alert(1)</script>\u2028`'\"&"})
    assert "<" not in text
    assert ">" not in text
    assert "&" not in text
    assert "\u2028" not in text
    assert json.loads(text)["n"] == "</script><script>alert(1)</script>\u2028`'\"&"


def test_html_escape_covers_quotes_and_backticks():
    assert maps.markup.escape(HOSTILE) == "&lt;img src=x onerror=alert(1)&gt;"
    assert maps.markup.escape("'\"`") == "&#x27;&quot;&#96;"
    assert maps.markup.escape(None) == ""
    assert maps.markup.escape(float("nan")) == ""


def test_offline_html_inlines_leaflet_and_loads_nothing(full_map_html):
    html_text = full_map_html
    assert not re.search(r"<script[^>]+src=", html_text)
    assert not re.search(r"<link[^>]+href=\"(?!data:)", html_text)
    assert "Leaflet 1.9.3" in html_text  # from django-leaflet, inlined
    for cdn in ("cdn.jsdelivr", "code.jquery", "bootstrapcdn", "cdnjs", "fontawesome", "fonts.googleapis"):
        assert cdn not in html_text
    assert "url(images/" not in html_text  # marker/layer images inlined as data URIs
    assert "sourceMappingURL" not in html_text
    assert HOSTILE not in html_text  # only escaped forms
    assert maps.leaflet_assets()["version"] == "1.9.3"


def test_online_html_keeps_folium_links():
    html_text = maps.to_html(maps.base_map(), offline=False)
    leaflet = re.search(r'<script src="https://[^"]*leaflet\.js"></script>', html_text)
    assert leaflet
    assert html_text.index("window.bz = ") == leaflet.end() + len("<script>\n")
    assert "Leaflet 1.9.3" not in html_text  # nothing inlined online


def test_same_map_same_bytes_and_rendering_twice_is_idempotent():
    region = _region()
    m = maps.settlement_map(region)
    a, b = maps.to_html(m), maps.to_html(m)
    c = maps.to_html(maps.settlement_map(_region()))
    assert a == b == c


def test_plain_folium_popup_renders_to_the_same_bytes():
    import folium

    def page():
        m = maps.base_map()
        folium.Marker([31.86, 106.75], popup=folium.Popup("<b>弹窗</b>")).add_to(m)
        return maps.to_html(m)

    first, second = page(), page()
    assert first == second
    assert re.search(r"var (html_\w+) = \$\(`<div id=\"\1\"", first)  # the content's name follows the new id


def test_prepare_geometries_keeps_every_feature_and_trims_precision():
    region = _region()
    # a wiggly coverage: two polygons sharing a zig-zag edge with 1 m steps, plus a tiny 5 m square
    xs = np.linspace(X0, X0 + 10_000, 2001)
    ys = Y0 + 5_000 + np.where(np.arange(len(xs)) % 2, 1.0, 0.0)
    edge = list(zip(xs, ys, strict=False))
    lower = shapely.Polygon([(X0, Y0), *edge, (X0 + 10000, Y0)])
    upper = shapely.Polygon([*edge, (X0 + 10000, Y0 + 10000), (X0, Y0 + 10000)])
    tiny = box(X0 + 20_000, Y0, X0 + 20_005, Y0 + 5)
    sliver = shapely.Polygon([(X0 + 30_000, Y0), (X0 + 30_000.3, Y0), (X0 + 30_000.1, Y0 + 0.4)])  # < 1 m grid
    g = gpd.GeoDataFrame({"name": ["a", "b", "c", "d"]}, geometry=[lower, upper, tiny, sliver], crs=4545)
    out = maps.prepare_geometries(g, tolerance_m=30)
    assert len(out) == 4
    assert not out.geometry.is_empty.any()
    assert out.geometry.is_valid.all()
    assert shapely.get_num_coordinates(out.geometry.values).sum() < shapely.get_num_coordinates(g.geometry.values).sum() / 50
    coords = shapely.get_coordinates(out.geometry.values[:3])
    assert np.allclose(coords, np.round(coords, 5), atol=1e-12)
    # the shared edge stays shared: no overlap, no gap (areas in the work CRS)
    back = out.to_crs(4545)
    inter = back.geometry.iloc[0].intersection(back.geometry.iloc[1]).area
    union = back.geometry.iloc[0].union(back.geometry.iloc[1]).area
    assert inter < 1.0
    assert union == pytest.approx(100_000_000, rel=1e-3)
    # points untouched except rounding
    pts = maps.prepare_geometries(region["settlements"].iloc[:2], tolerance_m=30)
    assert pts.geometry.iloc[0].distance(region["settlements"].to_crs(4326).geometry.iloc[0]) < 1e-5


def test_prepare_geometries_needs_a_crs():
    with pytest.raises(MissingCRSError):
        maps.prepare_geometries(gpd.GeoDataFrame(geometry=[Point(0, 0)]))


def _layer_coords(html_text):
    """Every coordinate of the ``bz`` data layers in the page, in order, as an (n, 2) array of lon/lat.

    County name labels are left out: they are placed on the (shifted) polygons, not shifted themselves.
    """
    specs = [json.loads(t) for t in re.findall(r"bz\.layer\((\{.*?\})\)\.addTo", html_text)]
    specs = [sp for sp in specs if sp.get("labelClass") != "bz-area-label"]
    geoms = [shapely.geometry.shape(f["geometry"]) for sp in specs for f in sp["data"]["features"]]
    return shapely.get_coordinates(geoms)


def _fit_bounds(html_text):
    return np.array(json.loads(re.search(r"bz\.fit\(map_\w+, (\[\[.*?\]\])", html_text).group(1)))


def test_amap_basemap_shifts_every_layer_to_gcj02_by_450_to_500_m(tmp_path):
    from bazhong_geo.crs import wgs84_to_gcj02

    region = _region()
    raster = _raster(tmp_path / "builtup.tif")
    extra = {"catchments": _catchments(region), "raster": raster,
             "candidates": region["settlements"].iloc[:3].assign(passed=[True, False, None])}
    wgs_html = maps.to_html(maps.settlement_map(region, **extra))
    gcj_html = maps.to_html(maps.settlement_map(region, basemap="amap", **extra))
    assert "autonavi" in gcj_html
    assert "autonavi" not in wgs_html
    # boundaries, area labels, catchments, settlements, rings, candidates: the same vertices, each shifted
    wgs, gcj = _layer_coords(wgs_html), _layer_coords(gcj_html)
    assert len(wgs) == len(gcj) > 50
    expected = np.column_stack(wgs84_to_gcj02(wgs[:, 0], wgs[:, 1]))
    assert np.abs(gcj - expected).max() < 2e-5  # both rounded to 5 decimals
    # in Bazhong (the five county seats) the symbols move by the GCJ-02 offset there, 449-490 m
    lon = np.array([106.747, 106.635, 107.245, 106.843, 107.104])
    lat = np.array([31.868, 31.787, 31.912, 32.353, 31.560])
    seats = gpd.GeoDataFrame({"name": list("abcde"), "tier": "county_town"}, geometry=shapely.points(lon, lat), crs=4326)
    m = maps.base_map(basemap="amap")
    maps.add_settlements(m, seats)
    shown = gpd.GeoSeries(shapely.points(_layer_coords(maps.to_html(m))), crs=4326).to_crs(4545)
    metres = shown.distance(seats.geometry.to_crs(4545).sort_index(), align=False)
    assert len(shown) == 5
    assert metres.between(440, 500).all()
    # the raster overlay's corners and the initial view move with the data
    corners = [np.array(json.loads(re.search(r"L\.imageOverlay\(\s*\"data:[^\"]*\",\s*(\[\[.*?\]\])", t, re.DOTALL)
                                   .group(1))) for t in (wgs_html, gcj_html)]
    for bounds_wgs, bounds_gcj in (corners, (_fit_bounds(wgs_html), _fit_bounds(gcj_html))):
        lon, lat = wgs84_to_gcj02(bounds_wgs[:, 1], bounds_wgs[:, 0])
        assert np.allclose(bounds_gcj, np.column_stack([lat, lon]), atol=1e-9)
        assert not np.allclose(bounds_gcj, bounds_wgs, atol=1e-3)


def test_tianditu_needs_a_key_and_basemap_names_are_checked():
    with pytest.raises(BazhongGeoError, match="Tianditu key"):
        maps.base_map(basemap="tianditu")
    with pytest.raises(BazhongGeoError, match="Tianditu key"):  # long enough: refused for its characters
        maps.base_map(basemap="tianditu", tianditu_key='0123456789abcdef0123456789ab"<x>')
    html_text = maps.to_html(maps.base_map(basemap="tianditu", tianditu_key="0123456789abcdef0123456789abcdef"))
    assert "vec_w" in html_text
    assert "cva_w" in html_text
    assert "tk=0123456789abcdef" in html_text
    with pytest.raises(BazhongGeoError, match="basemap"):
        maps.base_map(basemap="google")


def test_population_radius_is_square_root_scaled():
    r = maps.population_radius([100_000, 400_000, np.nan], pop_max=400_000, r_min=1, r_max=20)
    assert r[1] == pytest.approx(20)
    assert r[0] == pytest.approx(10)
    assert np.isnan(r[2])
    assert (r[1] / r[0]) ** 2 == pytest.approx(4)  # symbol area proportional to population


def test_classification_schemes():
    values = [1, 2, 3, 4, 10, 11, 12, 50]
    idx, upper = maps.classify(values, scheme="user_defined", bins=[5, 20])
    assert idx.tolist() == [0, 0, 0, 0, 1, 1, 1, 2]
    assert upper == [5.0, 20.0, 50.0]
    idx, upper = maps.classify(values, scheme="natural_breaks", k=3)
    assert idx.tolist() == [0, 0, 0, 0, 1, 1, 1, 2]
    idx, upper = maps.classify([1, 2, 3, 4, np.nan], scheme="quantiles", k=2)
    assert idx.tolist() == [0, 0, 1, 1, -1]
    assert upper == [2.5, 4.0]
    with pytest.raises(BazhongGeoError):
        maps.classify(values, scheme="user_defined")


CHORO_VALUES = [1, 2, 3, 4, 10, 11, 12, 50]


@pytest.mark.parametrize(("scheme", "kw", "classes", "legend", "note"), [
    ("quantiles", {"k": 4}, [0, 0, 1, 1, 2, 2, 3, 3], ["1 – 2.75", "2.75 – 7", "7 – 11.25", "11.25 – 50"], "quantiles"),
    ("natural_breaks", {"k": 3}, [0, 0, 0, 0, 1, 1, 1, 2], ["1 – 4", "4 – 12", "12 – 50"], "natural breaks"),
    ("equal_interval", {"k": 3}, [0, 0, 0, 0, 0, 0, 0, 2], ["1 – 17.33", "17.33 – 33.67", "33.67 – 50"],
     "equal interval"),
    ("user_defined", {"bins": [20, 5]}, [0, 0, 0, 0, 1, 1, 1, 2], ["1 – 5", "5 – 20", "20 – 50"], "user-defined breaks"),
])
def test_choropleth_scheme_classes_colours_and_legend(scheme, kw, classes, legend, note):
    """Known answers (by hand) for each mapclassify scheme: every unit's class and colour, the legend's rows."""
    cells = gpd.GeoDataFrame({"name": [f"u{i}" for i in range(9)], "v": [*CHORO_VALUES, np.nan]},
                             geometry=[box(X0 + i * 1000, Y0, X0 + (i + 1) * 1000, Y0 + 1000) for i in range(9)],
                             crs=4545)
    m = maps.base_map(lang="en")
    maps.add_choropleth(m, cells, "v", scheme=scheme, fmt_digits=2, legend_title="v", **kw)
    spec = json.loads(re.search(r"bz\.layer\((\{.*?\})\)\.addTo", maps.to_html(m)).group(1))
    keys = [f["properties"]["_k"] for f in spec["data"]["features"]]
    assert keys == [f"c{c}" for c in classes] + ["na"]  # NaN is "no data", not a class
    palette = [spec["styles"][f"c{i}"]["fillColor"] for i in range(len(legend))]
    assert len(set(palette)) == len(legend)
    assert spec["styles"]["na"]["fillColor"] not in palette
    panel = [c for c in m._children.values() if getattr(c, "_name", "") == "BzPanel"][-1]
    content = json.loads(panel.content)
    rows = re.findall(r'<div class="row"><span class="sw" style="background:(#\w+)"></span><span>([^<]*)</span>',
                      content)
    assert [label for _, label in rows] == [*legend, "no data"]
    assert [colour for colour, _ in rows][:-1] == palette
    assert f'<div class="note">{note}</div>' in content


def test_bad_inputs_raise_typed_errors():
    region = _region()
    with pytest.raises(MissingColumnError, match="status"):
        maps.add_progress_panel(maps.base_map(), _progress().drop(columns="status"))
    bad = _progress().assign(status=["achieved", "late", "no_data", "behind"])
    with pytest.raises(BazhongGeoError, match="late"):
        maps.add_progress_panel(maps.base_map(), bad)
    s = region["settlements"].assign(tier=["megacity"] + ["town"] * 8)
    with pytest.raises(UnknownTierError, match="megacity"):
        maps.add_settlements(maps.base_map(), s)
    with pytest.raises(BazhongGeoError, match="colour"):
        maps.add_boundaries(maps.base_map(), region["boundaries"], color="red;background:url(x)")


def test_tiers_accept_chinese_labels():
    s = _region()["settlements"].assign(tier=["中心城区", "县城", "县城", "县城", "特色镇", "一般镇", "中心村", "村", "村"])
    groups = maps.add_settlements(maps.base_map(), s)
    assert list(groups) == list(maps.TIER_STYLES)


def test_tiers_accept_every_alias_tier_parse_accepts():
    """Maps use the shared tier vocabulary: 巴城, 镇, 街道 ... (maps' own parser used to reject them)."""
    from bazhong_geo.settlements import Tier

    aliases = ["巴城", "县城", "central_city", "COUNTY_TOWN", "特色镇", "镇", "中心村", "街道", "村"]
    s = _region()["settlements"].assign(tier=aliases)
    html_text = maps.to_html(_with_settlements(s))
    located = s[s.geometry.notna()]
    for alias, tier in zip(located["tier"], [Tier.parse(a).value for a in located["tier"]], strict=False):
        assert f'"_k":"{tier}"' in html_text, alias
    assert maps.style.tier_keys(pd.Series(aliases)).tolist() == [Tier.parse(a).value for a in aliases]
    assert maps.style.tier_keys(pd.Series(["central village"])).tolist() == ["central_village"]  # legend label


def _with_settlements(s):
    m = maps.base_map()
    maps.add_settlements(m, s)
    return m


def test_maps_import_no_analysis_module():
    """Maps draw what they are given: no maps module imports catchments, targets, the meeting composer or cli."""
    import ast
    import pathlib

    folder = pathlib.Path(maps.__file__).parent
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [a.name for a in node.names]
                assert not {"catchments", "targets", "trajectory", "meeting", "cli", "accessibility",
                            "network", "designation", "location"} & {n.split(".")[-1] for n in names}, (path.name, names)


def test_raster_overlay_is_embedded_as_png(tmp_path):
    path = _raster(tmp_path / "builtup.tif")
    m = maps.base_map()
    overlay = maps.add_raster(m, path)
    html_text = maps.to_html(m)
    assert "data:image/png;base64," in html_text
    assert "L.imageOverlay" in html_text
    (s, w), (n, e) = overlay.bounds
    corners = gpd.GeoSeries([Point(w, s), Point(e, n)], crs=4326).to_crs(4545)
    assert corners.iloc[0].x == pytest.approx(X0, abs=300)
    assert corners.iloc[1].y == pytest.approx(Y0 + 5_000, abs=300)
    # the image shows the block of ones (columns 10-30 of 80, rows 10-20 of 50) and nothing else
    import base64
    import io

    from PIL import Image

    png = re.search(r'L\.imageOverlay\(\s*"data:image/png;base64,([A-Za-z0-9+/=]+)"', html_text).group(1)
    alpha = np.asarray(Image.open(io.BytesIO(base64.b64decode(png))).convert("RGBA"))[..., 3]
    rows, cols = np.nonzero(alpha > 127)
    height, width = alpha.shape
    assert cols.min() / width == pytest.approx(10 / 80, abs=0.03)
    assert (cols.max() + 1) / width == pytest.approx(
        30 / 80, abs=0.03)
    assert rows.min() / height == pytest.approx(10 / 50, abs=0.04)
    assert (rows.max() + 1) / height == pytest.approx(
        20 / 50, abs=0.04)
    assert alpha.max() == round(255 * 0.8)
    assert (alpha > 0).sum() < 1.3 * len(rows)
    # the colour asked for, whatever its spelling (it used to fall back to red silently unless #rrggbb)
    for spelling, rgb in (("#c0392b", (192, 57, 43)), ("navy", (0, 0, 128)), ("#0f0", (0, 255, 0))):
        m = maps.base_map()
        maps.add_raster(m, path, color=spelling)
        png = re.search(r'L\.imageOverlay\(\s*"data:image/png;base64,([A-Za-z0-9+/=]+)"', maps.to_html(m)).group(1)
        image = np.asarray(Image.open(io.BytesIO(base64.b64decode(png))).convert("RGBA"))
        assert tuple(image[image[..., 3] > 127][0, :3]) == rgb
    with pytest.raises(BazhongGeoError, match="colour"):
        maps.add_raster(maps.base_map(), path, color="reddish")


# ----------------------------------------------------------------------------------------------- in Chromium

def test_offline_map_opens_with_no_network_request_and_no_error(browser, tmp_path, full_map_html):
    context, page, log = _open(browser, tmp_path, full_map_html)
    try:
        assert log["requests"], "the page itself must be recorded"
        outside = [u for u in log["requests"] if not u.startswith(("file:", "data:"))]
        assert outside == []
        assert log["errors"] == []
        assert log["dialogs"] == []
        # layers, legends, panels in the DOM
        layer_names = page.eval_on_selector_all(".leaflet-control-layers-overlays label span",
                                                "els => els.map(e => e.textContent.trim())")
        assert {"行政区划", "中心城区", "县城", "特色镇", "中心村", "一般镇", "村", "服务范围", "重点/特色镇", "建成区",
                "建成区栅格", "候选镇村"} <= set(layer_names)
        assert page.locator("img.leaflet-image-layer[src^='data:image/png']").count() == 1
        assert "符合" in page.inner_text("body")
        assert "不符合" in page.inner_text("body")
        assert page.locator(".bz-legend-tiers").count() == 1
        assert page.locator(".bz-legend-tiers svg").count() >= 6
        assert "1 个居民点无坐标" in page.inner_text(".bz-legend-tiers")
        assert page.locator(".bz-progress tr[data-key]").count() == 4
        statuses = page.eval_on_selector_all(".bz-progress tr[data-key]", "els => els.map(e => e.dataset.status)")
        assert statuses == ["achieved", "behind", "no_data", "on_track"]
        assert page.locator(".leaflet-control-scale").count() == 1
        assert page.locator(".bz-title").inner_text().startswith("巴中市城乡提升目标进展")
        assert page.locator(".bz-sym svg").count() == 8 + 2 + 2  # settlements + designation rings + candidates
        assert page.locator(".bz-area-label").count() == 5  # county names
        assert page.locator("path.leaflet-interactive").count() >= 6 + 3 + 1  # boundaries + catchments + built-up
    finally:
        context.close()


@pytest.mark.parametrize("size", [(480, 640), (320, 240)])
def test_map_fits_a_window_narrower_than_its_panel_paddings(browser, tmp_path, full_map_html, size):
    """The initial view keeps clear of the panels (paddings of 190 + 460 px); a smaller window shrinks them."""
    context, page, log = _open(browser, tmp_path, full_map_html, size=size)
    try:
        assert log["errors"] == []
        view = page.evaluate("""() => { const map = Object.values(window).find(v => v instanceof L.Map);
            const c = map.getCenter(); return [map.getZoom(), c.lat, c.lng]; }""")
        assert all(np.isfinite(view))
        assert view[0] > 0
    finally:
        context.close()


def test_hostile_names_show_as_text_and_do_not_execute(browser, tmp_path, full_map_html):
    context, page, log = _open(browser, tmp_path, full_map_html)
    try:
        labels = page.eval_on_selector_all(".bz-label", "els => els.map(e => e.textContent)")
        assert HOSTILE in labels
        assert QUOTES in labels
        assert page.locator("img[src='x']").count() == 0
        assert HOSTILE in page.inner_text(".bz-progress")
        assert "<b>subtitle</b> `x`" in page.inner_text(".bz-title")
        # open the hostile settlement's popup
        page.evaluate("""() => { const map = Object.values(window).find(v => v instanceof L.Map);
            map.eachLayer(l => { if (l instanceof L.Marker && l.feature && l.getPopup && l.getPopup() &&
                l.getTooltip && l.getTooltip() && l.getTooltip().getContent().includes('onerror')) l.openPopup(); }); }""")
        popup = page.inner_text(".leaflet-popup-content")
        assert HOSTILE in popup
        assert "293,300" in popup
        # hover tooltips of polygons (county with the hostile name, catchment) are text too
        tips = page.evaluate("""() => { const out = []; const map = Object.values(window).find(v => v instanceof L.Map);
            map.eachLayer(l => { if (l.feature && l.getTooltip && l.getTooltip()) { l.openTooltip(); } });
            document.querySelectorAll('.bz-tip').forEach(e => out.push(e.textContent)); return out; }""")
        assert any(HOSTILE in t for t in tips)
        assert page.locator("img[src='x']").count() == 0
        page.wait_for_timeout(100)
        assert log["dialogs"] == []
        assert log["errors"] == []
    finally:
        context.close()


def test_english_labels(browser, tmp_path):
    region = _region()
    region["boundaries"]["name_en"] = ["Bazhong", "Bazhou", "Enyang", "Tongjiang", "Nanjiang", "Pingchang"]
    counties = region["boundaries"].iloc[1:].assign(urban_share_pct=[64.44, 37.39, 38.96, 37.95, np.nan])
    choropleth = {"gdf": counties, "column": "urban_share_pct", "scheme": "user_defined", "bins": [40, 50, 100],
                  "unit": " %", "fmt_digits": 1, "legend_title": "urban share"}
    html_text = maps.to_html(maps.progress_map(region, _progress(), lang="en", choropleth=choropleth))
    context, page, log = _open(browser, tmp_path, html_text)
    try:
        legend = page.locator(".bz-legend", has_text="urban share").inner_text()
        assert "37.4 – 40 %" in legend
        assert "40 – 50 %" in legend
        assert "50 – 100 %" in legend
        assert "no data" in legend
        assert "user-defined breaks" in legend
        text = page.inner_text("body")
        assert "Settlement tiers" in text
        assert "central city" in text
        assert "Progress towards targets" in text
        assert "urbanization rate" in text
        assert "achieved" in text
        assert log["errors"] == []
    finally:
        context.close()


def test_english_option_translates_layers_legends_panels_and_popups(browser, tmp_path):
    region = _region()
    candidates = region["settlements"].iloc[4:6].assign(passed=[True, None])
    m = maps.progress_map(region, _progress(), lang="en", catchments=_catchments(region), candidates=candidates)
    context, page, log = _open(browser, tmp_path, maps.to_html(m))
    try:
        assert page.get_attribute("html", "lang") == "en"
        layer_names = page.eval_on_selector_all(".leaflet-control-layers-overlays label span",
                                                "els => els.map(e => e.textContent.trim())")
        assert set(layer_names) == {"Boundaries", "Catchments", "Designated towns", "Candidates", "central city",
                                    "county town", "featured town", "central village", "town", "village"}
        counties = page.eval_on_selector_all(".bz-area-label", "els => els.map(e => e.textContent)")
        assert sorted(counties) == ["Bazhou", "Enyang", "Nanjiang", "Pingchang", "Tongjiang"]  # names by NBS code
        assert "Bazhong" in page.eval_on_selector_all(".bz-label", "els => els.map(e => e.textContent)")
        assert page.inner_text(".bz-title") == "Bazhong: progress towards the plan targets"
        assert page.title() == "Bazhong: progress towards the plan targets"
        # every piece of map furniture is in English: no CJK character in legends, panels, layer control
        chrome = page.eval_on_selector_all(".bz-legend, .bz-progress, .bz-title, .leaflet-control-layers",
                                           "els => els.map(e => e.innerText).join(' ')")
        assert "Settlement tiers" in chrome
        assert "passes" in chrome
        assert "data incomplete" in chrome
        assert "Bazhou GDP" in chrome
        assert "bn yuan" in chrome
        assert "people" in chrome
        assert not re.search(r"[\u3400-\u9fff]", chrome), re.findall(r"[\u3400-\u9fff]+", chrome)
        # popups: English field names and tier
        page.evaluate("""() => { const map = Object.values(window).find(v => v instanceof L.Map);
            map.eachLayer(l => { if (l instanceof L.Marker && l.getTooltip && l.getTooltip() &&
                l.getTooltip().getContent() === 'Bazhong') l.openPopup(); }); }""")
        fields = page.eval_on_selector_all(".leaflet-popup-content th", "els => els.map(e => e.textContent)")
        assert fields == ["code", "tier", "population"]
        assert "central city" in page.inner_text(".leaflet-popup-content")
        assert log["errors"] == []
    finally:
        context.close()


NASTY = "甲 'single' \"double\" `back` ${x} a&b </script><img src=x onerror=alert(2)>"


def test_quotes_apostrophes_and_backticks_everywhere_show_as_text(browser, tmp_path):
    """folium #850/#1640: a quote in a name blanked the map. Every text a user can give, with every quote."""
    region = _region()
    region["boundaries"].loc[2, "name"] = NASTY
    region["settlements"].loc[0, "name"] = NASTY  # the central city: a permanent label
    region["provenance"] = pd.DataFrame({"layer": ["county_boundaries"], "attribution": [NASTY]})
    progress = _progress()
    progress.loc[0, "description_zh"] = NASTY
    catchments = _catchments(region).assign(center_name=[NASTY, "通江", "南江"])
    candidates = region["settlements"].iloc[4:5].assign(name=NASTY, passed=False, reasons=NASTY)
    m = maps.progress_map(region, progress, title=NASTY, subtitle=NASTY, note=NASTY, catchments=catchments,
                          candidates=candidates)
    maps.add_builtup(m, region["boundaries"].iloc[3:4], name=NASTY)
    maps.add_raster(m, _raster(tmp_path / "r.tif"), name=NASTY)
    maps.add_categorical_legend(m, NASTY, [(NASTY, "#e74c3c", "star")], note=NASTY)
    context, page, log = _open(browser, tmp_path, maps.to_html(m))
    try:
        assert page.title() == NASTY
        assert page.inner_text(".bz-title h2") == NASTY
        assert page.inner_text(".bz-title p") == NASTY
        assert NASTY in page.eval_on_selector_all(".bz-label", "els => els.map(e => e.textContent)")
        assert NASTY in page.eval_on_selector_all(".bz-area-label", "els => els.map(e => e.textContent)")
        layers = page.eval_on_selector_all(".leaflet-control-layers-overlays label span",
                                           "els => els.map(e => e.textContent.trim())")
        assert layers.count(NASTY) == 2  # built-up and raster layers
        assert page.inner_text(".bz-progress").count(NASTY) == 2  # a target and the note
        legend = page.locator(".bz-legend:not(:has(.bz-ramp))", has_text="a&b").last
        assert legend.inner_text().count(NASTY) == 3  # title, item, note
        assert page.inner_text(".bz-legend:has(.bz-ramp) h4") == NASTY  # the raster's ramp legend
        assert NASTY in page.inner_text(".leaflet-control-attribution")
        popups = page.evaluate("""() => { const map = Object.values(window).find(v => v instanceof L.Map), out = [];
            map.eachLayer(l => { if (l.feature && l.getPopup && l.getPopup()) { l.openPopup();
                out.push(document.querySelector('.leaflet-popup-content').textContent); } });
            map.eachLayer(l => { if (l.feature && l.getTooltip && l.getTooltip()) { l.openTooltip(); } });
            document.querySelectorAll('.bz-tip').forEach(e => out.push(e.textContent));
            return out; }""")
        assert sum(p.count(NASTY) for p in popups) >= 6  # settlement, catchment, candidate (x2) popups; tooltips
        assert page.locator("img[src='x']").count() == 0
        assert page.evaluate("typeof x") == "undefined"
        assert log["dialogs"] == []
        assert log["errors"] == []
    finally:
        context.close()


def test_png_export_has_the_size_and_is_not_blank(browser, tmp_path):
    from PIL import Image

    region = _region()
    m = maps.settlement_map(region)
    out = export_png(m, tmp_path / "map.png", size=(900, 600), browser=browser)
    img = np.asarray(Image.open(out).convert("RGB"), dtype=float)
    assert img.shape == (600, 900, 3)
    assert img.std() > 10  # not one flat colour
    # the map itself is drawn, not only the panels: the central city's red star and the boundary lines
    red = (img[..., 0] > 170) & (img[..., 1] < 90) & (img[..., 2] < 80)
    assert red.sum() > 50
    line = np.abs(img - np.array([0x34, 0x49, 0x5E])).max(axis=2) < 30  # boundary colour #34495e
    assert line.sum() > 500
    sharp = export_png(maps.save(m, tmp_path / "map.html"), tmp_path / "map2x.png", size=(400, 300), scale=2,
                       browser=browser)
    assert Image.open(sharp).size == (800, 600)


@pytest.fixture(scope="module")
def bazhong_meeting_html():
    """The meeting map of the embedded region, as ``bazhong-geo map`` draws it."""
    from bazhong_geo import load_bazhong

    region = load_bazhong()
    inputs = build_meeting_inputs(region, as_of=2020)
    return maps.to_html(maps.meeting_map(region, progress=inputs.progress, catchments=inputs.catchments))


def test_png_export_of_the_same_map_gives_the_same_pixels_every_time(browser, tmp_path, bazhong_meeting_html):
    """Ten renders of the meeting map (panels, catchments, a fitted view) decode to identical pixels (issue 13).

    The view used to be fitted with a zoom animation that a screenshot could catch half-way: most
    renders of this map showed another extent.
    """
    from PIL import Image

    full_map_html = bazhong_meeting_html

    def pixels(out):
        img = Image.open(out)
        return img.size, img.mode, img.convert("RGBA").tobytes()

    renders = [pixels(export_png(full_map_html, tmp_path / f"m{i}.png", size=(1000, 700), browser=browser))
               for i in range(10)]
    assert renders[0][0] == (1000, 700)
    assert all(r == renders[0] for r in renders[1:]), [i for i, r in enumerate(renders) if r != renders[0]]
    # a browser launched for the export (the default) draws the same picture
    assert pixels(export_png(full_map_html, tmp_path / "fresh.png", size=(1000, 700))) == renders[0]


def test_exported_page_has_no_animation_and_keeps_the_fit_for_its_final_size(browser, tmp_path,
                                                                             bazhong_meeting_html):
    from bazhong_geo.maps.export import still

    context, page, log = _open(browser, tmp_path, still(bazhong_meeting_html), size=(1000, 700))
    try:
        opts = page.evaluate("(() => { const m = Object.values(window).find(v => v instanceof L.Map); "
                             "return [m.options.zoomAnimation, m.options.fadeAnimation, m.options.markerZoomAnimation, "
                             "!!m.__bzFit, m.getZoom() % 0.25]; })()")
        assert opts == [False, False, False, True, 0]
        assert log["errors"] == []
    finally:
        context.close()


def _pdf_pages(path):
    """(number of pages, (width, height) of the first page in points) of a PDF, by pdfinfo."""
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)\n", info).group(1))
    return pages, tuple(map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups()))


@pytest.mark.parametrize(("paper", "landscape", "points"), [("A4", True, (842, 595)), ("A4", False, (595, 842)),
                                                    ("A3", True, (1191, 842)), ("A3", False, (842, 1191))])
def test_pdf_export_is_one_page_of_the_paper_size(browser, tmp_path, paper, landscape, points):
    from PIL import Image

    m = maps.progress_map(_region(), _progress())
    out = export_pdf(m, tmp_path / "map.pdf", paper=paper, landscape=landscape, browser=browser)
    pages, size = _pdf_pages(out)
    assert pages == 1
    assert size == pytest.approx(points, abs=2)
    # the page holds the map (the red star of the central city, the progress panel), not a blank sheet
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-singlefile", str(out), str(tmp_path / "page")], check=True)
    img = np.asarray(Image.open(tmp_path / "page.png").convert("RGB"), dtype=float)
    assert img.shape[:2] == pytest.approx((points[1] / 72 * 40, points[0] / 72 * 40), abs=2)
    assert img.std() > 10
    assert ((img[..., 0] > 170) & (img[..., 1] < 90) & (img[..., 2] < 80)).sum() > 5


def test_export_errors(tmp_path, monkeypatch):
    from bazhong_geo._errors import ChromiumNotFoundError, MapExportError

    with pytest.raises(MapExportError, match="paper"):
        export_pdf(maps.base_map(), tmp_path / "x.pdf", paper="Letter")
    monkeypatch.setenv("BAZHONG_GEO_CHROMIUM", str(tmp_path / "no-such-chromium"))
    with pytest.raises(ChromiumNotFoundError, match="BAZHONG_GEO_CHROMIUM"):
        export_png(maps.base_map(), tmp_path / "x.png")
    monkeypatch.delenv("BAZHONG_GEO_CHROMIUM")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ChromiumNotFoundError, match="apt-get install chromium"):
        find_chromium()
    with pytest.raises(MapExportError, match="no such HTML file"):
        export_png(tmp_path / "missing.html", tmp_path / "x.png")


def test_meeting_inputs_leave_out_with_a_note_what_the_data_cannot_give():
    region = _region()
    s = region["settlements"]
    no_towns = {**region, "settlements": s[~s["tier"].isin(["central_city", "county_town"])]}
    inputs = build_meeting_inputs(no_towns, progress=_progress(), catchments="voronoi")
    assert inputs.catchments is None
    assert inputs.progress is not None
    assert inputs.notes == [("catchments left out: EmptyInputError: no located central city or county town to build "
                            "catchments from")]
    m = maps.meeting_map(no_towns, progress=inputs.progress, catchments=inputs.catchments)
    html_text = maps.to_html(m)
    assert '"bz-progress bz-legend"' in html_text
    assert '"_k":"k0"' not in html_text


def test_meeting_inputs_reject_a_wrong_argument_instead_of_leaving_it_out():
    with pytest.raises(BazhongGeoError, match="road layer"):
        build_meeting_inputs(_region(), progress=_progress(), catchments="network")
    with pytest.raises(BazhongGeoError, match="'voronoi' or 'network'"):
        build_meeting_inputs(_region(), progress=None, catchments="nearest")


def test_meeting_map_draws_only_what_it_is_given():
    region = _region()
    bare = maps.to_html(maps.meeting_map(region))
    panel = '"bz-progress bz-legend"'  # the panel's classes as the runtime receives them (the CSS is always there)
    catchment = '"_k":"k0"'  # the first catchment's style key
    assert panel not in bare
    assert catchment not in bare
    assert "城镇体系等级" in bare
    full = maps.to_html(maps.meeting_map(region, progress=_progress(), catchments=_catchments(region), as_of=2020))
    assert panel in full
    assert catchment in full
    assert "评估年份 2020" in full


def test_network_catchment_bands_share_the_centre_colour():
    region = _region()
    c = region["boundaries"].iloc[1:3].copy()
    bands = gpd.GeoDataFrame({"code": ["a", "a"], "name": ["巴城", "巴城"], "minutes": [30.0, 60.0]},
                             geometry=[c.geometry.iloc[0], shapely.union_all(c.geometry.values)], crs=4545)
    m = maps.base_map()
    maps.add_catchments(m, bands)
    spec = re.search(r"bz\.layer\((\{.*?\})\)\.addTo", maps.to_html(m)).group(1)
    feats = json.loads(spec)["data"]["features"]
    assert [f["properties"]["_k"] for f in feats] == ["k0", "k0"]
    assert "≤ 60 min" in feats[0]["properties"]["_t"]  # the larger band is drawn first


def test_full_bazhong_map_with_every_settlement_located_stays_under_3_mb():
    """The meeting map of the embedded region with every settlement located: under 3 MB, nothing dropped.

    Real boundaries, the whole register (names, codes, tiers, designations, populations), the county-town
    catchments and the progress panel of ``bazhong-geo map``; the settlements without known coordinates
    get a random point in their county (the register has 18 points of ~1,950).
    """
    from bazhong_geo import load_bazhong

    region = load_bazhong()
    b, s = region.boundaries, region.settlements.copy()
    rng = np.random.default_rng(0)
    for code, county in zip(b["code"], b.geometry, strict=False):
        todo = np.flatnonzero((s["county_code"] == code).to_numpy() & s.geometry.isna().to_numpy())
        minx, miny, maxx, maxy = county.bounds
        pts = shapely.points(rng.uniform(minx, maxx, 4 * len(todo) + 50), rng.uniform(miny, maxy, 4 * len(todo) + 50))
        pts = pts[shapely.contains(county, pts)][:len(todo)]
        s.loc[s.index[todo], "geometry"] = pts
    assert s.geometry.notna().all()
    assert len(s) > 1900
    located = {"boundaries": b, "settlements": s, "provenance": region.provenance}
    inputs = build_meeting_inputs(located, as_of=2020)
    notes = inputs.notes
    m = maps.meeting_map(located, progress=inputs.progress, catchments=inputs.catchments)
    html_text = maps.to_html(m)
    size = len(html_text.encode("utf-8"))
    print(f"full Bazhong map, {len(s):,} settlements located: {size / 1e6:.2f} MB")
    assert size < 3_000_000
    assert notes == []
    assert "bz-progress" in html_text
    assert "无坐标" not in html_text
    # no feature dropped: every settlement of every tier, every boundary, every catchment
    for tier, n in s["tier"].value_counts().items():
        assert html_text.count(f'"_k":"{tier}"') == n, tier
    assert html_text.count('"_k":"c"') + html_text.count('"_k":"p"') == len(b)
    catchments = county_town_catchments({"boundaries": b, "settlements": s})
    assert len(re.findall(r'"_k":"k\d+"', html_text)) == len(catchments) > 0


def test_cli_map_writes_offline_html(tmp_path, capsys):
    from bazhong_geo import cli

    region = _region()
    bpath = tmp_path / "boundaries.gpkg"
    region["boundaries"].iloc[1:].to_file(bpath)  # counties only
    s = region["settlements"].iloc[:8].to_crs(4326)
    table = pd.DataFrame(s.drop(columns="geometry")).assign(lon=s.geometry.x, lat=s.geometry.y, parent_code=None)
    spath = tmp_path / "settlements.csv"
    table.to_csv(spath, index=False)
    out = tmp_path / "meeting.html"
    code = cli.main(["map", "--out", str(out), "--boundaries", str(bpath), "--settlements", str(spath),
                     "--catchments", "none", "--lang", "en"])
    printed = capsys.readouterr().out
    assert code == 0
    assert out.exists()
    assert f"wrote {out}" in printed
    assert "note:" not in printed
    text = out.read_text(encoding="utf-8")
    assert "<script src=" not in text
    assert "Settlement tiers" in text
    assert '<html lang="en">' in text
    code = cli.main(["map", "--out", str(out), "--boundaries", str(bpath), "--settlements", str(spath),
                     "--catchments", "none", "--basemap", "osm"])
    assert code == 0
    assert "note: basemap osm: tiles load from the internet" in capsys.readouterr().out
    assert "tile.openstreetmap.org" in out.read_text(encoding="utf-8")
    code = cli.main(["map", "--out", str(out), "--catchments", "none", "--basemap", "tianditu"])
    assert code == 2
    assert "Tianditu key" in capsys.readouterr().err


def test_cli_map_exports_png_and_pdf_of_the_requested_sizes(tmp_path, capsys):
    from PIL import Image

    from bazhong_geo import cli

    out, png, pdf = tmp_path / "m.html", tmp_path / "m.png", tmp_path / "m.pdf"
    code = cli.main(["map", "--out", str(out), "--png", str(png), "--width", "640", "--height", "480",
                     "--pdf", str(pdf), "--paper", "A3", "--catchments", "none"])
    printed = capsys.readouterr().out
    assert code == 0
    assert f"wrote {png}" in printed
    assert f"wrote {pdf}" in printed
    assert Image.open(png).size == (640, 480)
    pages, size = _pdf_pages(pdf)
    assert pages == 1
    assert size == pytest.approx((1191, 842), abs=2)


def test_meeting_map_passes_progress_warnings_on_as_notes():
    notes = build_meeting_inputs(_region(), catchments=None, as_of=2024).notes
    assert any(n.startswith("progress panel: ") and "after the target year" in n for n in notes)


def test_candidates_accept_designation_verdicts_with_an_incomplete_state():
    c = gpd.GeoDataFrame({"code": ["a", "b", "c"], "name": ["甲", "乙", "丙"],
                          "verdict": ["qualifies", "does not qualify", "incomplete"],
                          "reasons_zh": ["", "人口不足", "缺少人口数据"]},
                         geometry=[Point(X0, Y0), Point(X0 + 1e4, Y0), Point(X0 + 2e4, Y0)], crs=4545)
    m = maps.base_map()
    maps.add_candidates(m, c)
    html_text = maps.to_html(m)
    spec = json.loads(re.search(r"bz\.layer\((\{.*?\})\)\.addTo", html_text).group(1))
    assert [f["properties"]["_k"] for f in spec["data"]["features"]] == ["y", "n", "u"]
    assert "数据不全" in spec["data"]["features"][2]["properties"]["_p"]
    assert "缺少人口数据" in html_text
    with pytest.raises(BazhongGeoError, match="maybe"):
        maps.add_candidates(maps.base_map(), c.assign(verdict=["maybe"] * 3))
    # a candidate without a point is counted under the legend, not dropped silently
    c.loc[c.index[1], "geometry"] = None
    m = maps.base_map(lang="en")
    maps.add_candidates(m, c)
    html_text = maps.to_html(m)
    assert "1 candidates without coordinates not shown" in html_text
    assert html_text.count('"_k":"n"') == 0
    assert html_text.count('"_k":"y"') == 1


def test_folium_default_marker_uses_inlined_images(browser, tmp_path):
    import folium

    m = maps.base_map()
    folium.Marker([31.86, 106.75], tooltip="默认标记", popup=folium.Popup("<b>folium 弹窗</b>")).add_to(m)
    context, page, log = _open(browser, tmp_path, maps.to_html(m))
    try:
        page.wait_for_function("document.querySelector('img.leaflet-marker-icon') && "
                               "document.querySelector('img.leaflet-marker-icon').complete")
        src = page.get_attribute("img.leaflet-marker-icon", "src")
        assert src.startswith("data:image/png;base64,")
        assert page.evaluate("document.querySelector('img.leaflet-marker-icon').naturalWidth") == 25
        page.click("img.leaflet-marker-icon")  # folium.Popup builds its content with jQuery: the shim stands in
        assert page.inner_text(".leaflet-popup-content") == "folium 弹窗"
        assert [u for u in log["requests"] if not u.startswith(("file:", "data:"))] == []
        assert log["errors"] == []
    finally:
        context.close()


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(st.text())
def test_any_text_embeds_safely_and_round_trips(text):
    embedded = maps.markup.script_json({"name": text})
    assert "<" not in embedded
    assert ">" not in embedded
    assert "&" not in embedded
    assert "\u2028" not in embedded
    assert "\u2029" not in embedded
    assert json.loads(embedded)["name"] == text
    escaped = maps.markup.escape(text)
    assert not set("<>\"'`") & set(escaped)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 50_000), st.floats(0, 50_000), st.floats(0.05, 20_000), st.floats(0.05, 20_000)),
                min_size=1, max_size=8),
       st.sampled_from([0.0, 30.0, 500.0]))
def test_prepare_geometries_never_drops_or_invalidates(boxes, tolerance):
    polys = [shapely.Polygon([(X0 + x, Y0 + y), (X0 + x + w, Y0 + y), (X0 + x + w / 2, Y0 + y + h)])
             for x, y, w, h in boxes]
    g = gpd.GeoDataFrame({"name": [str(i) for i in range(len(polys))]}, geometry=polys, crs=4545)
    out = maps.prepare_geometries(g, tolerance_m=tolerance)
    assert len(out) == len(g)
    assert out["name"].tolist() == g["name"].tolist()
    assert not out.geometry.is_empty.any()
    assert out.geometry.is_valid.all()


def test_progress_panel_shows_bounds_as_bounds():
    """A figure stated as a bound ("passed 200 亿元", "at least 4 featured towns") is shown with its sign."""
    import folium

    prog = _progress().iloc[:2].copy()
    prog["latest_value"] = [20.0, 4.0]
    prog["latest_bound"] = [">", ">="]
    m = maps.base_map()
    maps.add_progress_panel(m, prog)
    def _panel_text(mp):  # the panel's HTML travels as a JSON string with <, > and & escaped
        html = mp.get_root().render()
        for code, char in (("\\u0026", "&"), ("\\u003e", ">"), ("\\u003c", "<")):
            html = html.replace(code, char)
        return html

    html = _panel_text(m)
    assert "&gt; 20" in html
    assert "≥ 4" in html
    prog["latest_bound"] = ["", None]
    m2 = maps.base_map()
    maps.add_progress_panel(m2, prog)
    html2 = _panel_text(m2)
    assert "&gt; 20" not in html2
    assert "≥ 4" not in html2
    assert isinstance(m2, folium.Map)


def test_progress_panel_names_the_definition_used():
    """Issue 5: the indicator definition is shown in every output, the map's panel included."""
    prog = _progress().iloc[:2].copy()
    prog["definition"] = ["resident_urban_share", "urban_settlement"]
    m = maps.base_map()
    maps.add_progress_panel(m, prog)
    html = m.get_root().render()
    assert "口径：urban_settlement" in html
    assert "口径：resident_urban_share" in html
    m_en = maps.base_map(lang="en")
    maps.add_progress_panel(m_en, prog)
    assert "definition: urban_settlement" in m_en.get_root().render()
