"""Every protocol's status words map into the one vocabulary (docs/status.md)."""

import pytest

from chargenet.adapters.ocpi.status import FROM_OCPI, from_ocpi, to_ocpi
from chargenet.adapters.ocpp.status import FROM_OCPP16, FROM_OCPP201, from_ocpp16, from_ocpp201
from chargenet.adapters.tcec.status import from_tcec, to_tcec
from chargenet.core.status import ConnectorStatus, effective_status


def test_all_ocpp16_statuses_map_and_plugged_in_but_idle_is_occupied() -> None:
    assert set(FROM_OCPP16) == {
        "Available",
        "Preparing",
        "Charging",
        "SuspendedEVSE",
        "SuspendedEV",
        "Finishing",
        "Reserved",
        "Unavailable",
        "Faulted",
    }
    assert from_ocpp16("SuspendedEV") is ConnectorStatus.OCCUPIED
    assert from_ocpp16("Faulted") is ConnectorStatus.FAULTED
    with pytest.raises(ValueError, match=r"unknown OCPP 1\.6 status"):
        from_ocpp16("Broken")


def test_all_ocpp201_statuses_map() -> None:
    assert set(FROM_OCPP201) == {"Available", "Occupied", "Reserved", "Unavailable", "Faulted"}
    assert from_ocpp201("Occupied") is ConnectorStatus.OCCUPIED


def test_ocpi_round_trips_except_where_it_has_no_word() -> None:
    for word, status in FROM_OCPI.items():
        assert to_ocpi(status) == word
    assert to_ocpi(ConnectorStatus.OCCUPIED) == "CHARGING"  # OCPI CHARGING means "in use"
    assert from_ocpi("PLANNED") is None and from_ocpi("REMOVED") is None


def test_tcec_codes_round_trip() -> None:
    for code in (0, 1, 2, 3, 4, 255):
        assert to_tcec(from_tcec(code)) == code
    assert to_tcec(ConnectorStatus.UNAVAILABLE) == 255
    with pytest.raises(ValueError, match="T/CEC"):
        from_tcec(9)


def test_every_internal_status_has_a_word_in_every_protocol() -> None:
    for status in ConnectorStatus:
        assert to_ocpi(status)
        assert to_tcec(status) in (0, 1, 2, 3, 4, 255)


def test_offline_is_not_faulted() -> None:
    assert effective_status(ConnectorStatus.FAULTED, True) is ConnectorStatus.FAULTED
    assert effective_status(ConnectorStatus.FAULTED, False) is ConnectorStatus.OFFLINE
    assert effective_status(ConnectorStatus.AVAILABLE, None) is ConnectorStatus.AVAILABLE
    assert effective_status(None, True) is ConnectorStatus.OFFLINE
