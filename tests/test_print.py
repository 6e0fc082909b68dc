"""The print page (issue 13): exports at prefecture, county and township extents checked pixel by pixel in Chromium.

Known answers are computed here, independently of the page: the Web Mercator view that fits the extent
into the map frame (Leaflet's fit without zoom snapping), the pixel of a vertex in that view, and the
ground distance (on the WGS-84 ellipsoid) under the scale bar.
"""

from __future__ import annotations

import json
import math
import re
import subprocess

import folium
import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import Point, box

from bazhong_geo import maps
from bazhong_geo._errors import MapExportError
from bazhong_geo.export import CHROMIUM_ARGS, find_chromium
from bazhong_geo.maps.export import export_pdf, export_png, export_print
from bazhong_geo.maps.layout import CSS_PX_PER_MM, PRINT_FACTORS, page_geometry, parse_extent, print_layout

X0, Y0 = 575_000.0, 3_520_000.0  # EPSG:4545, about 108.8°E 31.8°N
COUNTY_CODES = ["511902", "511903", "511921", "511922"]
MAGENTA, CYAN = "#ff00ff", "#00ffff"


def _region():
    """A prefecture of four 40 km counties; county 511921 split into 3 x 3 townships; settlements of three tiers."""
    cells = [box(X0 + i * 40_000, Y0 + j * 40_000, X0 + (i + 1) * 40_000, Y0 + (j + 1) * 40_000)
             for j in range(2) for i in range(2)]
    tx, ty = X0, Y0 + 40_000  # county 511921 is the third cell (i=0, j=1)
    towns = [box(tx + i * 13_333.3, ty + j * 13_333.3, tx + (i + 1) * 13_333.3, ty + (j + 1) * 13_333.3)
             for j in range(3) for i in range(3)]
    town_codes = [f"511921{100 + k}" for k in range(1, 10)]
    b = gpd.GeoDataFrame({"code": ["511900", *COUNTY_CODES, *town_codes],
                          "name": ["巴中市", "巴州区", "恩阳区", "通江县", "南江县"] + [f"{k}镇" for k in range(1, 10)],
                          "level": ["prefecture"] + ["county"] * 4 + ["township"] * 9},
                         geometry=[shapely.union_all(cells), *cells, *towns], crs=4545)
    rng = np.random.default_rng(7)
    xy = rng.uniform(3_000, 77_000, (80, 2))
    s = gpd.GeoDataFrame({"name": ["巴城"] + [f"县城{i}" for i in range(3)] + [f"乡镇{i}号" for i in range(76)],
                          "tier": ["central_city"] + ["county_town"] * 3 + ["town"] * 76,
                          "population": [600000, 200000, 150000, 100000, *list(rng.uniform(1000.0, 50000.0, 76))]},
                         geometry=[Point(X0 + x, Y0 + y) for x, y in xy], crs=4545)
    return {"boundaries": b, "settlements": s}


def _map(region, marks=()):
    m = maps.settlement_map(region, label_tiers=("central_city", "county_town", "town"), subtitle="测试")
    for (lon, lat), color in marks:
        folium.CircleMarker([lat, lon], radius=3, color=color, weight=0, fill=True, fill_color=color,
                            fill_opacity=1).add_to(m)
    return m


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


# ------------------------------------------------------------------------------------------ known answers

def _world(lon, lat):
    """Web Mercator in world units (0..1, y down), as Leaflet projects at zoom 0 divided by 256."""
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return (lon + 180) / 360, 0.5 - y / (2 * math.pi)


def _unworld(x, y):
    lat = math.degrees(2 * math.atan(math.exp((0.5 - y) * 2 * math.pi)) - math.pi / 2)
    return x * 360 - 180, lat


