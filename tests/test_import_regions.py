"""import-regions: boundary files into the regions table (data_access.importers.regions, geo.readers)."""

from __future__ import annotations

import datetime as dt
import json
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import select

from data_access import schema
from data_access.importers.regions import RegionImportError, RegionImportReport, import_regions
from data_access.store import create_schema, make_engine, row_count
from geo.crs import transform_geometry, wgs84_to_gcj02
from geo.readers import BoundaryFileError, looks_like_lonlat, read_layer

T1 = dt.datetime(2024, 5, 1, 8, 0, 0)
T2 = dt.datetime(2024, 5, 2, 9, 30, 0)

# Near Anshan (WGS84): two 0.01° squares side by side.
SQ_A = shapely.box(122.98, 41.10, 122.99, 41.11)
SQ_B = shapely.box(122.99, 41.10, 123.00, 41.11)


# ------------------------------------------------------------------ helpers


def feature_collection(rows, crs: str | None = None) -> dict:
    """rows: (properties, shapely geometry)."""
    fc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}
            for props, geom in rows
        ],
    }
    if crs is not None:
        fc["crs"] = {"type": "name", "properties": {"name": crs}}
    return fc


def write_geojson(path, rows, crs=None):
    path.write_text(json.dumps(feature_collection(rows, crs), ensure_ascii=False), encoding="utf-8")
    return path


def write_csv(path, rows, wkt_column="wkt"):
    frame = pd.DataFrame([{**props, wkt_column: geom.wkt} for props, geom in rows])
    frame.to_csv(path, index=False)
    return path


def stored(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        return {r.code: dict(r._mapping) for r in conn.execute(select(schema.regions))}


def geom_of(row):
    return shapely.from_wkb(row["geometry"])


def new_sor(tmp_path, name):
    engine = make_engine(f"sqlite:///{tmp_path / name}")
    create_schema(engine)
    return engine


def to_gcj02(geom):
    def f(xy):
        lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geom, f)


def equal_area_km2(geom) -> float:
    return float(gpd.GeoSeries([geom], crs="EPSG:4326").to_crs("EPSG:6933").area.iloc[0] / 1e6)


def square(x, y, size=1.0):
    return shapely.box(x, y, x + size, y + size)


# ------------------------------------------------------------------ readers


def test_geojson_without_crs_member_declares_none_and_with_one_declares_it(tmp_path):
    plain = write_geojson(tmp_path / "plain.geojson", [({"c": "1"}, SQ_A)])
    gdf, declared = read_layer(plain)
    assert declared is None and len(gdf) == 1
    merc = write_geojson(tmp_path / "merc.json", [({"c": "1"}, transform_geometry(SQ_A, "wgs84", "EPSG:3857"))],
                         crs="urn:ogc:def:crs:EPSG::3857")
    assert read_layer(merc)[1] == "EPSG:3857"
    wgs = write_geojson(tmp_path / "wgs.geojson", [({"c": "1"}, SQ_A)], crs="urn:ogc:def:crs:OGC:1.3:CRS84")
    assert read_layer(wgs)[1] in ("EPSG:4326", "OGC:CRS84")


@pytest.mark.attack("imports")
def test_reader_refuses_what_it_cannot_read(tmp_path):
    with pytest.raises(BoundaryFileError, match="no such file"):
        read_layer(tmp_path / "absent.geojson")
    bad = tmp_path / "broken.geojson"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(BoundaryFileError, match="broken.geojson: cannot read"):
        read_layer(bad)
    other = tmp_path / "regions.kml"
    other.write_text("<kml/>", encoding="utf-8")
    with pytest.raises(BoundaryFileError, match="unsupported file type"):
        read_layer(other)
    no_wkt = tmp_path / "no_wkt.csv"
    no_wkt.write_text("code,name\n1,a\n", encoding="utf-8")
    with pytest.raises(BoundaryFileError, match=r"no_wkt.csv: no WKT column .*code, name"):
        read_layer(no_wkt)
    bad_wkt = tmp_path / "bad_wkt.csv"
    bad_wkt.write_text('code,wkt\n1,"POLYGON ((0 0, 1 0, 1 1, 0 0))"\n2,"POLYGON ((oops"\n', encoding="utf-8")
    with pytest.raises(BoundaryFileError, match="not WKT on line.* 3"):
        read_layer(bad_wkt)
    assert issubclass(BoundaryFileError, ValueError)


