"""A number too large for the store refuses its own event, never the batch it came in: the
events sent beside it (other chargers, other partners' pushes) are stored all the same."""

from __future__ import annotations

from decimal import Decimal

from chargenet.adapters.storage.store import FITS_NOT
from chargenet.app.ingest import Disposition
from chargenet.bootstrap import Platform
from chargenet.core.events import ConnectorStatusChanged, TariffPublished
from chargenet.core.ids import ConnectorId, OperatorId
from chargenet.core.status import ConnectorStatus
from chargenet.core.tariffs import PriceComponent, PriceDimension, TariffElement
from tests.builders import at, meta, small_world


def _tariff(price: Decimal) -> TariffPublished:
    component = PriceComponent(dimension=PriceDimension.ENERGY, price=price)
    return TariffPublished(
        **meta(at(1)),
        tariff_id="CN*XZP*T1",
        operator_id=OperatorId("OP1"),
        currency="CNY",
        elements=(TariffElement(components=(component,)),),
    )


def test_a_price_past_64_bits_is_refused_alone(any_platform: Platform) -> None:
    any_platform.ingestor.ingest(small_world())
    status = ConnectorStatusChanged(
        **meta(at(2)), connector_id=ConnectorId("C1-1-1"), status=ConnectorStatus.CHARGING
    )
    outcomes = any_platform.ingestor.ingest([_tariff(Decimal("1e300")), status])
    assert [o.disposition for o in outcomes] == [Disposition.REJECTED, Disposition.ACCEPTED]
    assert outcomes[0].reason == FITS_NOT
    logged = any_platform.read.events(event_type="connector.status_changed")
    assert [e["event_id"] for e in logged] == [status.event_id]
    rejected, _ = any_platform.read.rejected()
    assert [r["type"] for r in rejected] == ["tariff.published"]