class View:
    """The view fitting lon/lat ``bounds`` into a ``size`` frame with ``pad`` pixels on every side."""

    def __init__(self, bounds, size, pad):
        minx, miny, maxx, maxy = bounds
        x0, y1 = _world(minx, miny)
        x1, y0 = _world(maxx, maxy)
        self.scale = min((size[0] - 2 * pad) / (x1 - x0), (size[1] - 2 * pad) / (y1 - y0))  # pixels per world unit
        self.cx, self.cy = (x0 + x1) / 2, (y0 + y1) / 2
        self.w, self.h = size

    def pixel(self, lon, lat):
        x, y = _world(lon, lat)
        return self.w / 2 + (x - self.cx) * self.scale, self.h / 2 + (y - self.cy) * self.scale

    def lonlat(self, px, py):
        return _unworld(self.cx + (px - self.w / 2) / self.scale, self.cy + (py - self.h / 2) / self.scale)


def _extent_polygon(region, code):
    b = region["boundaries"]
    return b[b["code"] == code].to_crs(4326).geometry.iloc[0]


def _south_north_vertices(poly):
    xy = np.asarray(poly.exterior.coords)
    return tuple(xy[xy[:, 1].argmin()]), tuple(xy[xy[:, 1].argmax()])


def _open(browser, html, g, scale=1):
    ctx = browser.new_context(viewport={"width": g.width_px, "height": g.height_px}, device_scale_factor=scale)
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_content(html, wait_until="load")
    page.wait_for_function("window.__bazhong_ready === true", timeout=30_000)
    assert errors == []
    return ctx, page


def _blob(img, color):
    """Centre (x, y) of the pixels of one pure colour."""
    rgb = tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))
    mask = (np.abs(img[..., :3].astype(int) - rgb) < 40).all(axis=-1)
    ys, xs = np.nonzero(mask)
    assert len(xs) > 5, f"no {color} pixels"
    return xs.mean() + 0.5, ys.mean() + 0.5


FRAME_JS = ("(() => { const el = document.querySelector('.folium-map'); const r = el.getBoundingClientRect();"
            " return [r.left, r.top, el.clientWidth, el.clientHeight]; })()")


# ------------------------------------------------------------------------------------------ in Chromium

@pytest.mark.parametrize(("level", "code", "paper", "orientation"), [
    ("prefecture", "511900", "A3", "landscape"),
    ("county", "511921", "A4", "landscape"),
    ("township", "511921101", "A4", "portrait"),
])
def test_vertex_scale_bar_ratio_and_extent_at_every_level(browser, tmp_path, level, code, paper, orientation):
    region = _region()
    poly = _extent_polygon(region, code)
    south, north = _south_north_vertices(poly)
    m = _map(region, [(south, MAGENTA), (north, CYAN)])
    g = page_geometry(paper, orientation)
    html = print_layout(m, extent=None if level == "prefecture" else code, paper=paper, orientation=orientation,
                        date="2026-01-01")
    ctx, page = _open(browser, html, g)
    try:
        left, top, w, h = page.evaluate(FRAME_JS)
        # the frame is where the paper layout puts it
        assert (left, top) == pytest.approx(g.frame[:2], abs=1)
        assert (w, h) == pytest.approx(g.frame[2:], abs=1)
        view = View(poly.bounds, (w, h), g.pad_px)
        png = tmp_path / "page.png"
        page.screenshot(path=str(png))
        from PIL import Image

        img = np.asarray(Image.open(png).convert("RGB"))
        # known vertices land on their computed pixels (the southernmost one: the southern row is not cut off)
        for vertex, color in ((south, MAGENTA), (north, CYAN)):
            px, py = view.pixel(*vertex)
            got = _blob(img, color)
            assert got == pytest.approx((left + px, top + py), abs=2), (level, color)
        # nothing of the extent is cut off: its bounding box lies inside the frame
        for lon, lat in ((poly.bounds[0], poly.bounds[1]), (poly.bounds[2], poly.bounds[3])):
            px, py = view.pixel(lon, lat)
            assert 0 <= px <= w
            assert 0 <= py <= h
        # the scale bar: its drawn length on the ellipsoid, at the frame's centre, is the distance it states
        bar = page.evaluate("(() => { const b = document.getElementById('bz-scalebar');"
                            " const r = b.querySelector('.bar').getBoundingClientRect();"
                            " return [+b.dataset.metres, r.width, b.textContent,"
                            " +document.getElementById('bz-ratio').dataset.denominator,"
                            " document.getElementById('bz-ratio').textContent]; })()")
        metres, bar_px, bar_text, denominator, ratio_text = bar
        a = view.lonlat(w / 2 - bar_px / 2, h / 2)
        b = view.lonlat(w / 2 + bar_px / 2, h / 2)
        ground = Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])[2]
        assert ground == pytest.approx(metres, rel=0.02)
        assert bar_px <= g.bar_max_px + 1
        km = metres / 1000
        assert bar_text.endswith(f"{km:g} km" if metres >= 1000 else f"{metres:g} m")
        # the ratio scale: ground metres per metre of paper in this frame on this paper
        ground_per_px = ground / bar_px
        assert denominator == pytest.approx(ground_per_px / (0.0254 / 96), rel=0.01)
        shown = float(re.sub(r"[^\d]", "", ratio_text.split(":")[1]))
        assert shown == pytest.approx(denominator, rel=0.01)
        # line widths are scaled for the paper: the prefecture outline (3 px on screen)
        widths = page.evaluate("[...document.querySelectorAll('path.leaflet-interactive')]"
                               ".map(p => +p.getAttribute('stroke-width'))")
        assert max(widths) == pytest.approx(3 * PRINT_FACTORS[paper]["line"], abs=0.01)
    finally:
        ctx.close()