def test_looks_like_lonlat():
    assert looks_like_lonlat(gpd.GeoDataFrame(geometry=[SQ_A]))
    assert not looks_like_lonlat(gpd.GeoDataFrame(geometry=[square(442000, 4650000, 100)]))
    assert looks_like_lonlat(gpd.GeoDataFrame(geometry=gpd.GeoSeries([], dtype="geometry")))


# ------------------------------------------------------------------ CRS


def test_gcj02_geojson_lands_on_the_wgs84_squares_and_reimport_writes_nothing(sor, tmp_path):
    rows = [({"code": "210302001", "name": "甲街道", "pop": 12000}, to_gcj02(SQ_A)),
            ({"code": "210302002", "name": "乙街道", "pop": "8,500"}, to_gcj02(SQ_B))]
    path = write_geojson(tmp_path / "streets_gcj02.geojson", rows)
    report = import_regions(sor, path, level="street", code_field="code", name_field="name",
                            population_field="pop", crs="gcj02", now=T1)
    assert isinstance(report, RegionImportReport)
    assert (report.read, report.inserted, report.updated, report.unchanged) == (2, 2, 0, 0)
    assert report.crs == "gcj02" and report.warnings == {} and report.repaired == []
    assert report.without_parent == [] and report.parents_by_containment == 0

    db = stored(sor)
    for code, wgs in (("210302001", SQ_A), ("210302002", SQ_B)):
        row = db[code]
        got = geom_of(row)
        assert got.geom_type == "Polygon"
        assert np.abs(shapely.get_coordinates(got) - shapely.get_coordinates(wgs)).max() < 1e-6
        assert row["area_km2"] == pytest.approx(equal_area_km2(wgs), rel=1e-6)
        assert 0.9 < row["area_km2"] < 0.95  # 0.01° x 0.01° at 41° N: about 0.84 km x 1.11 km
        assert row["centroid_lon"] == pytest.approx(wgs.centroid.x, abs=1e-6)
        assert row["centroid_lat"] == pytest.approx(wgs.centroid.y, abs=1e-6)
        assert row["level"] == "street" and row["parent_code"] is None
        assert row["updated_at"] == T1
    assert db["210302001"]["population"] == 12000 and db["210302002"]["population"] == 8500

    again = import_regions(sor, path, level="street", code_field="code", name_field="name",
                           population_field="pop", crs="gcj02")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert {c: r["updated_at"] for c, r in stored(sor).items()} == {"210302001": T1, "210302002": T1}


def test_lonlat_in_china_without_crs_is_assumed_wgs84_with_a_warning_and_a_note(sor, tmp_path):
    path = write_geojson(tmp_path / "no_crs.geojson", [({"code": "1", "name": "a"}, to_gcj02(SQ_A))])
    report = import_regions(sor, path, level="district", code_field="code", name_field="name")
    assert report.warnings == {"crs_assumed_wgs84": 1}
    assert report.crs == "wgs84"
    assert any("GCJ-02" in n and "--crs gcj02" in n for n in report.notes)


def test_epsg3857_declared_by_the_file_converts_and_a_csv_without_crs_is_refused(sor, tmp_path):
    merc = transform_geometry(SQ_A, "wgs84", "EPSG:3857")
    geojson = write_geojson(tmp_path / "merc.geojson", [({"code": "m1", "name": "墨卡托"}, merc)],
                            crs="urn:ogc:def:crs:EPSG::3857")
    report = import_regions(sor, geojson, level="district", code_field="code", name_field="name", now=T1)
    assert report.crs == "EPSG:3857" and report.warnings == {}
    got = geom_of(stored(sor)["m1"])
    assert np.abs(shapely.get_coordinates(got) - shapely.get_coordinates(SQ_A)).max() < 1e-9

    csv_path = write_csv(tmp_path / "merc.csv", [({"code": "m1", "name": "墨卡托"}, merc)])
    with pytest.raises(RegionImportError) as err:
        import_regions(sor, csv_path, level="district", code_field="code", name_field="name")
    msg = str(err.value)
    assert "merc.csv" in msg and "not longitude/latitude" in msg and "--crs EPSG:" in msg
    assert f"x up to {abs(shapely.bounds(merc)[2]):.0f}" in msg

    report = import_regions(sor, csv_path, level="district", code_field="code", name_field="name",
                            crs="EPSG:3857", now=T2)
    assert (report.inserted, report.updated, report.unchanged) == (0, 0, 1)  # the same region, unchanged
    assert stored(sor)["m1"]["updated_at"] == T1


