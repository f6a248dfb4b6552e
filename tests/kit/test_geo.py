from hypothesis import given
from hypothesis import strategies as st

from chargenet.kit.geo import gcj02_to_wgs84, haversine_m, to_wgs84, wgs84_to_gcj02


def test_haversine_between_two_known_points() -> None:
    # Tiananmen to the Bund is about 1,067 km along the great circle.
    d = haversine_m(39.9087, 116.3975, 31.2400, 121.4900)
    assert 1_060_000 < d < 1_075_000


def test_gcj02_shifts_chinese_points_by_hundreds_of_metres() -> None:
    lat, lon = 38.404, 112.746  # Xinfu District
    g_lat, g_lon = wgs84_to_gcj02(lat, lon)
    assert 100 < haversine_m(lat, lon, g_lat, g_lon) < 1_000


def test_points_outside_china_are_not_shifted() -> None:
    assert wgs84_to_gcj02(48.85, 2.35) == (48.85, 2.35)


@given(st.floats(20.0, 50.0), st.floats(80.0, 130.0))
def test_gcj02_to_wgs84_inverts_the_shift_within_a_centimetre(lat: float, lon: float) -> None:
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lat, lon))
    assert haversine_m(lat, lon, *back) < 0.01


def test_named_datums() -> None:
    assert to_wgs84(38.4, 112.7, "wgs-84") == (38.4, 112.7)
    assert to_wgs84(38.4, 112.7, "GCJ02") != (38.4, 112.7)