def test_ratio_scale_follows_the_paper_size(browser):
    """The same extent on A4 and A3 landscape: the denominator scales with the frame (width-limited here)."""
    region = _region()
    m = _map(region)
    values = {}
    for paper in ("A4", "A3", "A2"):
        g = page_geometry(paper, "landscape")
        ctx, page = _open(browser, print_layout(m, extent="511921", paper=paper, date="2026-01-01"), g)
        try:
            values[paper] = page.evaluate("+document.getElementById('bz-ratio').dataset.denominator")
            frame_h = page.evaluate(FRAME_JS)[3]
        finally:
            ctx.close()
        poly = _extent_polygon(region, "511921")
        view = View(poly.bounds, page_geometry(paper, "landscape").frame[2:], g.pad_px)
        a, b = view.lonlat(0, frame_h / 2), view.lonlat(100, frame_h / 2)
        expected = Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])[2] / 100 / (0.0254 / 96)
        assert values[paper] == pytest.approx(expected, rel=0.01), paper
    assert values["A4"] > values["A3"] > values["A2"]


def test_settlement_labels_never_overlap_and_keep_the_highest_tiers(browser):
    region = _region()
    m = _map(region)
    rng = np.random.default_rng(3)
    schools = gpd.GeoDataFrame({"n": [f"学校{i}" for i in range(20)]},
                               geometry=[Point(X0 + x, Y0 + y) for x, y in rng.uniform(3_000, 77_000, (20, 2))],
                               crs=4545)
    maps.add_layer(m, schools, {"name": "学校", "shape": "square", "label": "n"})
    g = page_geometry("A4", "landscape")
    ctx, page = _open(browser, print_layout(m, paper="A4", date="2026-01-01"), g)
    try:
        labels = page.evaluate("""[...document.querySelectorAll('.leaflet-tooltip.bz-label')].map(el => {
            const r = el.getBoundingClientRect();
            return [el.textContent, getComputedStyle(el).display !== 'none', r.left, r.top, r.right, r.bottom]; })""")
        frame = page.evaluate(FRAME_JS)
    finally:
        ctx.close()
    placed = [lab for lab in labels if lab[1]]
    hidden = [lab for lab in labels if not lab[1]]
    assert len(labels) == 100
    assert hidden
    assert len(placed) > 20
    for i, a in enumerate(placed):
        assert frame[0] <= a[2]
        assert a[4] <= frame[0] + frame[2] + 0.5
        assert frame[1] <= a[3]
        for b in placed[i + 1:]:
            assert not (a[2] < b[4] and b[2] < a[4] and a[3] < b[5] and b[3] < a[5]), (a[0], b[0])
    names = {lab[0] for lab in placed}
    assert {"巴城", "县城0", "县城1", "县城2"} <= names