@pytest.mark.attack("imports")
def test_a_declared_crs_that_does_not_fit_the_coordinates_is_refused(sor, tmp_path):
    path = write_geojson(tmp_path / "wrong.geojson", [({"code": "1", "name": "a"}, square(442000, 4650000, 100))],
                         crs="urn:ogc:def:crs:OGC:1.3:CRS84")
    with pytest.raises(RegionImportError, match="wrong.geojson: .*not longitude/latitude.*--crs"):
        import_regions(sor, path, level="district", code_field="code", name_field="name")
    assert row_count(sor, schema.regions) == 0


def test_unknown_crs_argument_is_refused(sor, tmp_path):
    path = write_geojson(tmp_path / "a.geojson", [({"code": "1", "name": "a"}, SQ_A)])
    with pytest.raises(RegionImportError, match="a.geojson: unknown --crs 'gcj-03'"):
        import_regions(sor, path, level="district", code_field="code", name_field="name", crs="gcj-03")


# ------------------------------------------------------------------ parents


def test_streets_get_their_district_by_containment(sor, tmp_path):
    districts = write_geojson(tmp_path / "districts.geojson", [
        ({"adcode": "210302", "name": "铁东区"}, square(123.0, 41.0)),
        ({"adcode": "210303", "name": "铁西区"}, square(124.0, 41.0)),
    ])
    rep = import_regions(sor, districts, level="district", code_field="adcode", name_field="name")
    assert rep.parents_by_containment == 0 and rep.without_parent == []  # top level: nothing coarser loaded

    streets = write_geojson(tmp_path / "streets.geojson", [
        ({"code": "210302001", "name": "东一街道"}, square(123.1, 41.1, 0.3)),
        ({"code": "210302002", "name": "东二街道"}, square(123.5, 41.5, 0.4)),
        # mostly in 铁西区, sticking out of it: its representative point decides
        ({"code": "210303001", "name": "西一街道"}, shapely.box(124.2, 41.2, 125.1, 41.6)),
        ({"code": "999999001", "name": "域外街道"}, square(130.0, 45.0, 0.2)),
    ])
    rep = import_regions(sor, streets, level="street", code_field="code", name_field="name")
    assert rep.parents_by_containment == 3
    assert rep.without_parent == ["999999001"]
    parents = {c: r["parent_code"] for c, r in stored(sor).items() if r["level"] == "street"}
    assert parents == {"210302001": "210302", "210302002": "210302", "210303001": "210303", "999999001": None}


def test_containment_skips_a_missing_level_and_uses_the_nearest_loaded_one(sor, tmp_path):
    city = write_geojson(tmp_path / "city.geojson", [({"code": "210300", "name": "鞍山市"}, square(123, 41, 2))])
    import_regions(sor, city, level="city", code_field="code", name_field="name")
    grids = write_geojson(tmp_path / "grids.geojson", [({"code": "g1", "name": "一网格"}, square(123.5, 41.5, 0.01))])
    rep = import_regions(sor, grids, level="grid", code_field="code", name_field="name")
    assert rep.parents_by_containment == 1
    assert stored(sor)["g1"]["parent_code"] == "210300"


def test_parent_field_is_taken_and_unknown_parents_are_stored_null(sor, tmp_path):
    districts = write_geojson(tmp_path / "d.geojson", [({"code": "210302", "name": "铁东区"}, square(123, 41))])
    import_regions(sor, districts, level="district", code_field="code", name_field="name")
    streets = write_geojson(tmp_path / "s.geojson", [
        # the parent field wins over containment, even where the geometry says otherwise
        ({"code": "s1", "name": "一", "up": "210302"}, square(150, 10, 0.1)),
        ({"code": "s2", "name": "二", "up": "404404"}, square(123.2, 41.2, 0.1)),
        ({"code": "s3", "name": "三", "up": None}, square(123.4, 41.4, 0.1)),
    ])
    rep = import_regions(sor, streets, level="street", code_field="code", name_field="name", parent_field="up")
    assert rep.parents_by_containment == 0
    assert rep.without_parent == ["s2", "s3"]
    assert rep.warnings == {"crs_assumed_wgs84": 3, "empty_parent": 1, "unknown_parent": 1}
    db = stored(sor)
    assert (db["s1"]["parent_code"], db["s2"]["parent_code"], db["s3"]["parent_code"]) == ("210302", None, None)


