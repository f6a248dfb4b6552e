"""R22/R23 road spacing: along each road, how far apart the stations that serve it are.

A station serves a road when it lies within the snap distance of the polyline; its place
on the road is its chainage (distance from the road's start). Roads are densified to
points at most DENSIFY_M apart and indexed in one KD-tree, so each station finds the
roads near it in O(log n); the exact chainage comes from projecting the station onto the
two segments beside its nearest dense point. The gaps are the differences of sorted
chainages, with the road's two ends counted as ends of a gap when `include_ends`.
Closing a gap of length L with new stations at most G apart takes ⌈L/G⌉ − 1 of them,
evenly spaced: the fewest possible, since the gaps are independent intervals on a line.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from chargenet.analytics.planning.spatial import FloatArray, PointIndex, Road, segment_lengths

DENSIFY_M = 200.0


@dataclass(frozen=True, slots=True)
class RoadGap:
    road: str
    start_km: float
    end_km: float
    from_station: str | None  # None: the road's end
    to_station: str | None
    new_stations: int  # fewest new stations that bring every gap here within the limit
    positions: tuple[tuple[float, float, float], ...]  # (lat, lon, chainage km) for them

    @property
    def length_km(self) -> float:
        return self.end_km - self.start_km


@dataclass(frozen=True, slots=True)
class RoadSpacing:
    road: str
    road_class: str
    length_km: float
    stations: tuple[tuple[str, float], ...]  # (station id, chainage km), by chainage
    largest_gap_km: float
    gaps: tuple[RoadGap, ...]  # the gaps above the limit


@dataclass
class _Dense:
    lats: FloatArray
    lons: FloatArray
    chain: FloatArray  # chainage (m) of each dense point
    road: np.ndarray  # road index of each dense point
    first: np.ndarray  # index of each road's first dense point


def _densify(roads: Sequence[Road]) -> _Dense:
    lats: list[FloatArray] = []
    lons: list[FloatArray] = []
    chains: list[FloatArray] = []
    owner: list[np.ndarray] = []
    first = []
    count = 0
    for r_index, road in enumerate(roads):
        pts = np.asarray(road.points, dtype=np.float64)
        seg = segment_lengths(road.points)
        start = np.concatenate(([0.0], np.cumsum(seg)))
        parts_lat, parts_lon, parts_ch = [], [], []
        for i, length in enumerate(seg):
            steps = max(1, math.ceil(length / DENSIFY_M))
            t = np.arange(steps) / steps
            parts_lat.append(pts[i, 0] + (pts[i + 1, 0] - pts[i, 0]) * t)
            parts_lon.append(pts[i, 1] + (pts[i + 1, 1] - pts[i, 1]) * t)
            parts_ch.append(start[i] + length * t)
        parts_lat.append(pts[-1:, 0])
        parts_lon.append(pts[-1:, 1])
        parts_ch.append(start[-1:])
        block = np.concatenate(parts_lat)
        first.append(count)
        count += len(block)
        lats.append(block)
        lons.append(np.concatenate(parts_lon))
        chains.append(np.concatenate(parts_ch))
        owner.append(np.full(len(block), r_index))
    if not lats:
        empty = np.zeros(0)
        return _Dense(empty, empty, empty, np.zeros(0, dtype=int), np.zeros(0, dtype=int))
    return _Dense(
        np.concatenate(lats),
        np.concatenate(lons),
        np.concatenate(chains),
        np.concatenate(owner),
        np.asarray(first),
    )


def _project(dense: _Dense, i: int, lat: float, lon: float) -> tuple[float, float]:
    """(distance m, chainage m) of a point projected onto the segments beside dense point i."""
    best = (math.inf, float(dense.chain[i]))
    scale = math.cos(math.radians(lat)) * 111_320.0
    px, py = lon * scale, lat * 110_574.0
    for a, b in ((i - 1, i), (i, i + 1)):
        if a < 0 or b >= len(dense.lats) or dense.road[a] != dense.road[b]:
            continue
        ax, ay = dense.lons[a] * scale, dense.lats[a] * 110_574.0
        bx, by = dense.lons[b] * scale, dense.lats[b] * 110_574.0
        dx, dy = bx - ax, by - ay
        norm = dx * dx + dy * dy
        t = 0.0 if norm == 0 else min(1.0, max(0.0, ((px - ax) * dx + (py - ay) * dy) / norm))
        dist = math.hypot(px - (ax + t * dx), py - (ay + t * dy))
        if dist < best[0]:
            best = (dist, float(dense.chain[a] + t * (dense.chain[b] - dense.chain[a])))
    return best


def _point_at(dense: _Dense, road: int, chain_m: float) -> tuple[float, float]:
    lo = int(dense.first[road])
    hi = int(dense.first[road + 1]) if road + 1 < len(dense.first) else len(dense.lats)
    chains = dense.chain[lo:hi]
    j = int(np.clip(np.searchsorted(chains, chain_m), 1, len(chains) - 1))
    span = chains[j] - chains[j - 1]
    t = 0.0 if span == 0 else (chain_m - chains[j - 1]) / span
    lat = dense.lats[lo + j - 1] + t * (dense.lats[lo + j] - dense.lats[lo + j - 1])
    lon = dense.lons[lo + j - 1] + t * (dense.lons[lo + j] - dense.lons[lo + j - 1])
    return round(float(lat), 6), round(float(lon), 6)


def road_spacing(
    roads: Sequence[Road],
    station_ids: Sequence[str],
    lats: Sequence[float],
    lons: Sequence[float],
    snap_m: float,
    max_gap_m: float,
    include_ends: bool = True,
) -> list[RoadSpacing]:
    """Spacing of the given stations along each road, with the gaps above `max_gap_m`."""
    dense = _densify(roads)
    on_road: list[dict[str, float]] = [{} for _ in roads]
    if len(dense.lats) and len(station_ids):
        index = PointIndex(dense.lats, dense.lons)
        near = index.within(lats, lons, snap_m + DENSIFY_M)
        for s, hits in enumerate(near):
            nearest: dict[int, int] = {}
            for i in hits:
                road = int(dense.road[i])
                if road not in nearest or _gc(dense, i, lats[s], lons[s]) < _gc(
                    dense, nearest[road], lats[s], lons[s]
                ):
                    nearest[road] = i
            for road, i in nearest.items():
                dist, chain = _project(dense, i, lats[s], lons[s])
                if dist <= snap_m:
                    on_road[road][station_ids[s]] = chain
    return [
        _spacing(dense, r, road, on_road[r], max_gap_m, include_ends)
        for r, road in enumerate(roads)
    ]


def _gc(dense: _Dense, i: int, lat: float, lon: float) -> float:
    dlat = dense.lats[i] - lat
    dlon = (dense.lons[i] - lon) * math.cos(math.radians(lat))
    return float(dlat * dlat + dlon * dlon)


def _spacing(
    dense: _Dense,
    r: int,
    road: Road,
    found: dict[str, float],
    max_gap_m: float,
    include_ends: bool,
) -> RoadSpacing:
    length = float(np.sum(segment_lengths(road.points)))
    ordered = sorted(found.items(), key=lambda kv: kv[1])
    marks: list[tuple[str | None, float]] = list(ordered)
    if include_ends or not marks:
        marks = [(None, 0.0), *marks, (None, length)]
    gaps = []
    largest = 0.0
    for (a_id, a), (b_id, b) in itertools.pairwise(marks):
        span = b - a
        largest = max(largest, span)
        if span > max_gap_m + 1e-6:
            need = math.ceil(span / max_gap_m - 1e-9) - 1
            positions = tuple(
                (
                    *_point_at(dense, r, a + span * k / (need + 1)),
                    round((a + span * k / (need + 1)) / 1000, 3),
                )
                for k in range(1, need + 1)
            )
            gaps.append(
                RoadGap(
                    road.ref, round(a / 1000, 3), round(b / 1000, 3), a_id, b_id, need, positions
                )
            )
    return RoadSpacing(
        road.ref,
        road.road_class,
        round(length / 1000, 3),
        tuple((sid, round(c / 1000, 3)) for sid, c in ordered),
        round(largest / 1000, 3),
        tuple(gaps),
    )
