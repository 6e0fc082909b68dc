"""Peers' definitions: every deliberate difference from a peer library, shown both ways (ours, and the peer's as an
option), with the peer run on the same input where it is installed. BENCHMARKS.md, "Differences from peers", lists
them with the reasons.

=====================================  =====================================  ======================================
question                               here (default)                         peer (option here)
=====================================  =====================================  ======================================
2SFCA, no supply in reach              0                                      NaN (PySAL access): no_supply="nan"
DEGURBA density                        per nominal grid cell (GHSL)           per true km²: density_basis="true"
DEGURBA cell with no data over water   water, 10 (GHS-SMOD)                   off-grid 0: nodata_water=False
dense urban cluster's 5,000 people     its own cells (GHSL manual)            + adjacent centre (flexurba):
                                                                              dense_cluster_counts_centre=True
zonal cell list                        nodata cells listed (value NaN)        exactextract omits them
=====================================  =====================================  ======================================
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from access import Access
from affine import Affine
from exactextract import exact_extract

from bazhong_geo import accessibility as A  # noqa: N812  (short module alias, as in test_accessibility)
from bazhong_geo import zonal
from bazhong_geo.urbanization import DegurbaThresholds, degurba

MOLL = "ESRI:54009"


def km_grid(pop):
    return (pop, Affine(1000, 0, 0, 0, -1000, 1000 * pop.shape[0]), MOLL)


# ------------------------------------------------------------------------------------ PySAL access

def test_2sfca_no_supply_in_reach_zero_here_nan_in_access():
    cost = np.array([[5.0, 50.0], [50.0, 50.0], [5.0, 5.0]])
    supply, demand = np.array([10.0, 4.0]), np.array([100.0, 50.0, 100.0])
    demand_df = pd.DataFrame({"geoid": [0, 1, 2], "pop": demand}).set_index("geoid")
    supply_df = pd.DataFrame({"geoid": [10, 11], "doc": supply}).set_index("geoid")
    o, d = np.meshgrid([0, 1, 2], [10, 11], indexing="ij")
    cost_df = pd.DataFrame({"origin": o.ravel(), "dest": d.ravel(), "cost": cost.ravel()})
    model = Access(demand_df=demand_df, demand_index=True, demand_value="pop", supply_df=supply_df,
                   supply_index=True, supply_value="doc", cost_df=cost_df, cost_origin="origin", cost_dest="dest",
                   cost_name="cost")
    theirs = model.two_stage_fca(name="x", max_cost=30)["x_doc"].reindex([0, 1, 2]).to_numpy()
    ours = A.two_sfca(cost, supply, demand, max_cost=30)
    assert np.isnan(theirs[1])
    assert ours[1] == 0.0
    np.testing.assert_allclose(ours[[0, 2]], theirs[[0, 2]], rtol=1e-12)
    np.testing.assert_allclose(A.two_sfca(cost, supply, demand, max_cost=30, no_supply="nan"), theirs,
                               rtol=1e-12, equal_nan=True)           # the peer's behaviour, on request


# ------------------------------------------------------------------------------------ exactextract

def test_exactextract_known_case_and_cell_list_difference():
    # exactextract's own first example: a 3x3 raster 1..9, a square covering the centre and a quarter of its
    # neighbours; count 4, mean 5 (the centre counts 1, each edge neighbour ½, each corner ¼)
    values = np.arange(1, 10, dtype="float64").reshape(3, 3)
    values[0, 0] = -1.0
    t = Affine(1, 0, 0, 0, -1, 3)
    zone = gpd.GeoDataFrame({"code": ["sq"]}, geometry=[shapely.box(0.5, 0.5, 2.5, 2.5)], crs=4545)
    stats = zonal.zonal_stats((np.where(values < 0, 1.0, values), t, "EPSG:4545"), zone, ["count", "mean"])
    assert stats[["count", "mean"]].iloc[0].tolist() == [4.0, 5.0]
    from rasterio.io import MemoryFile

    with MemoryFile() as mem:
        with mem.open(driver="GTiff", width=3, height=3, count=1, dtype="float64", crs="EPSG:4545", transform=t,
                      nodata=-1.0) as ds:
            ds.write(values, 1)
        with mem.open() as ds:
            ours = zonal.zonal_cells(ds, zone)
            theirs = exact_extract(ds, zone, ["cell_id", "values"], output="pandas").iloc[0]
    assert len(ours) == 9
    assert len(theirs["values"]) == 8
    assert np.isnan(ours.loc[ours["cell_id"] == 0, "value"]).all()
    np.testing.assert_array_equal(ours.dropna()["cell_id"].to_numpy(), theirs["cell_id"])


# ------------------------------------------------------------------------------------ GHSL / flexurba DEGURBA

def test_degurba_density_per_nominal_cell_as_ghsl_true_km2_on_request():
    pop = np.zeros((12, 12))
    pop[3:9, 3:9] = 1500.0                                  # exactly at the centre threshold per nominal cell
    ghsl = degurba(km_grid(pop))
    true = degurba(km_grid(pop), thresholds=DegurbaThresholds(density_basis="true"))
    assert ghsl.density[5, 5] == 1500.0
    assert true.density[5, 5] > 1500.0                       # spherical Mollweide cells are < 1 true km²
    assert np.array_equal(ghsl.land_km2, true.land_km2)      # areas are true km² either way
    assert ghsl.summary()["area_km2"].sum() == pytest.approx(true.cell_area_km2().sum())


def test_degurba_no_data_over_water_is_water_as_ghsl():
    pop = np.full((10, 10), 50.0)
    pop[:, 0] = np.nan
    land = np.ones_like(pop)
    land[:, 0] = 0.0
    assert (degurba(km_grid(pop), land_share=land).level2[:, 0] == 10).all()
    off = degurba(km_grid(pop), land_share=land, thresholds=DegurbaThresholds(nodata_water=False))
    assert (off.level2[:, 0] == 0).all()


def test_degurba_dense_cluster_counts_only_its_own_people_unless_flexurba():
    pop = np.zeros((20, 20))
    pop[4:12, 4:12] = 2_000.0
    pop[11, 8] = 1_000.0                                      # a notch the smoothing fills
    pop[12:14, 8] = 1_600.0                                   # 3,200 people of its own beside the city
    assert degurba(km_grid(pop)).level2[12, 8] == 21
    flex = DegurbaThresholds(dense_cluster_counts_centre=True)
    assert degurba(km_grid(pop), thresholds=flex).level2[12, 8] == 23