# ------------------------------------------------------------------ formats


REGION_ROWS = [
    ({"code": "0101", "name": "甲区", "pop": 1000}, square(123.0, 41.0, 0.5)),
    ({"code": "0102", "name": "乙区", "pop": 2000},
     shapely.MultiPolygon([square(123.5, 41.0, 0.2), square(123.8, 41.0, 0.1)])),
]


def _write_format(kind: str, tmp_path):
    gdf = gpd.GeoDataFrame([p for p, _ in REGION_ROWS], geometry=[g for _, g in REGION_ROWS], crs="EPSG:4326")
    if kind == "shp":
        path = tmp_path / "regions.shp"
        gdf.to_file(path, engine="pyogrio")
    elif kind == "zip":
        folder = tmp_path / "shp"
        folder.mkdir()
        gdf.to_file(folder / "regions.shp", engine="pyogrio")
        path = tmp_path / "regions.zip"
        with zipfile.ZipFile(path, "w") as zf:
            for member in sorted(folder.iterdir()):
                zf.write(member, member.name)
    elif kind == "gpkg":
        path = tmp_path / "regions.gpkg"
        gdf.to_file(path, layer="districts", engine="pyogrio")
        gdf.iloc[:1].to_file(path, layer="zz_other", engine="pyogrio")  # a second layer is ignored
    elif kind == "csv":
        path = write_csv(tmp_path / "regions.csv", REGION_ROWS, wkt_column="WKT")
    else:
        path = write_geojson(tmp_path / "regions.geojson", REGION_ROWS)
    return path


@pytest.mark.parametrize("kind", ["shp", "zip", "gpkg", "csv", "geojson"])
def test_every_supported_format_imports(sor, tmp_path, kind):
    path = _write_format(kind, tmp_path)
    rep = import_regions(sor, path, level="district", code_field="code", name_field="name",
                         population_field="pop")
    assert (rep.read, rep.inserted) == (2, 2)
    declares = kind in ("shp", "zip", "gpkg")
    assert rep.warnings == ({} if declares else {"crs_assumed_wgs84": 2})
    db = stored(sor)
    assert sorted(db) == ["0101", "0102"]  # codes keep their leading zeros
    assert db["0101"]["name"] == "甲区" and db["0102"]["population"] == 2000
    for props, geom in REGION_ROWS:
        assert shapely.equals(geom_of(db[props["code"]]), geom)
        assert db[props["code"]]["area_km2"] == pytest.approx(equal_area_km2(geom), rel=1e-9)
    # the same file again: nothing to do
    again = import_regions(sor, path, level="district", code_field="code", name_field="name",
                           population_field="pop")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)


def test_gbk_shapefile_without_cpg_reads_chinese_names(sor, tmp_path):
    gdf = gpd.GeoDataFrame({"code": ["1"], "name": ["铁东区"]}, geometry=[SQ_A], crs="EPSG:4326")
    path = tmp_path / "gbk.shp"
    gdf.to_file(path, engine="pyogrio", encoding="GBK")
    (tmp_path / "gbk.cpg").unlink(missing_ok=True)
    import_regions(sor, path, level="district", code_field="code", name_field="name")
    assert stored(sor)["1"]["name"] == "铁东区"


def test_numeric_code_fields_read_as_whole_numbers(sor, tmp_path):
    path = write_geojson(tmp_path / "n.geojson", [({"id": 47, "name": "a"}, SQ_A), ({"id": 48.0, "name": "b"}, SQ_B)])
    import_regions(sor, path, level="street", code_field="id", name_field="name")
    assert sorted(stored(sor)) == ["47", "48"]


# ------------------------------------------------------------------ geometry


