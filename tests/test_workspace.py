"""The planner's workspace: bazhong-geo.toml written, found, checked and resolved (issue 12, item 1)."""

import dataclasses
import re
from pathlib import Path

import pytest
from pyproj import CRS

from bazhong_geo._errors import (
    UnknownCoordinateSystemError,
    WorkspaceConfigError,
    WorkspaceNotFoundError,
)
from bazhong_geo.workspace import (
    CONFIG_NAME,
    LEGENDS,
    gauss_kruger_crs,
    init_workspace,
    load_workspace,
    parse_coordinate_system,
    workspace_template,
    zone_of_easting,
)


def _uncomment(template: str) -> str:
    """Turn the template's example lines ("#[..." / "#key = ...") into configuration."""
    return "\n".join(line[1:] if re.match(r"^#[\[\"A-Za-z]", line) else line for line in template.splitlines())


def test_epsg_4524_is_cgcs2000_gk_zone_36_with_the_zone_prefix():
    crs = CRS.from_epsg(4524)
    params = {p.name: p.value for p in crs.coordinate_operation.params}
    assert crs.name == "CGCS2000 / 3-degree Gauss-Kruger zone 36"
    assert params["Longitude of natural origin"] == 108
    assert params["False easting"] == 36_500_000
    assert {p.name: p.value for p in CRS.from_epsg(4545).coordinate_operation.params}["False easting"] == 500_000
    assert gauss_kruger_crs("cgcs2000", 36) == "EPSG:4524"
    assert gauss_kruger_crs("cgcs2000", 36, zone_prefix=False) == "EPSG:4545"
    assert gauss_kruger_crs("西安80", 36) == "EPSG:2360"
    assert gauss_kruger_crs("beijing54", 18, zone_prefix=False) == "EPSG:21458"


def test_zone_prefix_resolution():
    cs = parse_coordinate_system("cgcs2000", zone_prefix=True)
    assert cs.projected and cs.web is None
    assert cs.crs(sample_easting=36_487_000.0) == "EPSG:4524"
    with pytest.raises(UnknownCoordinateSystemError, match="zone"):
        cs.crs()
    with pytest.raises(UnknownCoordinateSystemError, match="zone_prefix"):
        zone_of_easting(512_345.0)
    assert parse_coordinate_system("cgcs2000").crs() == "EPSG:4490"
    assert parse_coordinate_system("bd09").web == "bd09"
    assert parse_coordinate_system("4545").crs() == "EPSG:4545"
    with pytest.raises(UnknownCoordinateSystemError, match="no zone number"):
        parse_coordinate_system("EPSG:4545", zone_prefix=True, where="boundaries.township.crs")
    with pytest.raises(UnknownCoordinateSystemError, match="longitude/latitude"):
        parse_coordinate_system("gcj02", zone_prefix=True)
    with pytest.raises(UnknownCoordinateSystemError, match="boundaries.county.crs.*unknown coordinate system"):
        parse_coordinate_system("utm48", where="boundaries.county.crs")


def test_init_writes_config_register_and_workbook(tmp_path):
    ws = init_workspace(tmp_path / "巴中规划")
    root = tmp_path / "巴中规划"
    text = (root / CONFIG_NAME).read_text(encoding="utf-8")
    assert "工作区配置" in text and "workspace configuration" in text       # commented in Chinese and English
    assert ws.root == root.resolve() and ws.config == (root / CONFIG_NAME).resolve()
    assert ws.use_embedded == ("boundaries", "register") and ws.uses_embedded("register")
    assert ws.register == (root / "register.csv").resolve() and ws.register.is_file()
    assert ws.workbook.is_file() and ws.workbook.suffix == ".xlsx"
    assert ws.layers() == [] and ws.name == "巴中规划"
    with pytest.raises(WorkspaceConfigError, match="already exists"):
        init_workspace(root)
    ws.workbook.write_bytes(b"filled by the bureau")
    ws.register.write_text("code,name\n511900,巴城\n", encoding="utf-8")
    init_workspace(root, overwrite=True)                                   # rewrites the configuration only
    assert ws.workbook.read_bytes() == b"filled by the bureau"
    assert ws.register.read_text(encoding="utf-8") == "code,name\n511900,巴城\n"
    with pytest.raises(dataclasses.FrozenInstanceError):
        ws.name = "x"


