"""Map layers: colours, level choice, view fitting, payload size."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import shapely

from geo import layers


def _squares(n: int) -> pd.DataFrame:
    geoms = [shapely.box(122 + i * 0.01, 41, 122.0099 + i * 0.01, 41.0099) for i in range(n)]
    return pd.DataFrame({"code": [f"g{i}" for i in range(n)], "name": [f"网格{i}" for i in range(n)],
                         "geometry": shapely.to_wkb(geoms)})


@pytest.mark.parametrize("counts, below, expected", [
    ({"district": 4, "street": 40, "community": 350, "grid": 3000}, ["district", "street", "community", "grid"], "grid"),
    ({"district": 100, "street": 1500, "community": 13500, "grid": 150000},
     ["district", "street", "community", "grid"], "street"),
    ({"district": 99}, ["district"], "district"),
    ({}, [], None),
])
def test_the_map_shows_the_finest_level_that_fits(counts, below, expected):
    assert layers.map_level(counts, below) == expected


def test_quantile_colours_rank_values_and_mark_missing():
    colors, breaks = layers.quantile_colors(pd.Series([1.0, 2.0, 3.0, 100.0, None]))
    assert colors[0][:3] == list(layers.PALETTE[0]) and colors[3][:3] == list(layers.PALETTE[-1])
    assert colors[4][:3] == list(layers.NO_DATA)
    assert breaks == sorted(breaks)


@pytest.mark.parametrize("values, lowest, highest", [
    ([0, 0, 0, 0], 4, 0),              # nothing arrived anywhere: all low, not an all-red map
    ([0, 0, 0, 0, 0, 0, 3, 9], 6, 1),  # mostly zeros: the zeros are low, the busiest is high
])
def test_quantile_colours_put_ties_at_the_bottom_in_the_lowest_class(values, lowest, highest):
    colors, _ = layers.quantile_colors(pd.Series(values, dtype=float))
    low = [c for c in colors if c[:3] == list(layers.PALETTE[0])]
    high = [c for c in colors if c[:3] == list(layers.PALETTE[-1])]
    assert len(low) == lowest and len(high) == highest


def test_features_carry_values_and_round_coordinates():
    feats = layers.features(_squares(3), pd.DataFrame({"code": ["g1"], "received": [7]}))
    assert [f["properties"].get("received") for f in feats] == [None, 7, None]
    x, y = feats[0]["geometry"]["coordinates"][0][0]
    assert round(x, layers.COORD_DECIMALS) == x


def test_unreadable_geometry_is_named():
    df = _squares(2)
    df.loc[1, "geometry"] = b"not wkb"
    with pytest.raises(ValueError, match="g1"):
        layers.features(df)


def test_the_view_fits_the_bounds():
    view = layers.fit_view(layers.Bounds(122.0, 40.0, 124.0, 42.0), 1000, 800)
    assert view.longitude == pytest.approx(123.0) and 6 < view.zoom < 9


def test_deck_json_is_compact_utf8_with_no_basemap_by_default():
    deck = layers.make_deck([layers.choropleth_layer(layers.features(_squares(2)))],
                            layers.fit_view(layers.Bounds(122, 41, 122.02, 41.01)))
    text = deck.to_json()
    assert "网格0" in text and "\n" not in text
    spec = json.loads(text)
    assert spec.get("mapStyle") == "__MAP_STYLE__"  # Streamlit then draws no basemap at all
    with_tiles = json.loads(layers.make_deck([], layers.fit_view(layers.Bounds(122, 41, 123, 42)),
                                             tile_url="http://t/{z}/{x}/{y}.png").to_json())
    assert with_tiles["mapStyle"].startswith("data:application/json")


@pytest.mark.parametrize("values, method", [
    ([0, 0, 0, 0], "none"),                     # nothing anywhere: one neutral colour, not an all-red map
    ([157.0, 159.0, 161.0, 163.0], "none"),     # four districts within 4 %: no class would mean anything
    ([100.0, 130.0, 160.0, 200.0], "equal"),    # a handful of regions: equal intervals of the range
    (list(range(40)), "quantile"),              # many regions: quantiles
    ([None, None], "empty"),
])
def test_classes_reflect_the_real_spread(values, method):
    classes = layers.classify(pd.Series(values, dtype=float))
    assert classes.method == method
    if method == "none":
        assert {tuple(c[:3]) for c in classes.colors} == {layers.NEUTRAL}
    if method == "equal":  # 100 is the lowest class, 200 the highest, 160 in the middle of the range
        first, last = layers.PALETTE[0], layers.PALETTE[-1]
        assert classes.colors[0][:3] == list(first) and classes.colors[3][:3] == list(last)
        assert classes.colors[2][:3] == list(layers.PALETTE[4])
        assert (classes.low, classes.high) == (100.0, 200.0)


def test_the_legend_says_how_the_colours_were_made():
    from streamlit.testing.v1 import AppTest

    def script(values):
        import pandas as pd

        from geo import layers
        from ui import widgets

        widgets.legend(layers.classify(pd.Series(values, dtype=float)), layers.PALETTE, "每万人诉求量")

    texts = {}
    for name, values in {"none": [157.0, 163.0], "equal": [100.0, 200.0, 150.0], "quantile": list(range(30))}.items():
        at = AppTest.from_function(script, args=(values,))
        at.run()
        texts[name] = " ".join(h.proto.body for h in at.get("html"))
    assert "157.0–163.0" in texts["none"] and "差异很小" in texts["none"] and "高" not in texts["none"]
    assert "等距分级" in texts["equal"] and "分位数分级" in texts["quantile"]
