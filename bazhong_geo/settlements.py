"""The four-tier settlement system: ``Tier``, ``SettlementSystem``, parent links, summaries and rank-size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._errors import (
    DuplicateCodeError,
    EmptyInputError,
    InvalidParentError,
    InvalidPopulationError,
    MissingColumnError,
    UnknownTierError,
)
from .crs import to_work_crs
from .vocabulary import Tier, allowed_tier_names  # noqa: F401  (Tier is defined once, in vocabulary; re-exported)

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable

    import geopandas as gpd
    from numpy.typing import ArrayLike


REQUIRED_COLUMNS = ("code", "name", "tier", "parent_code", "population")


@dataclass(frozen=True)
class RankSize:
    """Rank-size statistics of a set of settlement populations.

    Attributes
    ----------
    n : int
        Settlements used (those with a known, positive population).
    exponent : float
        Pareto/Zipf exponent from the Gabaix–Ibragimov regression log(rank − 1/2) = a − b·log(size);
        1 means Zipf's law.
    se : float
        Its standard error, b·sqrt(2/n) (Gabaix & Ibragimov 2011).
    ci95 : tuple of float
        95 % confidence interval of the exponent.
    r2 : float
        Coefficient of determination of the regression.
    primacy : float
        Two-city primacy index P1/P2.
    four_city_primacy : float
        P1/(P2+P3+P4), NaN with fewer than four settlements.
    """

    n: int
    exponent: float
    se: float
    ci95: tuple[float, float]
    r2: float
    primacy: float
    four_city_primacy: float


def rank_size(population: ArrayLike) -> RankSize:
    """Return rank-size statistics (Zipf exponent with its 95 % interval, primacy) of populations.

    Parameters
    ----------
    population : array-like
        Populations; unknown (NaN) and non-positive values are left out.

    Returns
    -------
    RankSize

    Raises
    ------
    EmptyInputError
        With fewer than three known populations.

    Examples
    --------
    >>> r = rank_size([1_000_000 / k for k in range(1, 201)])
    >>> round(r.primacy, 2)
    2.0
    """
    pop = np.asarray(pd.to_numeric(pd.Series(population), errors="coerce"), dtype="float64")
    pop = np.sort(pop[np.isfinite(pop) & (pop > 0)])[::-1]
    n = pop.size
    if n < 3:
        raise EmptyInputError(f"rank-size needs at least 3 settlements with a known population, got {n}")
    rank = np.arange(1, n + 1, dtype="float64")
    x = np.log(pop)
    y = np.log(rank - 0.5)
    slope, intercept = np.polyfit(x, y, 1)
    fitted = intercept + slope * x
    ss_res = float(np.sum((y - fitted) ** 2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    b = -float(slope)
    se = b * np.sqrt(2.0 / n)
    four = pop[0] / pop[1:4].sum() if n >= 4 else float("nan")
    return RankSize(n=n, exponent=b, se=float(se), ci95=(b - 1.96 * se, b + 1.96 * se),
                    r2=1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan"),
                    primacy=float(pop[0] / pop[1]), four_city_primacy=float(four))


class SettlementSystem:
    """A four-tier settlement system: settlements, their tiers, parent links and designations.

    Parameters
    ----------
    settlements : geopandas.GeoDataFrame
        At least ``code``, ``name``, ``tier``, ``parent_code``, ``population`` and point geometry
        (as :func:`bazhong_geo.read_settlements` returns). Rows without a coordinate keep an empty
        geometry. Optional: ``county_code`` (else the first six digits of an NBS code),
        ``designations`` (';'-joined keys).
    crs : optional
        CRS to assume when the frame has none.

    Raises
    ------
    MissingColumnError, DuplicateCodeError, UnknownTierError

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> gdf = gpd.GeoDataFrame({
    ...     "code": ["511900", "511921", "511921101"], "name": ["巴城", "通江县城", "某镇"],
    ...     "tier": ["central_city", "county_town", "town"], "parent_code": [None, "511900", "511921"],
    ...     "population": [608152, None, 20000]},
    ...     geometry=[Point(106.76, 31.85), Point(107.24, 31.91), None], crs=4326)
    >>> system = SettlementSystem(gdf)
    >>> system.of_tier("town").code.tolist()
    ['511921101']
    >>> system.parent("511921101").code
    '511921'
    """

    def __init__(self, settlements: gpd.GeoDataFrame, *, crs: object = None) -> None:
        _check_columns_and_rows(settlements)
        gdf = to_work_crs(settlements, crs=crs).copy()
        gdf["code"] = gdf["code"].astype(str).str.strip()
        _check_unique_codes(gdf)
        gdf["tier"] = _parse_tiers(gdf)
        gdf["parent_code"] = gdf["parent_code"].map(_clean_code).astype(object)
        gdf["population"] = _parse_population(gdf)
        if "county_code" not in gdf.columns:
            gdf["county_code"] = gdf["code"].map(_county_of_code)
        gdf["county_code"] = gdf["county_code"].map(_clean_code).astype(object)
        if "designations" not in gdf.columns:
            gdf["designations"] = ""
        gdf["designations"] = gdf["designations"].fillna("").astype(str)
        self.settlements = gdf.reset_index(drop=True)
        self._by_code = pd.Series(np.arange(len(gdf)), index=self.settlements["code"])

    # -------------------------------------------------------------------------------------- access

    def __len__(self) -> int:
        return len(self.settlements)

    def __repr__(self) -> str:
        counts = self.settlements["tier"].value_counts()
        parts = ", ".join(f"{t.value}={int(counts.get(t.value, 0))}" for t in Tier)
        return f"SettlementSystem({len(self)} settlements: {parts})"

    def get(self, code: str) -> pd.Series:
        """Return the row of the settlement with ``code`` (KeyError naming it if absent)."""
        code = str(code)
        if code not in self._by_code.index:
            raise KeyError(f"no settlement with code {code!r}")
        return self.settlements.iloc[int(self._by_code[code])]

    def of_tier(self, *tiers: Tier | str) -> gpd.GeoDataFrame:
        """Return the settlements of one or more tiers (Tier or names)."""
        values = {Tier.parse(t).value for t in tiers}
        return self.settlements[self.settlements["tier"].isin(values)]

    def located(self) -> gpd.GeoDataFrame:
        """Return the settlements with a usable point coordinate."""
        geom = self.settlements.geometry
        return self.settlements[geom.notna() & ~geom.is_empty]

    def with_designation(self, key: str) -> gpd.GeoDataFrame:
        """Return the settlements holding designation ``key`` (e.g. "national_key_town")."""
        held = self.settlements["designations"].str.split(";").map(lambda keys: key in keys)
        return self.settlements[held]

    def children(self, code: str) -> gpd.GeoDataFrame:
        """Return the settlements whose parent is ``code``."""
        return self.settlements[self.settlements["parent_code"] == str(code)]

    def parent(self, code: str) -> pd.Series | None:
        """Return the parent row of ``code``, or None at the top or when the parent is unknown."""
        parent_code = self.get(code)["parent_code"]
        if parent_code is None or parent_code not in self._by_code.index:
            return None
        return self.get(parent_code)

    def ancestors(self, code: str) -> list[str]:
        """Return the codes from ``code``'s parent up to the top (cycle-safe)."""
        chain, seen = [], {str(code)}
        row = self.parent(code)
        while row is not None and row["code"] not in seen:
            chain.append(row["code"])
            seen.add(row["code"])
            row = self.parent(row["code"])
        return chain

    # -------------------------------------------------------------------------------------- parents

    def check_parents(self) -> pd.DataFrame:
        """Return one row per broken parent link: ``code``, ``name``, ``tier``, ``parent_code``, ``problem``.

        A parent must exist, be of an allowed higher tier (see ``Tier.allowed_parents``) and lie in
        the same county, unless it is the central city. A missing parent is a problem for every tier
        below the central city.
        """
        s = self.settlements
        parent_idx = self._by_code.reindex(s["parent_code"].fillna("\0")).to_numpy()
        has_parent = s["parent_code"].notna().to_numpy()
        known = ~np.isnan(parent_idx.astype("float64"))
        problems = np.full(len(s), "", dtype=object)
        top = s["tier"].to_numpy() == Tier.CENTRAL_CITY.value
        problems[~has_parent & ~top] = "no parent"
        problems[has_parent & top] = "the central city has no parent"
        problems[has_parent & ~known & ~top] = "parent code not in the system"
        ok = has_parent & known & ~top
        idx = parent_idx[ok].astype(int)
        child_tier = s["tier"].to_numpy()[ok]
        parent_tier = s["tier"].to_numpy()[idx]
        allowed = np.array([Tier(p) in Tier(c).allowed_parents
                            for c, p in zip(child_tier, parent_tier, strict=True)], dtype=bool)
        same_county = (s["county_code"].to_numpy()[ok] == s["county_code"].to_numpy()[idx]) | (
            parent_tier == Tier.CENTRAL_CITY.value)
        msg = np.where(~allowed, np.char.add("parent tier not allowed: ", parent_tier.astype(str)),
                       np.where(~same_county, "parent in another county", ""))
        problems[np.flatnonzero(ok)] = msg
        bad = problems != ""
        out = s.loc[bad, ["code", "name", "tier", "parent_code"]].copy()
        out["problem"] = problems[bad]
        return out.reset_index(drop=True)

    def assign_parents(self, boundaries: gpd.GeoDataFrame | None = None, *,
                       max_distance_m: float | None = None) -> tuple[SettlementSystem, pd.DataFrame]:
        """Fill missing parent links; return the new system and a report of every decision.

        Each settlement without a parent (other than the central city) is placed, in order:

        1. by containment: the boundary polygon (``boundaries`` with a ``code`` column) that contains
           the point, when a settlement of an allowed parent tier has that polygon's code;
        2. by the nearest located settlement of an allowed parent tier in the same county (or the
           central city), within ``max_distance_m`` when given.

        Settlements that cannot be placed (no coordinate, nothing in reach) are reported with
        method ``"unplaced"`` and keep an empty parent.

        Returns
        -------
        (SettlementSystem, pandas.DataFrame)
            The report has ``code``, ``name``, ``tier``, ``parent_code``, ``method`` and ``distance_m``.
        """
        import geopandas as gpd

        s = self.settlements.copy()
        todo = s.index[s["parent_code"].isna() & (s["tier"] != Tier.CENTRAL_CITY.value)]
        records = []
        located = self.located()
        polygon_of = None
        if boundaries is not None and len(todo):

            b = to_work_crs(boundaries)[["code", "geometry"]].assign(code=lambda d: d["code"].astype(str))
            pts = gpd.GeoDataFrame({"i": todo}, geometry=s.geometry.loc[todo].values, crs=s.crs)
            pts = pts[pts.geometry.notna() & ~pts.geometry.is_empty]
            joined = gpd.sjoin(pts, b, predicate="within", how="left")
            polygon_of = joined.groupby("i")["code"].apply(list).to_dict()
        for i in todo:
            row = s.loc[i]
            allowed = {t.value for t in Tier(row["tier"]).allowed_parents}
            choice, method, dist = None, "unplaced", np.nan
            for poly_code in (polygon_of or {}).get(i, []):
                if poly_code in self._by_code.index and self.get(poly_code)["tier"] in allowed \
                        and poly_code != row["code"]:
                    choice, method = poly_code, "containment"
                    break
            if choice is None and row.geometry is not None and not row.geometry.is_empty:
                cand = located[located["tier"].isin(allowed) & (located["code"] != row["code"])]
                cand = cand[(cand["county_code"] == row["county_code"]) | (cand["tier"] == Tier.CENTRAL_CITY.value)]
                if len(cand):
                    d = cand.distance(row.geometry)
                    j = d.idxmin()
                    if max_distance_m is None or d[j] <= max_distance_m:
                        choice, method, dist = cand.loc[j, "code"], "nearest", float(d[j])
            s.at[i, "parent_code"] = choice
            records.append({"code": row["code"], "name": row["name"], "tier": row["tier"],
                            "parent_code": choice, "method": method, "distance_m": dist})
        report = pd.DataFrame(records, columns=["code", "name", "tier", "parent_code", "method", "distance_m"])
        return SettlementSystem(s), report

    def validate(self, *, strict: bool = False) -> pd.DataFrame:
        """Return :meth:`check_parents`; with ``strict`` raise InvalidParentError when it is not empty."""
        problems = self.check_parents()
        if strict and len(problems):
            lines = "; ".join(f"{r.code} ({r.name}): {r.problem}" for r in problems.head(20).itertuples())
            more = f" and {len(problems) - 20} more" if len(problems) > 20 else ""
            raise InvalidParentError(f"{len(problems)} broken parent link(s): {lines}{more}. Fix parent_code or "
                                     f"call assign_parents() to place settlements without one")
        return problems

    # -------------------------------------------------------------------------------------- summaries

    def summary(self, county_names: dict[str, str] | None = None) -> pd.DataFrame:
        """Return counts and population by tier and county, with all-county totals.

        Columns: ``tier``, ``tier_zh``, ``county_code``, ``county_name``, ``settlements``,
        ``located`` (with a coordinate), ``with_population`` and ``population_known`` (the sum over
        settlements whose population is known, NaN where none is; not a total where some are unknown).
        """
        s = self.settlements
        frame = pd.DataFrame({
            "tier": s["tier"], "county_code": s["county_code"].fillna("unknown"),
            "located": (s.geometry.notna() & ~s.geometry.is_empty).astype(int),
            "with_population": s["population"].notna().astype(int),
            "population_known": s["population"].fillna(0.0),
        })
        frame["settlements"] = 1
        cols = ["settlements", "located", "with_population", "population_known"]
        by_county = frame.groupby(["tier", "county_code"], sort=False)[cols].sum().reset_index()
        total = frame.groupby("tier", sort=False)[cols].sum().reset_index().assign(county_code="all")
        out = pd.concat([by_county, total], ignore_index=True)
        out["tier_rank"] = out["tier"].map(lambda t: Tier(t).rank)
        out["county_sort"] = out["county_code"].where(out["county_code"] != "all", "~")
        out = out.sort_values(["tier_rank", "county_sort"]).drop(columns=["tier_rank", "county_sort"])
        out["population_known"] = out["population_known"].where(out["with_population"] > 0)
        out.insert(1, "tier_zh", out["tier"].map(lambda t: Tier(t).label_zh))
        names = county_names or {}
        out.insert(3, "county_name", out["county_code"].map(lambda c: names.get(c, "全市" if c == "all" else "")))
        return out.reset_index(drop=True)

    def rank_size(self, tiers: Tier | str | Iterable[Tier | str] | None = None) -> RankSize:
        """Return rank-size statistics over settlements of ``tiers`` (default: all) with known population."""
        s = self.settlements if tiers is None else self.of_tier(*([tiers] if isinstance(tiers, (str, Tier)) else tiers))
        return rank_size(s["population"])