def test_every_example_of_the_template_is_valid(tmp_path):
    (tmp_path / CONFIG_NAME).write_text(_uncomment(workspace_template("示例")), encoding="utf-8")
    ws = load_workspace(tmp_path, check_files=False)
    assert set(ws.boundaries) == {"county", "township"}
    township = ws.boundaries["township"]
    assert township.path == (tmp_path / "data/乡镇界.shp").resolve()
    assert township.coords.zone_prefix and township.coords.crs(36_500_100) == "EPSG:4524"
    assert dict(township.fields) == {"code": "乡镇代码", "name": "乡镇名称"}
    assert ws.boundaries["county"].encoding == "gbk"
    assert ws.settlements.coords.web == "gcj02" and ws.settlements.layer == "Sheet1"
    tier_values = ws.settlements.values["tier"]
    assert dict(tier_values["县城"]) == {"tier": "county_town", "designation": None}
    assert dict(tier_values["重点镇"]) == {"tier": None, "designation": "key_town"}
    lc = ws.landcover_for(2021)
    assert lc.legend_name == "worldcover" and lc.builtup_classes == (50,) and lc.legend[50] == "built_up"
    assert ws.population.form == "table" and ws.population.population_kind == "resident"
    assert ws.roads.speeds["高速公路"] == 90.0 and dict(ws.roads.fields) == {"road_class": "道路等级"}
    assert ws.interchanges.coords.name == "gcj02"
    assert any("boundaries.township" in line for line in ws.describe())


_BUREAU = '''
[workspace]
name = "巴中市乡镇体系"
use_embedded = []

[boundaries.township]
path = "乡镇界.shp"
crs = "cgcs2000"
zone_prefix = true
encoding = "gbk"
fields = { code = "乡镇代码", name = "乡镇名称" }

[settlements]
path = "驻地/乡镇驻地.xlsx"
crs = "gcj02"
[settlements.values.tier]
"县城" = "county_town"
"重点镇" = { designation = "key_town" }

[[landcover]]
year = 2023
path = "lc2023.tif"
legend = "esri_lulc"

[[landcover]]
year = 2020
path = "lc2020.tif"
legend = { "1" = "耕地", "8" = "建设用地" }
builtup = [8]

[roads]
path = "roads.gpkg"
fields = { class = "道路等级" }
speeds = "speeds.csv"
'''


