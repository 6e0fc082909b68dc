"""catchments.gaps: land and people outside every facility of the chosen tiers, per band, per zone."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from bazhong_geo import catchments as C
from bazhong_geo._errors import MissingColumnError

X0, Y0 = 500_000.0, 3_500_000.0
SQUARE = shapely.box(X0, Y0, X0 + 4000, Y0 + 4000)  # 16 km²


def _box(x0, y0, x1, y1):
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


@pytest.fixture
def overlapping():
    # town catchment: west half (x 0-2 km); village catchments: x 1-3 km (overlaps the town's) and a 1 km² square
    # in the east; both bands
    return gpd.GeoDataFrame(
        {"code": ["t", "v1", "v2", "t", "v1", "v2"], "tier": ["town", "village", "village"] * 2,
         "minutes": [15.0] * 3 + [30.0] * 3}, crs=4545,
        geometry=[_box(0, 0, 2000, 4000), _box(1000, 0, 3000, 4000), _box(3000, 0, 4000, 1000),
                  _box(0, 0, 2500, 4000), _box(1000, 0, 3500, 4000), _box(3000, 0, 4000, 2000)])


@pytest.fixture
def people():
    # 1 person at the centre of every 500 m cell (64 people), plus 100 people at (3750, 3750)
    c = np.arange(250, 4000, 500)
    xx, yy = np.meshgrid(c, c)
    xy = np.column_stack([xx.ravel(), yy.ravel()])
    pop = np.ones(len(xy))
    xy = np.vstack([xy, [[3750, 3750]]])
    pop = np.append(pop, 100.0)
    return gpd.GeoDataFrame({"population": pop}, geometry=shapely.points(xy + [X0, Y0]), crs=4545)


def test_union_over_tiers_is_the_default(overlapping, people):
    g = C.gaps(overlapping, SQUARE, people)
    assert g.tier.tolist() == ["town;village"] * 2 and g.minutes.tolist() == [15.0, 30.0]
    # 15 min: uncovered = x 3-4 km, y 1-4 km (3 km²); 30 min: x 3.5-4, y 2-4 (1 km²)
    assert g.area_km2.tolist() == pytest.approx([3.0, 1.0], rel=1e-6)
    assert g.share.tolist() == pytest.approx([3 / 16, 1 / 16], rel=1e-6)
    # people: 2 x 6 cells + 100 in the 15-minute gap; 1 x 4 cells + 100 in the 30-minute gap
    assert g.population.tolist() == [112.0, 104.0]
    assert g.geometry.iloc[0].equals(_box(3000, 1000, 4000, 4000))


def test_per_tier_keeps_the_old_answer(overlapping):
    g = C.gaps(overlapping, SQUARE, per_tier=True)
    assert list(zip(g.tier, g.minutes)) == [("town", 15.0), ("town", 30.0), ("village", 15.0), ("village", 30.0)]
    assert g.area_km2.tolist() == pytest.approx([8.0, 6.0, 7.0, 5.0], rel=1e-6)


def test_union_without_bands():
    cat = gpd.GeoDataFrame({"tier": ["central_city", "county_town"]}, crs=4545,
                           geometry=[_box(0, 0, 3000, 4000), _box(2000, 0, 4000, 2000)])
    g = C.gaps(cat, SQUARE)
    assert g.tier.tolist() == ["central_city;county_town"]
    assert g.area_km2.tolist() == pytest.approx([2.0], rel=1e-6)
    assert g.geometry.iloc[0].equals(_box(3000, 2000, 4000, 4000))


def test_zone_tables(overlapping, people):
    zones = gpd.GeoDataFrame({"code": ["west", "east"], "name": ["西", "东"]}, crs=4545,
                             geometry=[_box(0, 0, 2000, 4000), _box(2000, 0, 4000, 4000)])
    g = C.gaps(overlapping, SQUARE, people, zones=zones)
    assert list(zip(g.minutes, g.zone)) == [(15.0, "west"), (15.0, "east"), (30.0, "west"), (30.0, "east")]
    assert g.zone_name.tolist() == ["西", "东", "西", "东"]
    assert g.area_km2.tolist() == pytest.approx([0.0, 3.0, 0.0, 1.0], rel=1e-6, abs=1e-9)
    assert g.share.tolist() == pytest.approx([0.0, 3 / 8, 0.0, 1 / 8], rel=1e-6, abs=1e-9)
    assert g.population.tolist() == [0.0, 112.0, 0.0, 104.0]
    # zones in another CRS are reprojected; the zone totals add up to the prefecture answer
    g2 = C.gaps(overlapping, SQUARE, zones=zones.to_crs(4326))
    assert g2.groupby("minutes").area_km2.sum().tolist() == pytest.approx([3.0, 1.0], rel=1e-6)
    with pytest.raises(MissingColumnError, match="zone_col"):
        C.gaps(overlapping, SQUARE, zones=zones, zone_col="xzqh")


def test_network_catchments_union_of_two_tiers():
    # a 4 km road; a town at the west end and a village at the east end; 6-minute catchments
    from bazhong_geo.settlements import SettlementSystem

    roads = gpd.GeoDataFrame({"speed_kmh": [30.0]}, crs=4545,
                             geometry=[shapely.LineString([(X0, Y0 + 2000), (X0 + 4000, Y0 + 2000)])])
    s = SettlementSystem(gpd.GeoDataFrame(
        {"code": ["t", "v"], "name": ["镇", "村"], "tier": ["town", "village"], "parent_code": [None, "t"],
         "population": [1.0, 1.0]}, crs=4545,
        geometry=[shapely.Point(X0, Y0 + 2000), shapely.Point(X0 + 4000, Y0 + 2000)]))
    town = C.network(s, "town", roads, minutes=(6,), cell_m=100.0, within=SQUARE)
    village = C.network(s, "village", roads, minutes=(6,), cell_m=100.0, within=SQUARE)
    both = gpd.GeoDataFrame(np.concatenate([town.values, village.values]), columns=town.columns, crs=4545)
    g = C.gaps(both, SQUARE)
    cover = shapely.union_all([town.geometry.iloc[0], village.geometry.iloc[0]])
    assert g.geometry.iloc[0].symmetric_difference(SQUARE.difference(cover)).area < 1e-3
    per = C.gaps(both, SQUARE, per_tier=True)
    assert g.area_km2.iloc[0] < per.area_km2.min()
