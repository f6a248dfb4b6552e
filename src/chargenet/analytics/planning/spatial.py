"""Distances for coverage: a KD-tree over points on the unit sphere, and road networks.

Why a KD-tree on 3-D unit vectors (scipy's cKDTree): the straight chord between two
points on a sphere grows monotonically with their great-circle distance, so the tree's
nearest neighbour is exactly the nearest point on the Earth and a radius query is
exact too — no projection, no distortion over a province. A query costs O(log n) in C
and runs vectorised over all villages at once. H3 cells would quantise distances to the
cell size, and shapely's STRtree indexes bounding boxes for geometry predicates rather
than answering metric nearest/radius queries over points.

Charging distance is the straight-line distance times a detour factor by default; with a
road network loaded it is the shortest path along the roads (Dijkstra, scipy.sparse.csgraph)
plus the straight legs from each point to its nearest road node.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from chargenet.kit.geo import EARTH_RADIUS_M

FloatArray = NDArray[np.float64]
DEFAULT_DETOUR = 1.3  # road distance ≈ 1.3 × straight line in rural China (a common rule of thumb)
MAX_SNAP_M = 5_000.0  # a point farther than this from every road node is off the network


def unit_vectors(
    lats: Sequence[float] | FloatArray, lons: Sequence[float] | FloatArray
) -> FloatArray:
    lat = np.radians(np.asarray(lats, dtype=np.float64))
    lon = np.radians(np.asarray(lons, dtype=np.float64))
    cos_lat = np.cos(lat)
    return np.column_stack((cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)))


def metres_of(chords: FloatArray) -> FloatArray:
    result: FloatArray = 2.0 * EARTH_RADIUS_M * np.arcsin(np.clip(chords / 2.0, 0.0, 1.0))
    return result


class PointIndex:
    """Nearest and radius queries over fixed points, by great-circle distance."""

    def __init__(
        self, lats: Sequence[float] | FloatArray, lons: Sequence[float] | FloatArray
    ) -> None:
        self.size = len(lats)
        self._tree = cKDTree(unit_vectors(lats, lons)) if self.size else None

    def nearest(
        self, lats: Sequence[float] | FloatArray, lons: Sequence[float] | FloatArray
    ) -> tuple[FloatArray, NDArray[np.intp]]:
        """Distance (m) to and index of the nearest indexed point, for each query point."""
        n = len(lats)
        if self._tree is None or n == 0:
            return np.full(n, np.inf), np.full(n, -1, dtype=np.intp)
        chords, index = self._tree.query(unit_vectors(lats, lons))
        return metres_of(np.asarray(chords, dtype=np.float64)), np.asarray(index, dtype=np.intp)

    def within(
        self,
        lats: Sequence[float] | FloatArray,
        lons: Sequence[float] | FloatArray,
        radius_m: float | FloatArray,
    ) -> list[list[int]]:
        """Indices of the indexed points within `radius_m` of each query point."""
        n = len(lats)
        if self._tree is None or n == 0:
            return [[] for _ in range(n)]
        radii = np.broadcast_to(np.asarray(radius_m, dtype=np.float64), (n,))
        chords = 2.0 * np.sin(np.minimum(radii, math.pi * EARTH_RADIUS_M) / (2.0 * EARTH_RADIUS_M))
        found = self._tree.query_ball_point(unit_vectors(lats, lons), chords)
        return [list(map(int, f)) for f in found]


@dataclass(frozen=True)
class Road:
    """A road as a polyline of (lat, lon) points, with its class (expressway, national,
    provincial, county, township, other) and reference (G55, X012 …)."""

    ref: str
    road_class: str
    points: tuple[tuple[float, float], ...]
    name: str = ""

    def length_m(self) -> float:
        return float(np.sum(segment_lengths(self.points)))


def segment_lengths(points: Sequence[tuple[float, float]]) -> FloatArray:
    if len(points) < 2:
        return np.zeros(0)
    arr = np.asarray(points, dtype=np.float64)
    a, b = unit_vectors(arr[:-1, 0], arr[:-1, 1]), unit_vectors(arr[1:, 0], arr[1:, 1])
    return metres_of(np.linalg.norm(a - b, axis=1))


# OpenStreetMap `highway` values as Chinese road classes (G national, S provincial,
# X county, Y township), the usual tagging in China.
OSM_CLASSES = {
    "motorway": "expressway",
    "motorway_link": "expressway",
    "trunk": "national",
    "trunk_link": "national",
    "primary": "provincial",
    "primary_link": "provincial",
    "secondary": "county",
    "secondary_link": "county",
    "tertiary": "township",
    "tertiary_link": "township",
}


def roads_from_geojson(data: dict[str, Any]) -> list[Road]:
    """Roads from a GeoJSON FeatureCollection of LineString / MultiLineString features
    (WGS-84 [lon, lat]); `class` (or OSM `highway`), `ref` and `name` from properties."""
    if data.get("type") != "FeatureCollection" or not isinstance(data.get("features"), list):
        raise ValueError("roads: expected a GeoJSON FeatureCollection")
    roads: list[Road] = []
    for n, feature in enumerate(data["features"], 1):
        geometry = feature.get("geometry") or {}
        props = feature.get("properties") or {}
        kind = geometry.get("type")
        if kind == "LineString":
            lines = [geometry.get("coordinates", [])]
        elif kind == "MultiLineString":
            lines = geometry.get("coordinates", [])
        else:
            raise ValueError(f"roads: feature {n} is a {kind}, not a LineString")
        road_class = str(props.get("class") or OSM_CLASSES.get(str(props.get("highway")), "other"))
        for line in lines:
            points = tuple((float(c[1]), float(c[0])) for c in line)
            if len(points) < 2:
                raise ValueError(f"roads: feature {n} has a line with fewer than 2 points")
            for lat, lon in points:
                if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                    raise ValueError(f"roads: feature {n} has a point out of range ({lon}, {lat})")
            roads.append(
                Road(
                    str(props.get("ref") or f"road-{n}"),
                    road_class,
                    points,
                    str(props.get("name", "")),
                )
            )
    return roads


@dataclass
class RoadNetwork:
    """A graph of the roads: vertices where coordinates coincide (to 1e-6°) join roads."""

    roads: Sequence[Road]
    node_lat: FloatArray = field(init=False)
    node_lon: FloatArray = field(init=False)
    graph: csr_matrix = field(init=False)

    def __post_init__(self) -> None:
        keys: dict[tuple[int, int], int] = {}
        rows: list[int] = []
        cols: list[int] = []
        for road in self.roads:
            ids = []
            for lat, lon in road.points:
                key = (round(lat * 1e6), round(lon * 1e6))
                ids.append(keys.setdefault(key, len(keys)))
            rows += ids[:-1]
            cols += ids[1:]
        coords = np.array(list(keys), dtype=np.float64).reshape(-1, 2) / 1e6
        self.node_lat, self.node_lon = coords[:, 0], coords[:, 1]
        a = unit_vectors(self.node_lat[rows], self.node_lon[rows])
        b = unit_vectors(self.node_lat[cols], self.node_lon[cols])
        # Zero-length edges would vanish in a sparse matrix; a millimetre keeps them.
        weights = np.maximum(metres_of(np.linalg.norm(a - b, axis=1)), 1e-3)
        edges: dict[tuple[int, int], float] = {}
        for u, v, w in zip(rows, cols, weights.tolist(), strict=True):
            key = (u, v) if u < v else (v, u)
            if u != v and w < edges.get(key, math.inf):
                edges[key] = w  # two roads along the same stretch: keep the shorter
        n = len(keys)
        us = [k[0] for k in edges] + [k[1] for k in edges]
        vs = [k[1] for k in edges] + [k[0] for k in edges]
        ws = list(edges.values()) * 2
        self.graph = coo_matrix((ws, (us, vs)), shape=(n, n)).tocsr()
        self._index = PointIndex(self.node_lat, self.node_lon)

    @property
    def nodes(self) -> int:
        return len(self.node_lat)

    def snap(self, lats: FloatArray, lons: FloatArray) -> tuple[FloatArray, NDArray[np.intp]]:
        return self._index.nearest(lats, lons)

    def distance_to_nearest(
        self,
        lats: FloatArray,
        lons: FloatArray,
        station_lats: FloatArray,
        station_lons: FloatArray,
        detour: float,
    ) -> FloatArray:
        """Road distance from each point to its nearest station. Legs off the network are
        straight lines × `detour`; points or stations more than MAX_SNAP_M from a road
        fall back to straight line × detour."""
        straight, _ = PointIndex(station_lats, station_lons).nearest(lats, lons)
        fallback = straight * detour
        if self.nodes == 0 or len(station_lats) == 0:
            return fallback
        s_off, s_node = self.snap(station_lats, station_lons)
        ok = s_off <= MAX_SNAP_M
        # A super-source joined to every station's road node by its off-road leg.
        n = self.nodes
        src = np.full(int(ok.sum()), n)
        extra = coo_matrix(
            (np.maximum(s_off[ok] * detour, 1e-3), (src, s_node[ok])), shape=(n + 1, n + 1)
        )
        base = coo_matrix(self.graph)
        grown = (
            coo_matrix((base.data, (base.row, base.col)), shape=(n + 1, n + 1)).tocsr()
            + extra.tocsr()
        )
        along = np.asarray(dijkstra(grown, directed=True, indices=n), dtype=np.float64)[:n]
        p_off, p_node = self.snap(lats, lons)
        network = p_off * detour + along[p_node]
        use = (p_off <= MAX_SNAP_M) & np.isfinite(network)
        return np.where(use, network, fallback)

    def reach(
        self,
        source_lats: FloatArray,
        source_lons: FloatArray,
        target_lats: FloatArray,
        target_lons: FloatArray,
        radius_m: FloatArray,
        detour: float,
        chunk: int = 64,
    ) -> list[list[int]]:
        """For each target, the sources within `radius_m[target]` along the roads."""
        t_off, t_node = self.snap(target_lats, target_lons)
        s_off, s_node = self.snap(source_lats, source_lons)
        out: list[list[int]] = [[] for _ in range(len(target_lats))]
        if self.nodes == 0 or len(source_lats) == 0:
            return out
        limit = float(np.max(radius_m)) if len(radius_m) else 0.0
        on_net = t_off <= MAX_SNAP_M
        for start in range(0, len(source_lats), chunk):
            idx = np.arange(start, min(start + chunk, len(source_lats)))
            dist = np.asarray(
                dijkstra(self.graph, directed=True, indices=s_node[idx], limit=limit),
                dtype=np.float64,
            )
            total = dist[:, t_node] + (s_off[idx, None] + t_off[None, :]) * detour
            hit = (total <= radius_m[None, :]) & on_net[None, :] & (s_off[idx, None] <= MAX_SNAP_M)
            for row, col in zip(*np.nonzero(hit), strict=True):
                out[int(col)].append(int(idx[row]))
        return out


@dataclass(frozen=True)
class DistanceModel:
    """How charging distance is measured."""

    detour_factor: float = DEFAULT_DETOUR
    network: RoadNetwork | None = None

    def describe(self) -> str:
        if self.network is not None:
            return (
                f"along the loaded road network ({self.network.nodes} nodes); legs off it "
                f"straight × {self.detour_factor}"
            )
        return f"straight line × detour factor {self.detour_factor}"

    def nearest(
        self, lats: FloatArray, lons: FloatArray, station_lats: FloatArray, station_lons: FloatArray
    ) -> FloatArray:
        """Charging distance (m) from each point to its nearest station."""
        if self.network is not None:
            return self.network.distance_to_nearest(
                lats, lons, station_lats, station_lons, self.detour_factor
            )
        straight, _ = PointIndex(station_lats, station_lons).nearest(lats, lons)
        return straight * self.detour_factor

    def covering(
        self,
        cand_lats: FloatArray,
        cand_lons: FloatArray,
        lats: FloatArray,
        lons: FloatArray,
        radius_m: FloatArray,
    ) -> list[list[int]]:
        """For each demand point, the candidates within its radius (charging distance)."""
        if self.network is not None:
            return self.network.reach(
                cand_lats, cand_lons, lats, lons, radius_m, self.detour_factor
            )
        return PointIndex(cand_lats, cand_lons).within(lats, lons, radius_m / self.detour_factor)