def _bureau(tmp_path, text=_BUREAU):
    for name in ("乡镇界.shp", "驻地/乡镇驻地.xlsx", "lc2023.tif", "lc2020.tif", "roads.gpkg", "speeds.csv"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    (tmp_path / CONFIG_NAME).write_text(text, encoding="utf-8")
    return tmp_path


def test_bureau_workspace_found_from_the_current_folder(tmp_path, monkeypatch):
    _bureau(tmp_path)
    monkeypatch.chdir(tmp_path)
    ws = load_workspace()
    assert ws.use_embedded == () and not ws.uses_embedded("boundaries")
    assert ws.settlements.path == tmp_path.resolve() / "驻地" / "乡镇驻地.xlsx"
    assert [lc.year for lc in ws.landcover] == [2020, 2023]                       # sorted by year
    assert ws.landcover_for().year == 2023 and ws.landcover_for().builtup_classes == (7,)   # legend default
    assert dict(ws.landcover_for(2020).legend) == {1: "耕地", 8: "建设用地"}
    assert ws.roads.speeds_file == tmp_path.resolve() / "speeds.csv"
    with pytest.raises(KeyError, match="2019"):
        ws.landcover_for(2019)
    assert load_workspace(tmp_path / CONFIG_NAME).config == ws.config           # the file itself is accepted


def test_no_workspace(tmp_path):
    with pytest.raises(WorkspaceNotFoundError, match="bazhong-geo init"):
        load_workspace(tmp_path)


def test_every_problem_is_listed_with_its_key_and_fix(tmp_path):
    bad = _BUREAU.replace("zone_prefix = true", "zone_prefx = true").replace('legend = "esri_lulc"', 'legend = "corine"')
    bad = bad.replace('use_embedded = []', 'use_embedded = ["roads"]').replace('"县城" = "county_town"',
                                                                               '"县城" = "metropolis"')
    bad = bad.replace("[roads]", "[roads]\nspeed_unit = 'kmh'") + "\n[population]\npath = 'missing.tif'\nkind = 'both'\n"
    _bureau(tmp_path, bad)
    with pytest.raises(WorkspaceConfigError) as info:
        load_workspace(tmp_path)
    msg = str(info.value)
    assert str(tmp_path / CONFIG_NAME) in msg
    assert "boundaries.township.zone_prefx: unknown key (did you mean 'zone_prefix'?)" in msg
    assert "landcover[0].legend: unknown legend 'corine'" in msg
    assert "workspace.use_embedded" in msg and "['roads']" in msg
    assert "settlements.values.tier.县城: unknown tier 'metropolis'" in msg
    assert "roads.speed_unit: unknown key" in msg
    assert "population.path" in msg and "missing.tif does not exist" in msg
    assert "population.kind: 'both' should be resident" in msg
    assert "7 problem(s)" in msg


def test_wrong_types_and_toml_syntax(tmp_path):
    _bureau(tmp_path, '[workspace]\nname = 12\n[roads]\npath = "roads.gpkg"\nspeeds = { "国道" = -5 }\n'
                      '[boundaries.town]\npath = "x.shp"\n')
    with pytest.raises(WorkspaceConfigError) as info:
        load_workspace(tmp_path)
    msg = str(info.value)
    assert "workspace.name: 12 should be text in quotes" in msg
    assert "roads.speeds.国道: -5 should be a speed in km/h above 0" in msg
    assert "boundaries.town: unknown level (did you mean 'township'?)" in msg
    (tmp_path / CONFIG_NAME).write_text('[workspace\nname = "x"\n', encoding="utf-8")
    with pytest.raises(WorkspaceConfigError, match="not valid TOML.*line 1"):
        load_workspace(tmp_path)


def test_fields_are_checked_against_the_layer_kind(tmp_path):
    _bureau(tmp_path, '[settlements]\npath = "驻地/乡镇驻地.xlsx"\nfields = { cod = "乡镇代码", name = 3 }\n')
    with pytest.raises(WorkspaceConfigError) as info:
        load_workspace(tmp_path)
    assert "settlements.fields.cod: not a field of a settlements layer (did you mean 'code'?)" in str(info.value)
    assert "settlements.fields.name: 3 should be the source column name" in str(info.value)


def test_legends_name_their_builtup_classes():
    for name, (legend, builtup) in LEGENDS.items():
        assert builtup and all(b in legend for b in builtup), name
    assert Path(__file__).name == "test_workspace.py"


def test_update_register_uses_the_workspace_value_map_and_crs(tmp_path, monkeypatch):
    import pandas as pd

    from bazhong_geo.crs import gcj02_to_wgs84
    from bazhong_geo.workbook import read_register
    from bazhong_geo.workspace import update_register

    root = tmp_path / "ws"
    init_workspace(root)
    config = root / CONFIG_NAME
    config.write_text(config.read_text(encoding="utf-8") + '\n[settlements]\npath = "seats.xlsx"\ncrs = "gcj02"\n'
                      '[settlements.values.tier]\n"片区中心镇" = { tier = "featured_town", designation = "area_centre" }\n',
                      encoding="utf-8")
    seats = root / "seats.xlsx"
    pd.DataFrame({"名称": ["民胜镇"], "经度": [107.30], "纬度": [32.00], "等级": ["片区中心镇"]}).to_excel(seats, index=False)
    monkeypatch.chdir(root)
    merged, report = update_register(seats)
    assert report.conflicts["column"].tolist() == ["tier"]                     # town in the register
    assert report.notes and not any("unknown 等级" in n for n in report.notes)
    row = read_register(root / "register.csv").set_index("code").loc["511921101"]
    lon, lat = gcj02_to_wgs84(107.30, 32.00)
    assert float(row["lon"]) == pytest.approx(lon, abs=1e-6) and float(row["lat"]) == pytest.approx(lat, abs=1e-6)
    assert row["designations"] == "area_centre" and row["tier"] == "town"
    assert len(merged) == 1953          # the embedded register's rows (巴城 in two parts)


def test_project_names_are_escaped_in_the_configuration(tmp_path):
    name = 'a "quoted" \\ name\nwith a line break'
    ws = init_workspace(tmp_path / "p", name=name)
    assert ws.name == name
