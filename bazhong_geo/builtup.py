"""Built-up area from rasters (exact coverage fractions, true km², streamed) and land-use vectors; built-up extents."""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from ._coverage import split_runs
from ._errors import (BazhongGeoError, EmptyInputError, GridMismatchError, InvalidBuiltupRuleError, MissingColumnError,
                      MissingCRSError)
from ._validate import located
from .datasets import CENTRAL_CITY_COUNTIES, PREFECTURE_CODE as CENTRAL_CITY_CODE  # 巴城 = 巴州区 + 恩阳区

_STRIP_CELLS = 8_000_000  # cells per streamed strip (rounded to whole rows of tiles)


# ------------------------------------------------------------------------------------ inputs

@contextmanager
def _open(raster):
    """Yield an open rasterio dataset for a path or an already open dataset (left open)."""
    import rasterio

    if hasattr(raster, "read") and hasattr(raster, "transform"):
        yield raster
    else:
        with rasterio.open(raster) as ds:
            yield ds


def _raster_crs(ds, raster_crs, name):
    from pyproj import CRS

    if raster_crs is not None:
        return CRS.from_user_input(raster_crs)
    if ds.crs is None:
        raise MissingCRSError(
            f"the raster {name} has no coordinate reference system; pass raster_crs=... (e.g. 'EPSG:4326' for "
            f"longitude/latitude, 'ESRI:54009' for GHSL Mollweide, 'EPSG:4545' for the work CRS)")
    return CRS.from_user_input(ds.crs)


def _check_rule(classes, fraction):
    if (classes is None) == (fraction is None):
        raise InvalidBuiltupRuleError(
            "give exactly one built-up rule: classes=[...] (cells whose value is one of these codes, e.g. [50] for "
            "ESA WorldCover, [1] for a 0/1 mask) or fraction='share' (cell value = built-up share 0-1) or "
            "fraction='m2' (cell value = built-up m² per cell, GHSL GHS-BUILT-S)")
    if fraction is not None and fraction not in ("share", "m2"):
        raise InvalidBuiltupRuleError(f"fraction must be 'share' or 'm2', not {fraction!r}")
    if classes is not None:
        classes = np.atleast_1d(np.asarray(classes))
        if classes.size == 0:
            raise InvalidBuiltupRuleError("classes=[] selects nothing; list at least one class code")
    return classes


def _zones_frame(zones, id_col):
    import geopandas as gpd

    if isinstance(zones, gpd.GeoSeries):
        zones = gpd.GeoDataFrame({id_col: [str(i) for i in zones.index]}, geometry=zones, crs=zones.crs)
    if len(zones) == 0:
        raise EmptyInputError("zones has no rows; pass at least one polygon")
    if id_col not in zones.columns:
        raise MissingColumnError(f"zones has no {id_col!r} column (columns: {list(zones.columns)}); pass id_col=...")
    if zones.crs is None:
        raise MissingCRSError("zones has no CRS; set it with zones.set_crs(...) (e.g. 'EPSG:4545')")
    return zones


def _densify_length(zcrs, rcrs, transform):
    """Edge length (zone CRS units) giving a vertex about every raster cell in the raster CRS."""
    px = float(np.sqrt(abs(transform.a * transform.e - transform.b * transform.d)))
    px_m = px * 111_320.0 if rcrs.is_geographic else px
    px_m = max(px_m, 1.0)
    return px_m / 111_320.0 if zcrs.is_geographic else px_m


# ------------------------------------------------------------------------------------ zone coverage

@dataclass
class ZoneCoverage:
    """Exact coverage of a raster grid by zones, reusable for every raster on that grid (e.g. yearly layers).

    Attributes
    ----------
    codes : numpy.ndarray of str
        Zone ids in input order.
    zone_km2 : numpy.ndarray
        True (ellipsoidal) area of each zone polygon, km²: Σ coverage × true cell area for zones lying
        wholly on the raster grid, :func:`bazhong_geo.crs.area_km2` for the others.
    covered_km2 : numpy.ndarray
        Area of each zone that lies on the raster grid (km²).
    crs, transform, shape
        The raster grid the coverage belongs to.
    cell_area_kind : str
        "geographic", "equal_area" or "projected" (how true cell areas are computed).
    report : dict
        ``outside_codes``: zones not on the raster at all; ``repaired_codes``: invalid geometries repaired.
    """

    codes: np.ndarray
    zone_km2: np.ndarray
    covered_km2: np.ndarray
    crs: object
    transform: object
    shape: tuple
    cell_area_kind: str
    report: dict = field(default_factory=dict)
    _cov: object = field(default=None, repr=False)
    _cell_wa: np.ndarray = field(default=None, repr=False)
    _area: object = field(default=None, repr=False)

    def __len__(self):
        return len(self.codes)

    def check_grid(self, ds, crs, name=""):
        """Raise GridMismatchError when ``ds`` is not on this coverage's grid."""
        if (ds.height, ds.width) != tuple(self.shape) or not ds.transform.almost_equals(self.transform) \
                or not crs.equals(self.crs):
            raise GridMismatchError(
                f"raster {name} is on another grid (shape {(ds.height, ds.width)}, "
                f"transform {tuple(ds.transform)[:6]}, "
                f"crs {crs.to_string()}) than the zone coverage (shape {tuple(self.shape)}, transform "
                f"{tuple(self.transform)[:6]}, crs {self.crs.to_string()}); build a coverage for that grid with "
                f"zone_coverage(raster, zones)")