def test_ten_renders_are_pixel_identical(browser, tmp_path):
    from PIL import Image

    m = _map(_region())
    renders = []
    for i in range(10):
        out = export_png(m, tmp_path / f"p{i}.png", paper="A4", extent="511921", scale=1, browser=browser)
        img = Image.open(out)
        renders.append((img.size, img.convert("RGB").tobytes()))
    assert renders[0][0] == (page_geometry("A4").width_px, page_geometry("A4").height_px)
    first = np.frombuffer(renders[0][1], dtype=np.uint8).reshape(renders[0][0][1], renders[0][0][0], 3)
    differ = {}
    for i, (_, data) in enumerate(renders[1:], 1):
        ys, xs = np.nonzero((np.frombuffer(data, dtype=np.uint8).reshape(first.shape) != first).any(axis=-1))
        if len(xs):
            differ[i] = (len(xs), int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max()))
    assert differ == {}  # render -> (pixels, x range, y range) that differ from the first


def _pdfinfo(path):
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)\n", info).group(1))
    return pages, tuple(map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups()))


@pytest.mark.parametrize(("paper", "orientation", "points"), [("A3", "landscape", (1191, 842)), ("A4", "portrait", (595, 842)),
                                                      ("A2", "landscape", (1684, 1191))])
def test_pdf_has_one_vector_page_per_county_at_the_paper_size(browser, tmp_path, paper, orientation, points):
    from PIL import Image

    m = _map(_region())
    out = export_pdf(m, tmp_path / "counties.pdf", paper=paper, orientation=orientation, per_county=True,
                     browser=browser)
    pages, size = _pdfinfo(out)
    assert pages == len(COUNTY_CODES)
    assert size == pytest.approx(points, abs=1.5)
    # vector: no image in the PDF (the map has no raster layer), text as text
    images = subprocess.run(["pdfimages", "-list", str(out)], capture_output=True, text=True, check=True).stdout
    assert len(images.strip().splitlines()) == 2  # the two header lines only
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    for name in ("巴州区", "恩阳区", "通江县", "南江县"):
        assert name in text
    # each page is a different county, none blank
    subprocess.run(["pdftoppm", "-r", "20", "-png", str(out), str(tmp_path / "pg")], check=True)
    shots = sorted(tmp_path.glob("pg-*.png"))
    arrays = [np.asarray(Image.open(p).convert("L"), dtype=float) for p in shots]
    assert len(arrays) == 4
    assert all(a.std() > 5 for a in arrays)
    assert all(np.abs(arrays[0] - a).mean() > 0.5 for a in arrays[1:])


def test_one_page_pdf_and_png_per_county(browser, tmp_path):
    m = _map(_region())
    one = export_print(m, tmp_path / "one.pdf", paper="A4", extent="511921101", browser=browser, date="2026-01-02")
    assert _pdfinfo(one[0])[0] == 1
    # same map, same date: same bytes (Chromium's time of printing is replaced by the map's date)
    again = export_print(m, tmp_path / "again.pdf", paper="A4", extent="511921101", browser=browser, date="2026-01-02")
    assert again[0].read_bytes() == one[0].read_bytes()
    assert b"/CreationDate (D:20260102000000" in one[0].read_bytes()
    pngs = export_print(m, tmp_path / "c.png", paper="A4", per_county=True, scale=1, browser=browser)
    assert [p.name for p in pngs] == [f"c_{c}.png" for c in COUNTY_CODES]
    assert all(p.exists() for p in pngs)


# ------------------------------------------------------------------------------------------ no browser

def test_page_geometry_is_the_paper_at_96_css_px_per_inch():
    for paper, (w, h) in {"A4": (210, 297), "A3": (297, 420), "A2": (420, 594)}.items():
        g = page_geometry(paper, "portrait")
        assert (g.width_px, g.height_px) == (int(w * CSS_PX_PER_MM), int(h * CSS_PX_PER_MM))
        land = page_geometry(paper, "landscape")
        assert (land.width_mm, land.height_mm) == (h, w)
        for geom in (g, land):
            fx, fy, fw, fh = geom.frame
            assert fx >= 10 * CSS_PX_PER_MM - 0.1
            assert fx + fw <= geom.width_px
            assert fy + fh <= geom.height_px


