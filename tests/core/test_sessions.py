from datetime import timedelta

from chargenet.core.sessions import SessionFlag, session_energy
from tests.builders import T0


def test_energy_is_stop_minus_start_when_plausible() -> None:
    verdict = session_energy(1_000, 31_000, T0, T0 + timedelta(hours=1), 60_000)
    assert verdict.energy_wh == 30_000
    assert verdict.flags == ()


def test_a_meter_that_runs_backwards_is_not_billed() -> None:
    verdict = session_energy(5_000, 4_000, T0, T0 + timedelta(hours=1), 60_000)
    assert verdict.energy_wh is None
    assert verdict.flags == (SessionFlag.METER_BACKWARDS,)


def test_an_offline_meter_start_of_zero_that_implies_a_huge_session_is_not_billed() -> None:
    # The charger reported meterStart=0 while its register stood at 910 kWh.
    verdict = session_energy(0, 910_031, T0, T0 + timedelta(minutes=5), 22_000)
    assert verdict.energy_wh is None
    assert verdict.flags == (SessionFlag.ENERGY_EXCEEDS_POWER,)


def test_more_energy_than_any_vehicle_holds_is_flagged() -> None:
    verdict = session_energy(0, 2_000_000, T0, T0 + timedelta(days=3), None)
    assert verdict.flags == (SessionFlag.ENERGY_TOO_LARGE,)
