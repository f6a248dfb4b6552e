"""Pull: fetch what a party's senders hold, for parties that do not push (OCPI requires
every receiver to be able to pull, to resynchronise after an outage). Each module is read
from `date_from` = the newest `last_updated` received last time, page by page, and every
object goes through the receiver exactly as a push would."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from chargenet.adapters.ocpi.ids import route
from chargenet.adapters.ocpi.party import OcpiParty
from chargenet.adapters.ocpi.wire import OcpiError, PeerFailed, parse_time, utc_text
from chargenet.app.ocpi import Peer, PeerKind, PeerStatus

log = logging.getLogger(__name__)

# Tariffs before the locations that name them; locations before the sessions and records
# that happen at them.
PULL_ORDER = ("tariffs", "locations", "sessions", "cdrs")


async def pull_peer(
    p: OcpiParty, peer: Peer, modules: tuple[str, ...] = PULL_ORDER
) -> dict[str, int]:
    """One incremental pull of every module the peer sends; objects taken, per module."""
    taken: dict[str, int] = {}
    if peer.token_out is None:
        return taken
    routed = route(peer.party(), p.settings.identity.party)
    for module in modules:
        url = peer.endpoint(module, "SENDER")
        if not url:
            continue
        since = await asyncio.to_thread(p.directory.cursor, peer.peer_id, module)
        params = {"date_from": utc_text(since)} if since else {}
        newest: datetime | None = since
        count = 0
        errors: list[str] = []
        try:
            async for page in p.client.pages(url, peer.token_out, params, route=routed):
                for obj in page:
                    try:
                        await p.receiver.take(peer, module, obj, adapter="ocpi")
                        count += 1
                    except OcpiError as exc:
                        named = obj.get("id") if isinstance(obj, dict) else None
                        errors.append(f"{named}: {exc.message}")
                        log.warning(
                            "pull %s %s %s refused: %s", peer.peer_id, module, named, exc.message
                        )
                        continue
                    # Only what was taken moves the cursor: a refused object's last_updated
                    # (say, days ahead of our clock) must not skip what comes before it.
                    stamp = obj.get("last_updated")
                    if isinstance(stamp, str):
                        when = parse_time(stamp)
                        newest = when if newest is None or when > newest else newest
        except PeerFailed as exc:
            errors.append(str(exc))
            log.warning("pull %s %s failed: %s", peer.peer_id, module, exc)
        await asyncio.to_thread(
            p.directory.save_cursor,
            peer.peer_id,
            module,
            newest,
            p.clock.now(),
            count,
            "; ".join(errors)[:2000] or None,
        )
        taken[module] = count
    return taken


async def pull_all(p: OcpiParty) -> dict[str, dict[str, int]]:
    peers = await asyncio.to_thread(p.directory.peers)
    out = {}
    for peer in peers:
        if peer.kind in (PeerKind.CPO, PeerKind.PLATFORM) and peer.status is PeerStatus.REGISTERED:
            out[peer.peer_id] = await pull_peer(p, peer)
    return out


async def pull_forever(p: OcpiParty) -> None:
    """The background job: pull every registered operator platform on a schedule."""
    interval = p.settings.pull_interval_s
    if interval <= 0:
        return
    while True:
        try:
            await pull_all(p)
        except Exception:
            log.exception("OCPI pull round failed")
        await asyncio.sleep(interval)