def _clean_code(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text or None


def _county_of_code(code: str) -> str | None:
    """Return the 6-digit county code of an NBS code (6, 9 or 12 digits), else None."""
    if not (code.isdigit() and len(code) in (6, 9, 12)) or code[4:6] == "00":
        return None
    return code[:6]


_READ_HINT = "read files with bazhong_geo.read_settlements, which maps common column names"


def _row_label(row: pd.Series) -> str:
    """``code (name)`` of a settlement row, for messages."""
    return f"{row['code']} ({row['name']})"


def _check_columns_and_rows(settlements) -> None:
    """Raise MissingColumnError or EmptyInputError, each with the fix, for a frame that cannot be a system."""
    missing = [c for c in REQUIRED_COLUMNS if c not in settlements.columns]
    if missing:
        raise MissingColumnError(
            f"settlements lack the column(s) {missing}; required: {list(REQUIRED_COLUMNS)} and a geometry "
            f"({_READ_HINT})")
    if len(settlements) == 0:
        raise EmptyInputError(f"the settlement table has no rows; pass at least one settlement ({_READ_HINT}, "
                              f"and check the file is not empty and no filter removed every row)")


def _check_unique_codes(gdf) -> None:
    """Raise DuplicateCodeError naming every duplicated code with the names of the settlements holding it."""
    dup = gdf[gdf["code"].duplicated(keep=False)]
    if len(dup):
        named = "; ".join(f"{code}: {', '.join(map(str, group['name']))}"
                          for code, group in dup.groupby("code", sort=True))
        raise DuplicateCodeError(f"duplicate settlement codes ({named}); every code must be unique: "
                                 f"give each settlement its own code or drop the repeated rows")


def _parse_tiers(gdf) -> list[str]:
    """Return the tier values of every row; an unknown tier names its rows (code, name)."""
    parsed = {}
    for value in pd.unique(gdf["tier"]):
        try:
            parsed[value] = Tier.parse(value).value
        except UnknownTierError as exc:
            rows = gdf[gdf["tier"].isna()] if pd.isna(value) else gdf[gdf["tier"] == value]
            named = ", ".join(_row_label(row) for _, row in rows.head(10).iterrows())
            more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
            raise UnknownTierError(f"settlement(s) {named}{more}: {exc}") from exc
    return [parsed[value] for value in gdf["tier"]]


def _parse_population(gdf) -> pd.Series:
    """Return the population as float; a value that is not a number names its rows (code, name)."""
    raw = gdf["population"]
    numbers = pd.to_numeric(raw, errors="coerce").astype("float64")
    bad = numbers.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
    if bad.any():
        rows = "; ".join(f"{_row_label(row)}: {row['population']!r}" for _, row in gdf[bad].head(20).iterrows())
        more = f" and {int(bad.sum()) - 20} more" if bad.sum() > 20 else ""
        raise InvalidPopulationError(f"population is not a number for settlement(s) {rows}{more}; write "
                                     f"populations as numbers (persons), or leave the cell blank when unknown")
    return numbers