def test_extents_parse_and_resolve():
    assert parse_extent("511921") == "511921"
    assert parse_extent("106.5, 31.6, 107.2, 32.1") == (106.5, 31.6, 107.2, 32.1)
    assert parse_extent("560000,3500000,640000,3560000,EPSG:4545")[-1] == "EPSG:4545"
    m = _map(_region())
    b = maps.layout.resolve_extent(m, (X0, Y0, X0 + 80_000, Y0 + 80_000, "EPSG:4545"))
    expected = Transformer.from_crs(4545, 4326, always_xy=True).transform_bounds(X0, Y0, X0 + 80_000, Y0 + 80_000,
                                                                                 densify_pts=21)
    assert b == pytest.approx(expected)
    assert maps.layout.resolve_extent(m, None) == pytest.approx(_extent_polygon(_region(), "511900").bounds)
    assert maps.layout.resolve_extent(m, "511921101") == pytest.approx(_extent_polygon(_region(), "511921101").bounds)


def test_print_errors_are_typed_and_say_how_to_fix(tmp_path):
    m = _map(_region())
    with pytest.raises(MapExportError, match="A4, A3, A2"):
        print_layout(m, paper="Letter")
    with pytest.raises(MapExportError, match="portrait"):
        print_layout(m, orientation="sideways")
    with pytest.raises(MapExportError, match="known: 511900 巴中市"):
        print_layout(m, extent="999999")
    with pytest.raises(MapExportError, match="division code"):
        print_layout(m, extent="north of here")
    with pytest.raises(MapExportError, match="add its CRS"):
        print_layout(m, extent=(X0, Y0, X0 + 1000, Y0 + 1000))
    with pytest.raises(MapExportError, match="minx < maxx"):
        print_layout(m, extent=(107, 32, 106, 33))
    with pytest.raises(MapExportError, match=r"\.pdf or a \.png"):
        export_print(m, tmp_path / "x.jpg")
    with pytest.raises(MapExportError, match="per-county pages need county boundaries"):
        export_print(maps.base_map(), tmp_path / "x.pdf", per_county=True)
    with pytest.raises(MapExportError, match=r"give the folium\.Map"):
        export_png(maps.to_html(m), tmp_path / "x.png", paper="A4")


# ------------------------------------------------------------------------------------------ rasters

def _class_raster(path, blocks, dtype="uint8", nodata=None):
    """A 4 km x 4 km GeoTIFF (EPSG:4545, 100 m cells), one value per 2 km quadrant (row-major)."""
    import rasterio
    from affine import Affine

    data = np.zeros((40, 40), dtype=dtype)
    for k, v in enumerate(blocks):
        r, c = divmod(k, 2)
        data[r * 20:(r + 1) * 20, c * 20:(c + 1) * 20] = v
    with rasterio.open(path, "w", driver="GTiff", width=40, height=40, count=1, dtype=dtype, crs="EPSG:4545",
                       nodata=nodata, transform=Affine(100, 0, X0, 0, -100, Y0 + 4_000)) as dst:
        dst.write(data, 1)
    return path


def _overlay_pixels(m):
    import base64
    import io

    from PIL import Image

    png = re.search(r'L\.imageOverlay\(\s*"data:image/png;base64,([A-Za-z0-9+/=]+)"', maps.to_html(m)).group(1)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(png))).convert("RGBA"))


def _hex(rgb):
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def test_worldcover_raster_is_drawn_with_its_classes_and_legend(tmp_path):
    path = _class_raster(tmp_path / "wc.tif", [10, 40, 50, 80])
    m = maps.base_map()
    maps.add_raster(m, path)  # detected: every value is a WorldCover class
    img = _overlay_pixels(m)
    colours = {_hex(p[:3]) for p in img[img[..., 3] > 0].reshape(-1, 4)}
    assert colours == {"#006400", "#f096ff", "#fa0000", "#0064c8"}  # class colours only: nothing blended
    html = maps.to_html(m)
    legend = re.findall(r"\\u003cspan\\u003e([^\\]+)\\u003c/span\\u003e", html)
    assert legend == ["林地", "耕地", "建设用地", "永久水体"]
    assert "土地覆盖（ESA WorldCover）" in html
    en = maps.base_map(lang="en")
    maps.add_raster(en, path, kind="categorical")
    assert "Tree cover" in maps.to_html(en)
    assert "Built-up" in maps.to_html(en)


