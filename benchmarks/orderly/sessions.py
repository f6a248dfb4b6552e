"""Charging sessions drawn from ElaadNL's published distributions (Dutch public, workplace
and home charging), as shipped in the `ev2gym` package's data folder: arrival time by
quarter hour, mean stay by arrival time, and energy demand percentiles."""

from __future__ import annotations

import csv
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True, slots=True)
class Session:
    arrival_min: float  # from the simulation's start
    stay_min: float
    energy_kwh: float


def _data() -> Path:
    """ev2gym's data folder, found without importing the package (its import pulls in the
    whole gym)."""
    spec = importlib.util.find_spec("ev2gym")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("benchmarks/orderly needs ev2gym installed (pip install ev2gym)")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _rows(name: str) -> list[list[str]]:
    with open(_data() / name, newline="", encoding="utf-8") as file:
        return list(csv.reader(file))[1:]


def arrival_weights(kind: str) -> np.ndarray:
    """Relative arrivals per quarter hour of the day (96)."""
    column = {"private": 1, "public": 2, "workplace": 3}[kind]
    weights = np.array([float(r[column]) for r in _rows("distribution-of-arrival.csv")])
    shares: np.ndarray = weights / weights.sum()
    return shares


def mean_stay_h(kind: str) -> np.ndarray:
    """Mean stay (h) by arrival half hour (48), gaps filled from the neighbours."""
    column = {"private": 1, "public": 2, "workplace": 3}[kind]
    by_slot: dict[int, float] = {}
    for row in _rows("mean-session-length-per.csv"):
        hh, mm = row[0].split(":")
        if len(row) > column and row[column].strip():
            by_slot[int(hh) * 2 + int(mm) // 30] = float(row[column])
    known = sorted(by_slot)
    out = np.empty(48)
    for slot in range(48):
        if slot in by_slot:
            out[slot] = by_slot[slot]
        else:  # nearest known slot on the circle of the day
            nearest = min(known, key=lambda k: min(abs(k - slot), 48 - abs(k - slot)))
            out[slot] = by_slot[nearest]
    return out


def energy_quantiles(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(share of sessions above, kWh): the published exceedance curve."""
    column = {"private": 1, "public": 2, "workplace": 3}[kind]
    rows = _rows("distribution-of-energy-demand.csv")
    share = np.array([float(r[0]) for r in rows]) / 100.0
    kwh = np.array([float(r[column]) for r in rows])
    return share, kwh


def draw(
    kind: str, days: int, per_day: float, seed: int, max_kw: float, weekdays_only: bool = True
) -> list[Session]:
    """Sessions for `days` days: Poisson count per day, arrivals by the quarter-hour
    weights, stay = the mean for the arrival time × a log-normal factor (σ 0.35), energy
    from the exceedance curve, capped at what the plug could give in the stay (a car asks
    no more than it can get)."""
    rng = np.random.default_rng(seed)
    weights = arrival_weights(kind)
    stays = mean_stay_h(kind)
    share, kwh = energy_quantiles(kind)
    order = np.argsort(share)
    out: list[Session] = []
    for day in range(days):
        for _ in range(rng.poisson(per_day)):
            quarter = rng.choice(96, p=weights)
            minute = day * 1440 + quarter * 15 + rng.uniform(0, 15)
            stay_h = stays[quarter // 2] * float(np.exp(rng.normal(0, 0.35)))
            stay_h = float(np.clip(stay_h, 0.5, 20.0))
            energy = float(np.interp(rng.uniform(0, 1), share[order], kwh[order]))
            energy = float(np.clip(energy, 1.0, max_kw * stay_h * 0.95))
            out.append(Session(minute, stay_h * 60, energy))
    out.sort(key=lambda s: s.arrival_min)
    return out