def zone_coverage(raster, zones, *, id_col="code", raster_crs=None) -> ZoneCoverage:
    """Compute the exact coverage of a raster grid by zones, once, for reuse over several rasters.

    Parameters
    ----------
    raster : str, path, rasterio dataset, or dict
        A raster on the grid, or a profile-like dict with ``crs``, ``transform``, ``height``, ``width``.
    zones : geopandas.GeoDataFrame
        Polygons in any CRS; reprojected internally (edges densified to about one vertex per cell).
    id_col : str
        Column holding the zone id.
    raster_crs : optional
        CRS to assume when the raster has none.

    Returns
    -------
    ZoneCoverage

    Examples
    --------
    >>> cov = zone_coverage("built_2020.tif", counties)                     # doctest: +SKIP
    >>> area_by_zone("built_2025.tif", counties, classes=[1], coverage=cov)  # doctest: +SKIP
    """
    import shapely
    from pyproj import CRS

    from . import crs as _crs
    from ._coverage import CellArea, compute_coverage

    zones = _zones_frame(zones, id_col)
    if isinstance(raster, dict):
        if raster.get("crs") is None and raster_crs is None:
            raise MissingCRSError("the raster profile has no 'crs'; pass raster_crs=...")
        rcrs = CRS.from_user_input(raster_crs if raster_crs is not None else raster["crs"])
        transform, shape = raster["transform"], (int(raster["height"]), int(raster["width"]))
    else:
        with _open(raster) as ds:
            rcrs = _raster_crs(ds, raster_crs, getattr(ds, "name", ""))
            transform, shape = ds.transform, (ds.height, ds.width)
    codes = zones[id_col].astype(str).to_numpy()
    geoms = zones.geometry.to_numpy()
    bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    report = {"outside_codes": [], "repaired_codes": sorted(codes[bad].tolist())}
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
        warnings.warn(f"repaired {int(bad.sum())} invalid zone geometries with make_valid: "
                      f"{', '.join(report['repaired_codes'][:20])}", stacklevel=2)
    gs = zones.geometry.__class__(geoms, crs=zones.crs)
    gs0 = gs
    if not CRS.from_user_input(zones.crs).equals(rcrs):
        gs = gs.segmentize(_densify_length(CRS.from_user_input(zones.crs), rcrs, transform)).to_crs(rcrs)
    garr = gs.to_numpy()
    finite = np.isfinite(shapely.bounds(garr)).all(axis=1) | shapely.is_empty(garr) | shapely.is_missing(garr)
    if not finite.all():
        raise BazhongGeoError(
            f"{int((~finite).sum())} zone(s) cannot be projected to the raster CRS {rcrs.to_string()} (coordinates "
            f"outside its domain, or longitude/latitude swapped): {', '.join(codes[~finite][:20])}; check the "
            f"zones' CRS ({zones.crs})")
    gbounds = shapely.bounds(garr)  # of the whole zones, before any clipping
    if transform.b == 0 and transform.d == 0:
        # only the part of each zone near the grid matters: clip to the grid's bounds plus 2 cells (the
        # clip edges lie off the grid, so no covered cell changes) to bound the work for large zones
        xa, xb = sorted((transform.c - 2 * transform.a, transform.c + (shape[1] + 2) * transform.a))
        ya, yb = sorted((transform.f - 2 * transform.e, transform.f + (shape[0] + 2) * transform.e))
        big = (gbounds[:, 0] < xa) | (gbounds[:, 2] > xb) | (gbounds[:, 1] < ya) | (gbounds[:, 3] > yb)
        if big.any():
            garr = garr.copy()
            garr[big] = shapely.clip_by_rect(garr[big], xa, ya, xb, yb)
    cov = compute_coverage(garr, transform, shape)
    area = CellArea(rcrs, transform, shape)
    cell_wa = area.at(cov.cell_row, cov.cell_col)
    cell_wa *= cov.cell_frac  # m² of the cell inside the zone
    cov.cell_frac = None  # = cell_wa / cell area, recomputed where needed
    n = len(codes)
    covered = np.bincount(cov.cell_zone, cell_wa, minlength=n).astype(np.float64)
    # runs: the mean cell area of a run is the area at its middle (the area is linear along a row to
    # < 3e-7); the aggregation cuts long runs where the area varies (see _Accumulator.add)
    for i in range(0, len(cov.run_row), 1_000_000):
        sl = slice(i, i + 1_000_000)
        c0, c1 = cov.run_c0[sl], cov.run_c1[sl]
        a = area.at(cov.run_row[sl], (c0 + c1 - 1) // 2)  # half a cell off the middle at most: < 1e-7
        covered += np.bincount(cov.run_zone[sl], a * cov.run_w[sl] * (c1 - c0), minlength=n)
    covered /= 1e6
    blank0 = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    report["outside_codes"] = sorted(codes[(covered <= 0) & ~blank0].tolist())
    # zone area: for zones wholly on the raster, Σ coverage × true cell area is the polygon's ellipsoidal
    # area (edges straight in the raster CRS, as the raster sees them); others get crs.area_km2
    minx, miny, maxx, maxy = gbounds.T
    inv = ~transform
    corners = [(inv.a * x + inv.b * y + inv.c, inv.d * x + inv.e * y + inv.f)
               for x, y in ((minx, miny), (minx, maxy), (maxx, miny), (maxx, maxy))]
    on = np.ones(n, dtype=bool)
    for c, r in corners:
        on &= (c >= 0) & (c <= shape[1]) & (r >= 0) & (r <= shape[0])
    blank = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    report["empty_codes"] = sorted(codes[blank].tolist())
    if blank.any():
        warnings.warn(f"{int(blank.sum())} zone(s) have no geometry (builtup_km2 and zone_km2 0): "
                      f"{', '.join(report['empty_codes'][:20])}", stacklevel=2)
    zone_km2 = covered.copy()
    off = ~on & ~blank
    if off.any():
        zone_km2[off] = _crs.area_km2(gs0[off]).to_numpy(dtype=np.float64)
    zone_km2[blank] = 0.0
    return ZoneCoverage(codes=codes, zone_km2=zone_km2, covered_km2=covered, crs=rcrs, transform=transform,
                        shape=shape, cell_area_kind=area.kind, report=report, _cov=cov, _cell_wa=cell_wa,
                        _area=area)


# ------------------------------------------------------------------------------------ streaming

def _strips(ds, max_cells=_STRIP_CELLS):
    """Row windows aligned to the raster's blocks, each about ``max_cells`` cells."""
    bh = ds.block_shapes[0][0] if ds.block_shapes else 1
    rows = max(bh, (max_cells // max(ds.width, 1)) // bh * bh)
    return [(r, min(r + rows, ds.height)) for r in range(0, ds.height, rows)]


def _as_dtype_values(values, dtype):
    """Values representable in an integer ``dtype``, cast to it (comparisons then stay in that dtype)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    if dtype.kind not in "ui":
        return values.astype(dtype)
    info = np.iinfo(dtype)
    ok = (values == np.round(values)) & (values >= info.min) & (values <= info.max)
    return values[ok].astype(dtype)


def _valid_from(data, nodata):
    if nodata is None:
        return None
    if np.isnan(nodata):
        return ~np.isnan(data) if data.dtype.kind == "f" else None
    nd = _as_dtype_values([nodata], data.dtype)
    if nd.size == 0:  # a nodata value the dtype cannot hold: every cell is valid
        return None
    valid = data != nd[0]
    if data.dtype.kind == "f":
        valid &= ~np.isnan(data)
    return valid


def _popcount(words):
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words)
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
    return table[words.view(np.uint8)].reshape(-1, 8).sum(axis=1)


class _BitPrefix:
    """Prefix counts of a flat boolean array, stored as packed 64-bit words (1 bit per cell)."""

    def __init__(self, mask_flat):
        pb = np.packbits(mask_flat, bitorder="little")
        pad = (-len(pb)) % 8 + 8  # whole words plus one zero word for the end position
        words = np.concatenate([pb, np.zeros(pad, dtype=np.uint8)]).view("<u8")
        self.words = words
        self.cum = np.zeros(len(words) + 1, dtype=np.int64)
        np.cumsum(_popcount(words), out=self.cum[1:])
        self.total = int(self.cum[-1])

    def prefix(self, pos):
        """Number of set cells before each flat position in ``pos``."""
        q = pos >> 6
        rem = (pos & 63).astype(np.uint64)
        low = (np.uint64(1) << rem) - np.uint64(1)
        return self.cum[q] + _popcount(self.words[q] & low).astype(np.int64)

    def bit(self, pos):
        """0/1 value of the cells at flat positions ``pos``."""
        return ((self.words[pos >> 6] >> (pos & 63).astype(np.uint64)) & np.uint64(1)).astype(np.float64)

    def range_sum(self, start, stop):
        return self.prefix(stop) - self.prefix(start)


def _class_mask(data, classes):
    classes = _as_dtype_values(classes, data.dtype)
    if len(classes) == 0:
        return np.zeros(data.shape, dtype=bool)
    if len(classes) <= 8:
        out = data == classes[0]
        for c in classes[1:]:
            out |= data == c
        return out
    return np.isin(data, classes)


class _StripSummary:
    """What the aggregation needs from one strip of the raster, computed without the zone coverage.

    Classes rule: packed bits of built-up and valid cells (1 bit per cell). Fraction rule: running sums
    of the cell values (8 bytes per cell) and packed bits of valid cells.
    """

    __slots__ = ("r0", "h", "w", "bits", "valid", "csum", "nbytes", "vmin", "vmax")

    def __init__(self, r0, data, classes, nodata):
        self.r0, (self.h, self.w) = r0, data.shape
        flat = data.ravel()
        valid = _valid_from(flat, nodata)
        self.bits = self.csum = None
        self.vmin, self.vmax = np.inf, -np.inf
        if classes is not None:
            v = _class_mask(flat, classes)
            if valid is not None and nodata is not None and np.isin(nodata, classes):
                v &= valid
            self.bits = _BitPrefix(v)
            self.nbytes = self.bits.words.nbytes + self.bits.cum.nbytes
        else:
            v = flat.astype(np.float64)
            if valid is not None:
                v[~valid] = 0.0
            else:
                v[np.isnan(v)] = 0.0
            if v.size:
                self.vmin, self.vmax = float(v.min()), float(v.max())
            self.csum = np.zeros(v.size + 1)
            np.cumsum(v, out=self.csum[1:])
            self.nbytes = self.csum.nbytes
        self.valid = _BitPrefix(valid) if valid is not None else None
        if self.valid is not None:
            self.nbytes += self.valid.words.nbytes + self.valid.cum.nbytes


class _Accumulator:
    """Built-up and valid m² per zone, accumulated strip by strip over a ZoneCoverage."""

    def __init__(self, zc: ZoneCoverage, nodata, fraction):
        self.zc, self.nodata, self.fraction = zc, nodata, fraction
        t = zc.transform
        # fraction="m2": value / (the producer's cell area) is the built-up share; that cell area is
        # the plane area for projected grids (GHSL) and the true area for longitude/latitude grids
        self.plane = None if zc.crs.is_geographic else abs(t.a * t.e - t.b * t.d)
        n = len(zc)
        self.bu = np.zeros(n)
        self.va = np.zeros(n)
        self.total_valid_cells = 0
        self.max_value = -np.inf
        self.min_value = np.inf

    def add(self, st: _StripSummary):
        zc, cov = self.zc, self.zc._cov
        r0, h, w = st.r0, st.h, st.w
        cs_sl, rs_sl = cov.rows_slice(r0, r0 + h)
        c_pos = (cov.cell_row[cs_sl] - r0).astype(np.int64) * w + cov.cell_col[cs_sl]
        c_zone, c_wa = cov.cell_zone[cs_sl], zc._cell_wa[cs_sl]
        area = zc._area
        r_row, r_c0, r_c1, r_zone, r_w = (cov.run_row[rs_sl], cov.run_c0[rs_sl], cov.run_c1[rs_sl],
                                          cov.run_zone[rs_sl], cov.run_w[rs_sl])
        if area.row_area is not None:
            r_wa = r_w * area.row_area[r_row]
        else:
            # the cell area varies along rows: one area per piece of at most max_run cells (< 1e-5)
            r_row, r_c0, r_c1, r_zone, r_w = split_runs(r_row, r_c0, r_c1, r_zone, r_w, area.max_run)
            r_wa = r_w * area.at(r_row, (r_c0 + r_c1 - 1) // 2)
        base = (r_row - r0).astype(np.int64) * w
        r_p0, r_p1 = base + r_c0, base + r_c1
        n = len(zc)
        if st.bits is not None:
            r_bu = st.bits.range_sum(r_p0, r_p1).astype(np.float64)
            c_bu = st.bits.bit(c_pos)
        else:
            r_bu = st.csum[r_p1] - st.csum[r_p0]
            c_bu = st.csum[c_pos + 1] - st.csum[c_pos]
            self.max_value = max(self.max_value, st.vmax)
            self.min_value = min(self.min_value, st.vmin)
        if st.valid is None:
            r_va = (r_p1 - r_p0).astype(np.float64)
            c_va = np.ones(len(c_pos))
            self.total_valid_cells += h * w
        else:
            r_va = st.valid.range_sum(r_p0, r_p1).astype(np.float64)
            c_va = st.valid.bit(c_pos)
            self.total_valid_cells += st.valid.total
        if self.fraction == "m2" and self.plane is None:
            # longitude/latitude: the producer's cell is the true cell; weight the m² by coverage only
            self.bu += np.bincount(c_zone, c_bu * c_wa / area.row_area[cov.cell_row[cs_sl]], minlength=n)
            self.bu += np.bincount(r_zone, r_bu * r_w, minlength=n)
        elif self.fraction == "m2":
            # built-up m² per cell as the producer measured it on the plane cell: value / plane area is
            # the built-up share, which counts by the cell's true area like fraction="share"
            self.bu += np.bincount(c_zone, c_bu * c_wa, minlength=n) / self.plane
            self.bu += np.bincount(r_zone, r_bu * r_wa, minlength=n) / self.plane
        else:
            self.bu += np.bincount(c_zone, c_bu * c_wa, minlength=n)
            self.bu += np.bincount(r_zone, r_bu * r_wa, minlength=n)
        self.va += np.bincount(c_zone, c_va * c_wa, minlength=n)
        self.va += np.bincount(r_zone, r_va * r_wa, minlength=n)


_PREFETCH_BYTES = 96 * 2**20  # strip summaries held ahead of the aggregation


def _summaries(ds, classes, band, progress=False):
    """Yield strip summaries, computed in a background thread (bounded by _PREFETCH_BYTES).

    The raster is read strip by strip with a small GDAL block cache, so memory stays bounded whatever
    the raster size; reading overlaps the zone-coverage computation and the aggregation.
    """
    import queue
    import threading

    import rasterio
    from rasterio.windows import Window

    strips = _strips(ds)
    nodata = ds.nodatavals[band - 1]
    per = max(1, (strips[0][1] - strips[0][0]) * ds.width) if strips else 1
    est = per // 8 * 2 + per // 64 * 16 if classes is not None else per * 8 + per // 4
    q = queue.Queue(maxsize=max(2, _PREFETCH_BYTES // max(est, 1)))
    stop = threading.Event()

    def work():
        try:
            with rasterio.Env(GDAL_CACHEMAX=64 * 2**20):
                for r0, r1 in strips:
                    if stop.is_set():
                        return
                    data = ds.read(band, window=Window(0, r0, ds.width, r1 - r0))
                    q.put(_StripSummary(r0, data, classes, nodata))
                    del data
        except BaseException as exc:  # handed to the consumer
            q.put(exc)
        q.put(None)

    th = threading.Thread(target=work, name="bazhong_geo-builtup-reader", daemon=True)
    th.start()
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(strips), desc=f"built-up {getattr(ds, 'name', '')}", unit="strip")
    try:
        while True:
            item = q.get()
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
            if bar is not None:
                bar.update(1)
    finally:
        stop.set()
        while th.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                th.join(0.05)
        if bar is not None:
            bar.close()


def _values_found(ds, band, limit=30):
    """Distinct cell values of a raster (streamed), for the 'rule matched nothing' warning."""
    found = set()
    nodata = ds.nodatavals[band - 1]
    for r0, r1 in _strips(ds):
        from rasterio.windows import Window
        data = ds.read(band, window=Window(0, r0, ds.width, r1 - r0))
        if data.dtype.kind in "ui" and data.dtype.itemsize <= 2:  # counting is much faster than sorting
            off = int(np.iinfo(data.dtype).min)
            counts = np.bincount((data.astype(np.int32) - off).ravel() if off else data.ravel())
            u = np.nonzero(counts)[0] + off
        else:
            u = np.unique(data)
        found.update(u.tolist())
        if len(found) > 1000:
            break
    if nodata is not None:
        found.discard(nodata)
    vals = sorted(found)
    return vals[:limit], len(vals) > limit


# ------------------------------------------------------------------------------------ public: rasters

def area_by_zone(raster, zones, *, classes=None, fraction=None, id_col="code", coverage=None, raster_crs=None,
                 band=1, progress=False):
    """Built-up km² per zone from a raster, with exact coverage fractions and true cell areas.

    Cells cut by a zone edge count by the fraction of the cell inside the zone (exactextract's
    coverage fractions, computed here by signed-area accumulation); each cell counts by its true
    ellipsoidal area, whatever the raster CRS (longitude/latitude, Mollweide, UTM, the work CRS). The
    raster is streamed in strips, so memory stays bounded whatever its size.

    Parameters
    ----------
    raster : str, path or rasterio dataset
        Single-band raster.
    zones : geopandas.GeoDataFrame
        Zone polygons in any CRS (reprojected internally, edges densified).
    classes : sequence of int, optional
        Cells whose value is one of these codes are built-up (ESA WorldCover ``[50]``, a 0/1 mask ``[1]``).
    fraction : {"share", "m2"}, optional
        Cell value is the built-up share 0-1 (``"share"``) or built-up m² per cell (``"m2"``, GHSL GHS-BUILT-S).
        Give exactly one of ``classes`` and ``fraction``.
    id_col : str
        Zone id column, returned as ``code``.
    coverage : ZoneCoverage, optional
        Precomputed :func:`zone_coverage` for this raster's grid (reused across years); ``zones`` is then
        not used and may be None.
    raster_crs : optional
        CRS to assume when the raster has none (otherwise a raster without CRS is an error).
    band : int
        Band to read.
    progress : bool
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per zone, input order: ``code``, ``builtup_km2``, ``zone_km2`` (true area of the zone
        polygon), ``share`` (= builtup_km2 / zone_km2), ``valid_share`` (share of the zone covered by
        valid raster cells: 0 outside the raster or under nodata). ``.attrs["report"]`` lists
        ``outside_codes``, ``no_valid_codes``, ``repaired_codes`` and ``classes_found`` (when the rule
        matched nothing); each non-empty item is also warned about.

    Notes
    -----
    Nodata: cells equal to the band's nodata value (and NaN in float rasters) are not valid; a separate
    mask band is not read. With ``fraction="m2"`` the value is read as built-up m² of the producer's cell
    (the plane cell for projected grids such as GHSL's Mollweide), i.e. as the share value / cell area,
    and counted by the cell's true area like ``"share"``. The raster is read in strips of whole tile rows
    by a background thread (≤ 96 MB ahead, 64 MB GDAL cache) while the zone coverage is computed.

    Raises
    ------
    MissingCRSError
        Raster or zones without CRS (and no ``raster_crs``).
    InvalidBuiltupRuleError
        Neither or both of ``classes`` and ``fraction``.
    GridMismatchError
        ``coverage`` built for another grid.

    Examples
    --------
    >>> df = area_by_zone("worldcover_2021.tif", counties, classes=[50])   # doctest: +SKIP

    A 10 m mask, built-up (1) in its left half, and a 1 km square zone cut by the mask's edge:

    >>> import numpy as np, geopandas as gpd, rasterio
    >>> from rasterio.io import MemoryFile
    >>> from rasterio.transform import from_origin
    >>> from shapely.geometry import box
    >>> mask = np.zeros((200, 200), dtype="uint8"); mask[:, :100] = 1
    >>> profile = dict(driver="GTiff", width=200, height=200, count=1, dtype="uint8", crs="EPSG:4545",
    ...                transform=from_origin(500_000, 3_502_000, 10, 10))
    >>> with MemoryFile() as mem:
    ...     with mem.open(**profile) as ds:
    ...         ds.write(mask, 1)
    ...     zone = gpd.GeoDataFrame({"code": ["A"]}, geometry=[box(500_505, 3_500_500, 501_505, 3_501_500)],
    ...                             crs="EPSG:4545")
    ...     df = area_by_zone(mem.open(), zone, classes=[1])
    >>> round(float(df.builtup_km2[0]), 3), round(float(df.share[0]), 3)   # 495 m of the 1,000 m width
    (0.495, 0.495)
    """
    classes = _check_rule(classes, fraction)
    return _area_by_zone(raster, zones, classes, fraction, id_col, coverage, raster_crs, band, progress)[0]


def _area_by_zone(raster, zones, classes, fraction, id_col, coverage, raster_crs, band, progress):
    """area_by_zone returning (DataFrame, ZoneCoverage)."""
    with _open(raster) as ds:
        name = getattr(ds, "name", str(raster))
        rcrs = _raster_crs(ds, raster_crs, name)
        if coverage is not None:
            coverage.check_grid(ds, rcrs, name)
        grid = {"crs": rcrs, "transform": ds.transform, "height": ds.height, "width": ds.width}
        stream = _summaries(ds, classes, band, progress)  # starts reading while the coverage is computed
        try:
            zc = coverage if coverage is not None else zone_coverage(grid, zones, id_col=id_col)
            acc = _Accumulator(zc, ds.nodatavals[band - 1], fraction)
            for st in stream:
                acc.add(st)
        finally:
            stream.close()
        return _result(zc, acc, ds, band, classes, fraction, name), zc


def _result(zc, acc, ds, band, classes, fraction, name):
    import pandas as pd

    builtup = acc.bu / 1e6
    valid_km2 = acc.va / 1e6
    zone_km2 = zc.zone_km2
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(zone_km2 > 0, builtup / zone_km2, 0.0)
        vshare = np.where(zone_km2 > 0, valid_km2 / zone_km2, 0.0)
    # cell areas and the polygon's ellipsoidal area differ by round-off only: clip the overshoot
    vshare = np.clip(vshare, 0.0, 1.0)
    df = pd.DataFrame({"code": zc.codes, "builtup_km2": builtup, "zone_km2": zone_km2, "share": share,
                       "valid_share": vshare})
    report = {"raster": name, "outside_codes": list(zc.report.get("outside_codes", [])),
              "repaired_codes": list(zc.report.get("repaired_codes", [])),
              "empty_codes": list(zc.report.get("empty_codes", []))}
    outside = set(report["outside_codes"]) | set(report["empty_codes"])
    report["no_valid_codes"] = sorted(c for c, v in zip(zc.codes, valid_km2) if v <= 0 and c not in outside)
    report["nodata_everywhere"] = acc.total_valid_cells == 0
    if report["outside_codes"]:
        warnings.warn(f"{len(report['outside_codes'])} zone(s) lie outside the raster {name}: builtup_km2 0, "
                      f"valid_share 0: "
                      f"{', '.join(report['outside_codes'][:20])}", stacklevel=4)
    if report["nodata_everywhere"]:
        warnings.warn(f"the raster {name} is nodata everywhere (nodata={acc.nodata}); every zone has valid_share 0",
                      stacklevel=4)
    elif report["no_valid_codes"]:
        warnings.warn(f"{len(report['no_valid_codes'])} zone(s) fall only on nodata cells of {name}: "
                      f"{', '.join(report['no_valid_codes'][:20])}", stacklevel=4)
    if classes is not None and not report["nodata_everywhere"] and acc.bu.sum() == 0:
        found, more = _values_found(ds, band)
        in_zones = " in the zones" if any(v > 0 for v in acc.va) else ""
        report["classes_found"] = found
        warnings.warn(f"the built-up rule classes={classes.tolist()} matches no cell{in_zones} of {name}; classes "
                      f"found in the raster: {found}{' ...' if more else ''}", stacklevel=4)
    if fraction == "share" and np.isfinite(acc.max_value) and (acc.max_value > 1.0 + 1e-6 or acc.min_value < 0):
        report["share_out_of_range"] = [acc.min_value, acc.max_value]
        warnings.warn(f"fraction='share' expects cell values 0-1 but {name} has values in "
                      f"[{acc.min_value:g}, {acc.max_value:g}]; is it fraction='m2' or a percentage?", stacklevel=4)
    df.attrs["report"] = report
    return df


def area_by_zone_stack(rasters, zones, *, classes=None, fraction=None, id_col="code", labels=None,
                       raster_crs=None, band=1, progress=False):
    """Built-up km² per zone for several rasters on one grid (e.g. yearly layers), computing coverage once.

    Parameters
    ----------
    rasters : sequence of paths or datasets
        Rasters on the same grid.
    zones, classes, fraction, id_col, raster_crs, band, progress
        As in :func:`area_by_zone`.
    labels : sequence, optional
        One label per raster (e.g. years) for the ``layer`` column; default 0, 1, 2, ...

    Returns
    -------
    pandas.DataFrame
        ``layer`` plus the columns of :func:`area_by_zone`, one row per (layer, zone); ``.attrs["reports"]``
        holds each layer's report.

    Examples
    --------
    >>> area_by_zone_stack([f"built_{y}.tif" for y in range(2020, 2025)], towns, classes=[1],
    ...                    labels=range(2020, 2025))                              # doctest: +SKIP
    """
    import pandas as pd

    rasters = list(rasters)
    if not rasters:
        raise EmptyInputError("rasters is empty; pass at least one raster")
    labels = list(range(len(rasters))) if labels is None else list(labels)
    if len(labels) != len(rasters):
        raise ValueError(f"{len(labels)} labels for {len(rasters)} rasters")
    from concurrent.futures import ThreadPoolExecutor

    classes = _check_rule(classes, fraction)
    # the first layer computes the zone coverage (while its raster is being read); the others reuse it,
    # two layers at a time (reading and decompressing release the GIL)
    first, zc = _area_by_zone(rasters[0], zones, classes, fraction, id_col, None, raster_crs, band, progress)
    with ThreadPoolExecutor(2) as pool:
        rest = list(pool.map(lambda r: _area_by_zone(r, zones, classes, fraction, id_col, zc, raster_crs, band,
                                                     progress)[0], rasters[1:]))
    out, reports = [], {}
    for lab, df in zip(labels, [first] + rest):
        reports[lab] = df.attrs.get("report")
        df.insert(0, "layer", lab)
        out.append(df)
    res = pd.concat(out, ignore_index=True)
    res.attrs["reports"] = reports
    return res


# ------------------------------------------------------------------------------------ public: vectors

def area_by_zone_vector(landuse, zones, *, classes, class_col="class_code", id_col="code"):
    """Built-up km² per zone from land-use polygons, by exact overlay (true ellipsoidal km²).

    Parameters
    ----------
    landuse : geopandas.GeoDataFrame
        Land-use parcels (e.g. 第三次全国国土调查 parcels) in any CRS.
    zones : geopandas.GeoDataFrame
        Zone polygons in any CRS.
    classes : sequence
        Values of ``class_col`` that count as built-up, e.g. the construction-land codes
        ``["201", "202", "203"]`` (city, town, village). Compared as strings.
    class_col : str
        Land-use class column.
    id_col : str
        Zone id column, returned as ``code``.

    Returns
    -------
    pandas.DataFrame
        ``code``, ``builtup_km2``, ``zone_km2``, ``share``, ``valid_share`` (share of the zone covered by
        land-use parcels of any class), one row per zone in input order. Areas are ellipsoidal
        (:func:`bazhong_geo.crs.area_km2`). Overlapping built-up parcels are
        dissolved first so nothing is counted twice.

    Examples
    --------
    >>> area_by_zone_vector(parcels, towns, classes=["201", "202"], class_col="DLBM")   # doctest: +SKIP
    """
    import geopandas as gpd
    import pandas as pd
    import shapely

    from .crs import WORK_CRS, area_km2

    zones = _zones_frame(zones, id_col)
    if class_col not in landuse.columns:
        raise MissingColumnError(f"landuse has no {class_col!r} column (columns: {list(landuse.columns)}); "
                                 f"pass class_col=...")
    if landuse.crs is None:
        raise MissingCRSError("landuse has no CRS; set it with landuse.set_crs(...)")
    codes = zones[id_col].astype(str).to_numpy()

    def project(g):  # overlay in the work CRS; areas are ellipsoidal (crs.area_km2)
        if g.crs.equals(WORK_CRS):
            return g
        return g.segmentize(0.001 if g.crs.is_geographic else 100.0).to_crs(WORK_CRS)

    def km2(geoms):
        return area_km2(gpd.GeoSeries(geoms, crs=WORK_CRS)).fillna(0.0).to_numpy()

    zg = project(zones.geometry).make_valid().to_numpy()
    lu = project(landuse.geometry.make_valid()).to_numpy()
    cls = landuse[class_col].astype(str).to_numpy()
    wanted = set(str(c) for c in np.atleast_1d(classes))
    is_bu = np.isin(cls, list(wanted))
    if not is_bu.any():
        found = sorted(set(cls.tolist()))
        warnings.warn(f"the built-up rule classes={sorted(wanted)} matches no parcel; classes found in "
                      f"{class_col!r}: {found[:30]}", stacklevel=2)
    zone_km2 = km2(zg)
    # overlay: parcel pieces inside each zone (pairs from a spatial index), dissolved per zone so that
    # overlapping parcels count once
    zi, pi = shapely.STRtree(lu).query(zg, predicate="intersects")
    pieces = shapely.intersection(zg[zi], lu[pi])

    def dissolved_km2(mask):
        out = np.zeros(len(zg))
        if mask.any():
            g = gpd.GeoDataFrame({"z": zi[mask]}, geometry=pieces[mask], crs=WORK_CRS).dissolve("z")
            out[g.index.to_numpy()] = km2(g.geometry.to_numpy())
        return out

    bu_km2 = dissolved_km2(is_bu[pi])
    cov_km2 = dissolved_km2(np.ones(len(pi), dtype=bool))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(zone_km2 > 0, bu_km2 / zone_km2, 0.0)
        vshare = np.clip(np.where(zone_km2 > 0, cov_km2 / zone_km2, 0.0), 0.0, 1.0)
    df = pd.DataFrame({"code": codes, "builtup_km2": bu_km2, "zone_km2": zone_km2, "share": share,
                       "valid_share": vshare})
    df.attrs["report"] = {"parcels": len(landuse), "builtup_parcels": int(is_bu.sum()),
                          "uncovered_codes": sorted(codes[cov_km2 <= 0].tolist())}
    return df


# ------------------------------------------------------------------------------------ extents

def _read_builtup(ds, band, classes, fraction, min_fraction, area):
    """Whole-raster built-up mask and, for fraction rules, built-up share per cell (strip by strip)."""
    from rasterio.windows import Window

    nodata = ds.nodatavals[band - 1]
    mask = np.zeros((ds.height, ds.width), dtype=bool)
    amount = None if classes is not None else np.zeros((ds.height, ds.width), dtype=np.float32)
    for r0, r1 in _strips(ds):
        data = ds.read(band, window=Window(0, r0, ds.width, r1 - r0))
        valid = _valid_from(data, nodata)
        if classes is not None:
            m = _class_mask(data, classes)
        else:
            v = data.astype(np.float32)
            if valid is not None:
                v[~valid] = 0
            v[np.isnan(v)] = 0
            if fraction == "m2":
                cell = area.row_area[r0:r1, None] if area.kind == "geographic" else _cell_plane_m2(ds)
                v = (v / cell).astype(np.float32)
            amount[r0:r1] = v
            m = v > min_fraction if min_fraction > 0 else v > 0
        if valid is not None:
            m &= valid
        mask[r0:r1] = m
    return mask, amount


def _cell_plane_m2(ds):
    t = ds.transform
    return abs(t.a * t.e - t.b * t.d)


def extents(raster, *, classes=None, fraction=None, min_fraction=0.5, min_area_km2=0.01, settlements=None,
            max_distance_m=2000.0, connectivity=8, raster_crs=None, band=1):
    """Built-up patches (connected components of built-up cells), vectorised, with their km² and settlement.

    Parameters
    ----------
    raster : str, path or rasterio dataset
        Built-up raster (read whole: meant for city- and county-scale rasters).
    classes, fraction
        Built-up rule as in :func:`area_by_zone`.
    min_fraction : float
        With ``fraction``: a cell belongs to a patch when its built-up share exceeds this
        (assumption: 0.5, a majority-built cell; 0 takes every cell with any built-up).
    min_area_km2 : float
        Patches with less built-up area are dropped (0.01 km² = 1 ha, about 100 cells of 10 m).
    settlements : GeoDataFrame or SettlementSystem, optional
        Settlement points (``code``, ``name``, optional ``tier``, ``population``); rows without a point are
        ignored. Each patch is joined to the settlement whose point it contains (highest tier, then
        largest population, then smallest code, when several), else to the nearest within
        ``max_distance_m``.
    max_distance_m : float
        Largest distance for the nearest join, metres.
    connectivity : {4, 8}
        Cell adjacency for patches (8: diagonal neighbours connect).
    raster_crs : optional
        CRS to assume when the raster has none.
    band : int
        Band to read.

    Returns
    -------
    geopandas.GeoDataFrame in EPSG:4545
        ``patch_id`` (1.. by decreasing built-up area), ``cells``, ``footprint_km2`` (true area of the
        patch's cells), ``builtup_km2`` (= footprint for ``classes``; Σ share × cell area or Σ m² for
        ``fraction``), ``settlement_code``, ``settlement_name``, ``join`` ("contains" | "nearest" |
        "none"), ``distance_m`` (0 for contains, NaN for none), geometry (Multi)Polygon.

    Examples
    --------
    >>> patches = extents("worldcover.tif", classes=[50], settlements=region.settlements)  # doctest: +SKIP
    >>> settlement_builtup_km2(patches, region.settlements)                                  # doctest: +SKIP
    """
    import geopandas as gpd
    import shapely
    from rasterio import features
    from scipy import ndimage

    from ._coverage import CellArea
    from .crs import WORK_CRS

    classes = _check_rule(classes, fraction)
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, not {connectivity!r}")
    with _open(raster) as ds:
        name = getattr(ds, "name", str(raster))
        rcrs = _raster_crs(ds, raster_crs, name)
        transform, shape = ds.transform, (ds.height, ds.width)
        area = CellArea(rcrs, transform, shape)
        mask, amount = _read_builtup(ds, band, classes, fraction, min_fraction, area)
        found = None
        if classes is not None and not mask.any():
            found, more = _values_found(ds, band)
            warnings.warn(f"the built-up rule classes={classes.tolist()} matches no cell of {name}; classes found in "
                          f"the raster: {found}{' ...' if more else ''}", stacklevel=2)
    structure = np.ones((3, 3), dtype=bool) if connectivity == 8 else ndimage.generate_binary_structure(2, 1)
    labels, n = ndimage.label(mask, structure=structure)
    del mask
    foot = np.zeros(n + 1)
    built = np.zeros(n + 1)
    cells = np.zeros(n + 1, dtype=np.int64)
    for r0 in range(0, shape[0], 1024):
        lab = labels[r0:r0 + 1024]
        rows = np.arange(r0, r0 + lab.shape[0])
        if area.row_area is not None:
            a = np.broadcast_to(area.row_area[rows][:, None], lab.shape)
        else:
            rr, cc = np.meshgrid(rows, np.arange(shape[1]), indexing="ij")
            a = area.at(rr, cc)
        lf = lab.ravel()
        foot += np.bincount(lf, a.ravel(), minlength=n + 1)
        cells += np.bincount(lf, minlength=n + 1)
        if amount is not None:
            am = amount[r0:r0 + 1024].astype(np.float64)
            built += np.bincount(lf, (am * a).ravel(), minlength=n + 1)
    if amount is None:
        built = foot.copy()
    keep = np.nonzero(built[1:] / 1e6 >= min_area_km2)[0] + 1
    remap = np.zeros(n + 1, dtype=np.int32)
    order = keep[np.lexsort((keep, -built[keep]))]  # decreasing built-up, then label
    remap[order] = np.arange(1, len(order) + 1, dtype=np.int32)
    out_lab = remap[labels]
    del labels
    geoms, vals = [], []
    for g, v in features.shapes(out_lab, mask=out_lab > 0, transform=transform, connectivity=connectivity):
        geoms.append(shapely.geometry.shape(g))
        vals.append(int(v))
    del out_lab
    vals = np.asarray(vals, dtype=np.int64)
    geoms = np.asarray(geoms, dtype=object)
    idx = np.argsort(vals, kind="stable")
    polys = shapely.multipolygons(geoms[idx], indices=vals[idx] - 1) if len(idx) else np.zeros(0, dtype=object)
    polys = np.asarray(polys, dtype=object)
    if len(polys):
        single = shapely.get_num_geometries(polys) == 1
        polys[single] = shapely.get_geometry(polys[single], 0)
    gdf = gpd.GeoDataFrame({
        "patch_id": np.arange(1, len(order) + 1, dtype=np.int64),
        "cells": cells[order],
        "footprint_km2": foot[order] / 1e6,
        "builtup_km2": built[order] / 1e6,
    }, geometry=list(polys), crs=rcrs)
    gdf = gdf.to_crs(WORK_CRS) if not rcrs.equals(WORK_CRS) else gdf.set_crs(WORK_CRS, allow_override=True)
    gdf = _join_settlements(gdf, settlements, max_distance_m)
    gdf.attrs["report"] = {"raster": name, "components": int(n), "kept": len(order),
                           "dropped_small": int(n - len(order)), "min_area_km2": min_area_km2}
    if found is not None:
        gdf.attrs["report"]["classes_found"] = found
    return gdf


def _settlement_points(settlements):
    """Located settlement points in the work CRS with code, name, tier rank and population."""
    import pandas as pd

    from .crs import to_work_crs

    if hasattr(settlements, "settlements") and not hasattr(settlements, "geometry"):
        settlements = settlements.settlements
    for col in ("code", "name"):
        if col not in settlements.columns:
            raise MissingColumnError(f"settlements has no {col!r} column (columns: {list(settlements.columns)})")
    s = to_work_crs(settlements)
    s = s[located(s)].copy()
    s["code"] = s["code"].astype(str)
    if "tier" in s.columns:
        from .settlements import Tier
        s["_rank"] = [Tier.parse(t).rank if isinstance(t, str) or isinstance(t, Tier) else 99 for t in s["tier"]]
    else:
        s["_rank"] = 99
    s["_pop"] = pd.to_numeric(s["population"], errors="coerce").fillna(-1.0) if "population" in s.columns else -1.0
    if s.geom_type.ne("Point").any():
        s = s.set_geometry(s.geometry.representative_point())
    return s[["code", "name", "_rank", "_pop", "geometry"]].reset_index(drop=True)


def _join_settlements(patches, settlements, max_distance_m):
    import geopandas as gpd

    patches = patches.copy()
    patches["settlement_code"] = None
    patches["settlement_name"] = None
    patches["join"] = "none"
    patches["distance_m"] = np.nan
    if settlements is None or len(patches) == 0:
        return patches
    pts = _settlement_points(settlements)
    if len(pts) == 0:
        return patches
    hit = gpd.sjoin(patches[["patch_id", "geometry"]], pts, how="inner", predicate="contains")
    if len(hit):
        hit = hit.sort_values(["patch_id", "_rank", "_pop", "code"], ascending=[True, True, False, True])
        hit = hit.drop_duplicates("patch_id")
        m = patches["patch_id"].isin(hit["patch_id"])
        h = hit.set_index("patch_id")
        patches.loc[m, "settlement_code"] = patches.loc[m, "patch_id"].map(h["code"]).to_numpy()
        patches.loc[m, "settlement_name"] = patches.loc[m, "patch_id"].map(h["name"]).to_numpy()
        patches.loc[m, "join"] = "contains"
        patches.loc[m, "distance_m"] = 0.0
    rest = patches[patches["join"] == "none"]
    if len(rest) and max_distance_m and max_distance_m > 0:
        near = gpd.sjoin_nearest(rest[["patch_id", "geometry"]], pts, how="inner", max_distance=max_distance_m,
                                 distance_col="_dist")
        if len(near):
            near = near.sort_values(["patch_id", "_dist", "_rank", "code"]).drop_duplicates("patch_id")
            n = near.set_index("patch_id")
            m = patches["patch_id"].isin(near["patch_id"])
            pid = patches.loc[m, "patch_id"]
            patches.loc[m, "settlement_code"] = pid.map(n["code"]).to_numpy()
            patches.loc[m, "settlement_name"] = pid.map(n["name"]).to_numpy()
            patches.loc[m, "join"] = "nearest"
            patches.loc[m, "distance_m"] = pid.map(n["_dist"]).to_numpy(dtype=float)
    return patches


def settlement_builtup_km2(patches, settlements):
    """Built-up km² of every settlement: the sum of the patches joined to it (0 where none).

    Parameters
    ----------
    patches : geopandas.GeoDataFrame
        Output of :func:`extents` (with ``settlement_code``).
    settlements : GeoDataFrame or SettlementSystem
        Every settlement listed here gets a row, located or not.

    Returns
    -------
    pandas.DataFrame
        ``code``, ``name``, ``tier`` (if present), ``builtup_km2``, ``patches`` (count), sorted by code.
    """
    import pandas as pd

    if hasattr(settlements, "settlements") and not hasattr(settlements, "geometry"):
        settlements = settlements.settlements
    cols = ["code", "name"] + (["tier"] if "tier" in settlements.columns else [])
    out = pd.DataFrame(settlements[cols]).copy()
    out["code"] = out["code"].astype(str)
    joined = patches[patches["settlement_code"].notna()]
    agg = joined.groupby("settlement_code").agg(builtup_km2=("builtup_km2", "sum"), patches=("patch_id", "size"))
    out["builtup_km2"] = out["code"].map(agg["builtup_km2"]).fillna(0.0).astype(float)
    out["patches"] = out["code"].map(agg["patches"]).fillna(0).astype(int)
    return out.sort_values("code", kind="stable").reset_index(drop=True)


def central_city_builtup_km2(region, raster, *, rule=None, min_area_km2=0.01, max_distance_m=2000.0,
                             details=False, **kwargs):
    """Built-up km² of the central city (中心城区, code "511900"), the indicator the plan targets (80 km²).

    Definition (documented assumption): the built-up patches of :func:`extents` that lie in 巴州区 or
    恩阳区 (representative point inside the union of counties 511902 and 511903) and are joined
    (containing point, else nearest within ``max_distance_m``) to the central city 511900 or to a
    subdistrict (街道, ``kind == "subdistrict"``) of those two districts — the urban extent of the two
    districts that form the central city. Patches there joined to a town (镇/乡) or to nothing are rural
    and not counted. Without county boundaries in ``region`` the patches joined to 511900 count.

    Parameters
    ----------
    region : bazhong_geo.datasets.Region
        With ``settlements`` (points) and ``boundaries``.
    raster : str, path or rasterio dataset
        Built-up raster.
    rule : dict, optional
        Built-up rule and extents options as a dict (e.g. ``{"classes": [50]}``); merged with ``kwargs``.
    min_area_km2, max_distance_m
        As in :func:`extents`.
    details : bool
        Also return the counted patches.
    **kwargs
        ``classes``, ``fraction``, ``min_fraction``, ``connectivity``, ``raster_crs``, ``band``.
        Default rule ``classes=[1]`` (a 0/1 built-up mask).

    Returns
    -------
    float, or (float, GeoDataFrame) with ``details=True``.
    """
    import shapely

    opts = dict(rule or {})
    opts.update(kwargs)
    if "classes" not in opts and "fraction" not in opts:
        opts["classes"] = [1]
    opts.setdefault("min_area_km2", min_area_km2)
    opts.setdefault("max_distance_m", max_distance_m)
    reg = region.settlements
    candidates = reg[reg["tier"].astype(str) != "village"] if "tier" in reg.columns else reg
    patches = extents(raster, settlements=candidates, **opts)
    codes = {CENTRAL_CITY_CODE}
    if "kind" in reg.columns:
        county = reg["county_code"].astype(str) if "county_code" in reg.columns else reg["code"].astype(str).str[:6]
        sub = reg[(reg["kind"].astype(str) == "subdistrict") & county.isin(CENTRAL_CITY_COUNTIES)]
        codes |= set(sub["code"].astype(str))
    joined = patches["settlement_code"].isin(codes)
    b = getattr(region, "boundaries", None)
    if b is not None and len(b) and b["code"].astype(str).isin(CENTRAL_CITY_COUNTIES).any():
        from .crs import to_work_crs
        area = shapely.union_all(to_work_crs(b[b["code"].astype(str).isin(CENTRAL_CITY_COUNTIES)]).geometry.to_numpy())
        inside = shapely.contains(area, patches.geometry.representative_point().to_numpy())
        sel = patches[joined & inside]
    else:
        sel = patches[joined]
    km2 = float(sel["builtup_km2"].sum())
    return (km2, sel) if details else km2