def test_class_rasters_are_never_drawn_as_continuous_surfaces(tmp_path):
    wc = _class_raster(tmp_path / "wc.tif", [10, 40, 50, 80])
    with pytest.raises(maps_error(), match="never drawn as a continuous surface"):
        maps.add_raster(maps.base_map(), wc, kind="continuous")
    with pytest.raises(maps_error(), match="never drawn as a continuous surface"):
        maps.add_raster(maps.base_map(), wc, kind="continuous", classes="worldcover")
    # ambiguous codes, unknown codes and measurements asked to be classes are refused with the fix
    with pytest.raises(maps_error(), match="worldcover and ghsl_smod; say which"):
        maps.add_raster(maps.base_map(), _class_raster(tmp_path / "amb.tif", [10, 30, 10, 30]))
    with pytest.raises(maps_error(), match=r"value\(s\) \[7\] are not classes of worldcover"):
        maps.add_raster(maps.base_map(), _class_raster(tmp_path / "bad.tif", [10, 7, 50, 80]), classes="worldcover")
    with pytest.raises(maps_error(), match="match no known class table"):
        maps.add_raster(maps.base_map(), _class_raster(tmp_path / "f.tif", [0.1, 0.5, 0.7, 1], "float32"),
                        kind="categorical")
    # CLCD and GHSL SMOD are recognised; a user's table draws its own colours
    assert maps.detect_table([1, 2, 4, 8]).key == "clcd"
    assert maps.detect_table([11, 13, 21, 30]).key == "ghsl_smod"
    assert maps.detect_table([0, 1]) is None  # a 0/1 mask is not land cover
    user = {1: ("建成区", "built-up", "#e74c3c"), 2: ("水域", "water", "#3498db"), 3: ("农田", "farmland", "#f1c40f")}
    m = maps.base_map()
    maps.add_raster(m, _class_raster(tmp_path / "u.tif", [1, 2, 3, 0], nodata=0), classes=user)
    img = _overlay_pixels(m)
    assert {_hex(p[:3]) for p in img[img[..., 3] > 0].reshape(-1, 4)} == {"#e74c3c", "#3498db", "#f1c40f"}
    assert (img[..., 3] == 0).sum() > 0.2 * img[..., 3].size  # nodata quadrant transparent


def maps_error():
    from bazhong_geo._errors import BazhongGeoError

    return BazhongGeoError


def test_continuous_raster_uses_a_ramp_and_a_ramp_legend(tmp_path):
    path = _class_raster(tmp_path / "f.tif", [0.0, 0.5, 0.75, 1.0], "float32")
    m = maps.base_map()
    maps.add_raster(m, path, cmap="viridis", vmin=0, vmax=1, opacity=1)
    img = _overlay_pixels(m)
    colours = {_hex(p[:3]) for p in img[img[..., 3] > 0].reshape(-1, 4)}
    assert "#440154" in colours
    assert "#fde725" in colours
    html = maps.to_html(m)
    assert "linear-gradient(to right, #440154" in html
    assert "bz-ramp" in html
    with pytest.raises(maps_error(), match="ramp 'rainbow' unknown"):
        maps.add_raster(maps.base_map(), path, cmap="rainbow")


# ------------------------------------------------------------------------------------------ styled layers

