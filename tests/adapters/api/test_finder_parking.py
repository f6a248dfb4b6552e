"""A driver reads a station's parking fee in the finder, with where it comes from: an
operator's OCPI tariff (PARKING_TIME), its T/CEC fee text, or nothing published (null:
unknown, not free)."""

from __future__ import annotations

import time
from decimal import Decimal

from fastapi.testclient import TestClient

from chargenet.bootstrap import Platform
from chargenet.core.events import ConnectorTariffsSet, StationPricesPublished, TariffPublished
from chargenet.core.ids import ConnectorId, OperatorId, StationId
from chargenet.core.tariffs import PriceComponent, PriceDimension, TariffElement
from chargenet.entrypoints.web import create_app
from tests.builders import charger, meta, small_world, station


def _detail(client: TestClient, station_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 5
    while True:
        response = client.get(f"/api/v1/finder/stations/{station_id}")
        if response.status_code != 503 or time.monotonic() > deadline:
            assert response.status_code == 200, response.text
            body: dict[str, object] = response.json()
            return body
        time.sleep(0.05)


def test_each_station_shows_its_published_parking_fee_or_says_it_is_unknown(
    platform: Platform,
) -> None:
    tariff = TariffPublished(
        **meta(),
        tariff_id="CN*OP1*T1",
        operator_id=OperatorId("OP1"),
        currency="CNY",
        elements=(
            TariffElement(
                components=(
                    PriceComponent(dimension=PriceDimension.ENERGY, price=Decimal("1.20")),
                    PriceComponent(
                        dimension=PriceDimension.PARKING_TIME, price=Decimal("5"), vat=Decimal(6)
                    ),
                )
            ),
        ),
    )
    outcomes = platform.ingestor.ingest(
        [
            *small_world(),
            station("S2", lat=38.45, lon=112.75),
            charger("C2", "S2"),
            station("S3", lat=38.46, lon=112.76),
            charger("C3", "S3"),
            tariff,
            ConnectorTariffsSet(
                **meta(), connector_id=ConnectorId("C1-1-1"), tariff_ids=("CN*OP1*T1",)
            ),
            StationPricesPublished(
                **meta(), station_id=StationId("S2"), parking_fee="充电免费停车2小时"
            ),
        ]
    )
    assert all(o.ok for o in outcomes), [o.reason for o in outcomes if not o.ok]
    with TestClient(create_app(platform)) as client:
        ocpi = _detail(client, "S1")["parking"]
        tcec = _detail(client, "S2")["parking"]
        none = _detail(client, "S3")["parking"]
    assert ocpi == {
        "source": "ocpi_tariff",
        "per_hour": "5.30",  # VAT included, as a driver pays it
        "currency": "CNY",
        "text": "",
    }
    assert tcec == {
        "source": "tcec",
        "per_hour": None,
        "currency": None,
        "text": "充电免费停车2小时",
    }
    assert none is None
