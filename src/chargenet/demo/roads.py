"""Schematic roads for the demo's planning checks (not surveyed roads): the expressway
corridors between county seats (world.CORRIDORS), and a county road from each county seat
to each of its townships, so that R22's road spacing has county and township roads to
measure. Real road networks come from a GeoJSON file (docs/planning.md)."""

from __future__ import annotations

from chargenet.analytics.planning.spatial import Road
from chargenet.demo.world import demo_roads, load_places


def demo_planning_roads() -> list[Road]:
    roads = [Road(r["ref"], "expressway", tuple(r["points"]), r["city"]) for r in demo_roads()]
    places = load_places()
    for town in sorted(places.values(), key=lambda p: p.code):
        if town.level != "township" or town.parent is None:
            continue
        seat = places.get(town.parent)
        if seat is None or town.name_zh.endswith(("街道", "办事处")):
            continue  # urban subdistricts sit in the county town itself
        roads.append(
            Road(
                f"X-{town.code}",
                "county",
                ((seat.lat, seat.lon), (town.lat, town.lon)),
                f"{seat.name_zh}—{town.name_zh} (schematic)",
            )
        )
    return roads