def test_styled_layers_polygon_choropleth_line_and_point():
    from shapely.geometry import LineString

    m = maps.base_map()
    polys = gpd.GeoDataFrame({"name": ["甲", "乙", "丙", "丁"], "share": [0.1, 0.4, 0.6, np.nan]},
                             geometry=[box(106 + i * 0.1, 31, 106.1 + i * 0.1, 31.1) for i in range(4)], crs=4326)
    maps.add_layer(m, polys, {"name": "城镇化率", "choropleth": {"column": "share", "scheme": "user_defined",
                                                            "bins": [0.3, 1.0], "digits": 1},
                              "label": "name", "opacity": 0.5})
    lines = gpd.GeoDataFrame({"ref": ["G85"]}, geometry=[LineString([(106, 31), (106.4, 31.1)])], crs=4326)
    maps.add_layer(m, lines, {"name": "高速", "color": "#8e44ad", "weight": 3, "dash": "6 3"})
    pts = gpd.GeoDataFrame({"n": ["学校"]}, geometry=[Point(106.2, 31.05)], crs=4326)
    maps.add_layer(m, pts, {"name": "学校", "shape": "square", "fill": "#2980b9", "label": "n"})
    html = maps.to_html(m)
    specs = [json.loads(s) for s in re.findall(r"bz\.layer\((\{.*?\})\)\.addTo", html)]
    poly_spec = specs[0]
    keys = [f["properties"]["_k"] for f in poly_spec["data"]["features"]]
    assert keys == ["c0", "c1", "c1", "na"]
    assert poly_spec["styles"]["c0"]["fillOpacity"] == pytest.approx(0.25)
    assert poly_spec["styles"]["c0"]["opacity"] == 0.5
    labels = [f["properties"].get("_l") for f in specs[1]["data"]["features"]]
    assert labels == ["甲", "乙", "丙", "丁"]
    line_spec = specs[2]
    assert line_spec["styles"]["a"] == {"color": "#8e44ad", "weight": 3, "opacity": 1.0, "fill": False,
                                        "dashArray": "6 3"}
    assert specs[3]["styles"]["a"]["shape"] == "square"
    assert specs[3]["data"]["features"][0]["properties"]["_l"] == "学校"
    for text in ("0.1 – 0.3", "0.3 – 1", "无数据", "高速", "学校"):
        assert text in html.replace("\\u0026", "&")


def test_styled_layer_errors_name_the_fix():
    from shapely.geometry import LineString

    g = gpd.GeoDataFrame({"v": [1]}, geometry=[Point(106, 31)], crs=4326)
    with pytest.raises(maps_error(), match="unknown; use name, color"):
        maps.add_layer(maps.base_map(), g, {"colour": "red"})
    with pytest.raises(maps_error(), match="'nope' not in the layer"):
        maps.add_layer(maps.base_map(), g, {"label": "nope"})
    with pytest.raises(maps_error(), match="mixes geometry types"):
        maps.add_layer(maps.base_map(), gpd.GeoDataFrame(geometry=[Point(0, 0), LineString([(0, 0), (1, 1)])],
                                                         crs=4326))
    with pytest.raises(maps_error(), match="scheme 'jenks' unknown"):
        maps.add_layer(maps.base_map(), g, {"choropleth": {"column": "v", "scheme": "jenks"}})
    with pytest.raises(maps_error(), match="from 0 to 1"):
        maps.add_layer(maps.base_map(), g, {"opacity": 2})


def test_county_print_page_with_land_cover_puts_the_class_legend_beside_the_map(browser, tmp_path):
    import rasterio
    from affine import Affine

    region = _region()
    data = np.full((80, 80), 10, dtype="uint8")
    data[:, 40:] = 40
    data[30:50, 30:50] = 50
    data[60:, :20] = 80
    tif = tmp_path / "lc.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=80, height=80, count=1, dtype="uint8", crs="EPSG:4545",
                       transform=Affine(500, 0, X0, 0, -500, Y0 + 80_000)) as dst:
        dst.write(data, 1)
    m = maps.settlement_map(region, raster=tif)
    g = page_geometry("A4", "landscape")
    ctx, page = _open(browser, print_layout(m, extent="511921", paper="A4", date="2026-01-01"), g)
    try:
        legend = page.evaluate("[...document.querySelectorAll('#bz-legends .bz-legend')].map(e => e.textContent)")
    finally:
        ctx.close()
    assert any(t.startswith("土地覆盖（ESA WorldCover）林地耕地建设用地永久水体") for t in legend), legend