def test_bow_tie_is_repaired_and_reported(sor, tmp_path):
    bow_tie = shapely.Polygon([(123.0, 41.0), (123.1, 41.1), (123.1, 41.0), (123.0, 41.1), (123.0, 41.0)])
    assert not bow_tie.is_valid
    path = write_geojson(tmp_path / "bowtie.geojson", [({"code": "bt", "name": "蝴蝶"}, bow_tie),
                                                       ({"code": "ok", "name": "好"}, square(124, 41, 0.1))])
    rep = import_regions(sor, path, level="community", code_field="code", name_field="name")
    assert rep.repaired == ["bt"]
    got = geom_of(stored(sor)["bt"])
    assert got.is_valid and got.geom_type == "MultiPolygon" and len(got.geoms) == 2
    assert got.area == pytest.approx(0.005)  # two triangles of 0.1 x 0.05 / 2 each
    assert stored(sor)["bt"]["area_km2"] > 0


def test_non_polygonal_or_missing_geometry_is_an_error_naming_the_code(sor, tmp_path):
    line = shapely.LineString([(1, 1), (2, 2)])
    path = write_geojson(tmp_path / "line.geojson", [({"code": "L1", "name": "线"}, line),
                                                     ({"code": "P1", "name": "面"}, SQ_A)])
    with pytest.raises(RegionImportError, match=r"line.geojson: .*not polygons.*L1 \(LineString\)"):
        import_regions(sor, path, level="grid", code_field="code", name_field="name")
    path = tmp_path / "nogeom.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "N1", "name": "空"}, "geometry": None}]}), encoding="utf-8")
    with pytest.raises(RegionImportError, match="nogeom.geojson: no geometry for code.* N1"):
        import_regions(sor, path, level="grid", code_field="code", name_field="name")
    assert row_count(sor, schema.regions) == 0


# ------------------------------------------------------------------ refusals


def test_duplicate_codes_are_an_error_naming_them(sor, tmp_path):
    path = write_geojson(tmp_path / "dupes.geojson", [({"code": "7", "name": "a"}, SQ_A),
                                                      ({"code": "8", "name": "b"}, SQ_B),
                                                      ({"code": "7", "name": "c"}, square(124, 41))])
    with pytest.raises(RegionImportError) as err:
        import_regions(sor, path, level="street", code_field="code", name_field="name")
    msg = str(err.value)
    assert "dupes.geojson" in msg and "duplicate codes" in msg and "'code'" in msg
    assert "7 (feature 1, feature 3)" in msg and "8" not in msg.split("duplicate codes")[1]
    assert row_count(sor, schema.regions) == 0


def test_missing_field_is_an_error_listing_the_fields(sor, tmp_path):
    path = write_geojson(tmp_path / "fields.geojson", [({"adcode": "1", "name": "a", "pop": 3}, SQ_A)])
    with pytest.raises(RegionImportError) as err:
        import_regions(sor, path, level="street", code_field="code", name_field="name")
    msg = str(err.value)
    assert "fields.geojson" in msg and "'code'" in msg and "adcode, name, pop" in msg
    with pytest.raises(RegionImportError, match="population field 'people' is not in the file"):
        import_regions(sor, path, level="street", code_field="adcode", name_field="name",
                       population_field="people")


def test_unknown_level_is_an_error(sor, tmp_path):
    path = write_geojson(tmp_path / "lvl.geojson", [({"code": "1", "name": "a"}, SQ_A)])
    with pytest.raises(RegionImportError, match=r"lvl.geojson: unknown level 'village'; expected one of province"):
        import_regions(sor, path, level="village", code_field="code", name_field="name")


def test_empty_codes_and_names_are_errors(sor, tmp_path):
    path = write_geojson(tmp_path / "e.geojson", [({"code": "1", "name": "a"}, SQ_A),
                                                  ({"code": " ", "name": "b"}, SQ_B)])
    with pytest.raises(RegionImportError, match="e.geojson: empty code .*'code'.* feature 2"):
        import_regions(sor, path, level="street", code_field="code", name_field="name")
    path = write_csv(tmp_path / "e.csv", [({"code": "1", "name": "a"}, SQ_A), ({"code": "2", "name": ""}, SQ_B)])
    with pytest.raises(RegionImportError, match=r"e.csv: empty name .*'name'.* 2$"):
        import_regions(sor, path, level="street", code_field="code", name_field="name")


