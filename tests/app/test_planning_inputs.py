"""The user's planning CSVs: candidates with their class, grid headroom, population and
traffic; every bad row named by its line."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chargenet.app.planning_inputs import (
    InputError,
    read_candidates,
    read_feeders,
    read_figures,
)


def test_candidates_keep_their_class() -> None:
    text = "\ufeffid,lat,lon,name,class\nP1,38.6,112.7,中石化,petrol_station\nH1,38.5,112.6,,\n"
    p1, h1 = read_candidates(text)
    assert (p1.id, p1.kind, p1.name) == ("user:P1", "petrol_station", "中石化")
    assert (h1.kind, h1.name) == ("user", "H1")


def test_every_bad_row_is_named_by_its_line() -> None:
    text = "id,lat,lon,class\nA,38,112,moon_base\nB,95,112,road\nC,38,112,road\n"
    with pytest.raises(InputError) as caught:
        read_candidates(text)
    assert [p.split(":")[0] for p in caught.value.problems] == ["line 2", "line 3"]
    with pytest.raises(InputError, match="header lacks lon"):
        read_candidates("id,lat\nA,1\n")


def test_feeders_with_their_headroom_and_upgrade_price() -> None:
    text = (
        "feeder,lat,lon,headroom_kw,radius_km,upgrade_per_kw\n"
        "F1,38.6,112.7,800,2,\nF2,38.5,112.6,0,,none\nF3,38.4,112.5,50,,900\n"
    )
    f1, f2, f3 = read_feeders(text)
    assert (f1.headroom_kw, f1.radius_km, f1.upgrade_per_kw) == (800.0, 2.0, None)
    assert f2.upgrade_per_kw is not None and not f2.upgrade_per_kw.is_finite()
    assert f3.upgrade_per_kw == Decimal("900") and f3.radius_km == 3.0
    with pytest.raises(InputError, match="line 2"):
        read_feeders("feeder,lat,lon,headroom_kw\nF1,38,112,-5\n")


def test_population_and_traffic_figures() -> None:
    assert read_figures("code,population\n140902100201,1200\n", "population") == {
        "140902100201": 1200.0
    }
    with pytest.raises(InputError, match="line 2"):
        read_figures("code,vehicles_per_day\nX,lots\n", "vehicles_per_day")