def test_bad_population_is_a_warning_and_stored_null(sor, tmp_path):
    path = write_csv(tmp_path / "p.csv", [({"code": "1", "name": "a", "pop": "about 300"}, SQ_A),
                                          ({"code": "2", "name": "b", "pop": ""}, SQ_B),
                                          ({"code": "3", "name": "c", "pop": "-5"}, square(124, 41)),
                                          ({"code": "4", "name": "d", "pop": "1,200"}, square(125, 41))])
    rep = import_regions(sor, path, level="street", code_field="code", name_field="name", population_field="pop")
    assert rep.warnings["bad_population"] == 2
    assert {c: r["population"] for c, r in stored(sor).items()} == {"1": None, "2": None, "3": None, "4": 1200}


def test_codes_of_another_level_are_refused(sor, tmp_path):
    import_regions(sor, write_geojson(tmp_path / "d.geojson", [({"code": "1", "name": "一区"}, square(123, 41))]),
                   level="district", code_field="code", name_field="name", now=T1)
    path = write_geojson(tmp_path / "s.geojson", [({"code": "1", "name": "一街"}, square(123.2, 41.2, 0.1))])
    clash = r"s.geojson: codes already used by regions of another level .*1 \(district 一区\)"
    with pytest.raises(RegionImportError, match=clash):
        import_regions(sor, path, level="street", code_field="code", name_field="name")
    assert stored(sor)["1"]["level"] == "district"


# ------------------------------------------------------------------ updates


def test_a_corrected_file_updates_the_changed_rows_only(sor, tmp_path):
    rows = [({"code": "a", "name": "甲", "pop": 10}, square(123, 41, 0.1)),
            ({"code": "b", "name": "乙", "pop": 20}, square(123.2, 41, 0.1)),
            ({"code": "c", "name": "丙", "pop": 30}, square(123.4, 41, 0.1))]
    first = write_geojson(tmp_path / "v1.geojson", rows)
    import_regions(sor, first, level="grid", code_field="code", name_field="name", population_field="pop", now=T1)

    corrected = [rows[0],
                 ({"code": "b", "name": "乙(更正)", "pop": 20}, rows[1][1]),  # a name fixed
                 ({"code": "c", "name": "丙", "pop": 30}, square(123.4, 41, 0.12)),  # an outline fixed
                 ({"code": "d", "name": "丁", "pop": 40}, square(123.6, 41, 0.1))]  # a new one
    second = write_geojson(tmp_path / "v2.geojson", corrected)
    rep = import_regions(sor, second, level="grid", code_field="code", name_field="name",
                         population_field="pop", now=T2)
    assert (rep.read, rep.inserted, rep.updated, rep.unchanged) == (4, 1, 2, 1)
    db = stored(sor)
    assert {c: r["updated_at"] for c, r in db.items()} == {"a": T1, "b": T2, "c": T2, "d": T2}
    assert db["b"]["name"] == "乙(更正)"
    assert db["c"]["area_km2"] == pytest.approx(equal_area_km2(square(123.4, 41, 0.12)))
    assert db["c"]["centroid_lon"] == pytest.approx(123.46)


@pytest.mark.attack("imports")
def test_nothing_is_written_when_the_import_is_refused_midway(sor, tmp_path):
    # valid rows first, a bad geometry last: the whole file is refused
    path = write_geojson(tmp_path / "mixed.geojson", [({"code": "1", "name": "a"}, SQ_A),
                                                      ({"code": "2", "name": "b"}, shapely.Point(123, 41))])
    with pytest.raises(RegionImportError):
        import_regions(sor, path, level="grid", code_field="code", name_field="name")
    assert row_count(sor, schema.regions) == 0


def test_report_as_dict(sor, tmp_path):
    path = write_geojson(tmp_path / "r.geojson", [({"code": "1", "name": "a"}, SQ_A)])
    d = import_regions(sor, path, level="district", code_field="code", name_field="name", crs="wgs84").as_dict()
    assert d["file"] == str(path) and d["level"] == "district" and d["crs"] == "wgs84"
    assert {"read", "inserted", "updated", "unchanged", "repaired", "parents_by_containment", "without_parent",
            "warnings"} <= set(d)
    json.dumps(d)


# ------------------------------------------------------------------ a CRS that contradicts the coordinates


@pytest.mark.attack("imports")
def test_degrees_declared_as_epsg3857_are_refused_and_the_good_outlines_kept(sor, tmp_path):
    good = write_geojson(tmp_path / "good.geojson", [({"code": "a", "name": "甲"}, SQ_A),
                                                     ({"code": "b", "name": "乙"}, SQ_B)])
    import_regions(sor, good, level="district", code_field="code", name_field="name", now=T1)
    before = stored(sor)
    # the same degrees, but the file says they are Web Mercator metres: converted, two specks near (0.001°, 0.0004°)
    wrong = write_geojson(tmp_path / "wrong.geojson", [({"code": "a", "name": "甲"}, SQ_A),
                                                       ({"code": "b", "name": "乙"}, SQ_B)],
                          crs="urn:ogc:def:crs:EPSG::3857")
    with pytest.raises(RegionImportError) as err:
        import_regions(sor, wrong, level="district", code_field="code", name_field="name", now=T2)
    msg = str(err.value)
    assert "wrong.geojson" in msg and "EPSG:3857" in msg and "longitude/latitude" in msg and "--crs wgs84" in msg
    assert stored(sor) == before
    # the same on an empty database: there is no territory to compare with, the coordinates alone tell
    fresh = new_sor(tmp_path, "fresh.db")
    with pytest.raises(RegionImportError, match="wrong.geojson: the file says .*EPSG:3857"):
        import_regions(fresh, wrong, level="district", code_field="code", name_field="name")
    assert row_count(fresh, schema.regions) == 0


@pytest.mark.attack("imports")
def test_a_layer_outside_its_crs_area_of_use_is_refused(sor, tmp_path):
    # Los Angeles longitude/latitude declared as CGCS2000 (EPSG:4490), whose area of use is China
    la = shapely.box(-118.3, 34.0, -118.2, 34.1)
    path = write_geojson(tmp_path / "la.geojson", [({"code": "1", "name": "a"}, la)], crs="EPSG:4490")
    with pytest.raises(RegionImportError, match="la.geojson: .*EPSG:4490.*outside the area where"):
        import_regions(sor, path, level="district", code_field="code", name_field="name")
    assert row_count(sor, schema.regions) == 0
    # --crs is checked the same way
    plain = write_geojson(tmp_path / "plain.geojson", [({"code": "1", "name": "a"}, la)])
    with pytest.raises(RegionImportError, match=r"plain.geojson: .*\(--crs\).*outside the area where"):
        import_regions(sor, plain, level="district", code_field="code", name_field="name", crs="EPSG:4490")


@pytest.mark.attack("imports")
def test_a_layer_far_from_the_loaded_territory_is_refused(sor, tmp_path):
    districts = write_geojson(tmp_path / "d.geojson", [({"code": "d1", "name": "铁东区"}, square(123, 41))])
    import_regions(sor, districts, level="district", code_field="code", name_field="name")
    # UTM zone 51N metres of a square near Anshan, but the user says zone 11N (California)
    utm51 = transform_geometry(square(123.2, 41.2, 0.1), "wgs84", "EPSG:32651")
    streets = write_geojson(tmp_path / "s.geojson", [({"code": "s1", "name": "一"}, utm51)])
    with pytest.raises(RegionImportError, match="s.geojson: .*EPSG:32611.*far from the regions already loaded"):
        import_regions(sor, streets, level="street", code_field="code", name_field="name", crs="EPSG:32611")
    assert set(stored(sor)) == {"d1"}
    rep = import_regions(sor, streets, level="street", code_field="code", name_field="name", crs="EPSG:32651")
    assert rep.inserted == 1 and stored(sor)["s1"]["parent_code"] == "d1"


@pytest.mark.attack("imports")
def test_an_outline_is_not_replaced_by_one_far_from_it(sor, tmp_path):
    # a wide territory, so the layer as a whole is not far from it; one region jumps across it
    rows = [({"code": "a", "name": "甲"}, square(120, 40)), ({"code": "b", "name": "乙"}, square(130, 40))]
    import_regions(sor, write_geojson(tmp_path / "v1.geojson", rows), level="district", code_field="code",
                   name_field="name", now=T1)
    before = stored(sor)
    moved = [rows[0], ({"code": "b", "name": "乙"}, square(125, 45))]
    with pytest.raises(RegionImportError, match=r"v2.geojson: .*code\(s\) b lies far from the stored one"):
        import_regions(sor, write_geojson(tmp_path / "v2.geojson", moved), level="district", code_field="code",
                       name_field="name", now=T2)
    assert stored(sor) == before
