"""A writer stores its partitions in lanes (`CHARGENET_WRITER_LANES`), each a round loop
on a connection of its own: a partition is in exactly one lane, so its rounds still
commit one after the other, in stream order; a lane has two partitions at least."""

from __future__ import annotations

import pytest

from chargenet.adapters.bus.jetstream import BUCKETS, Layout
from chargenet.config import Settings
from chargenet.entrypoints.cluster import writer_lanes


@pytest.mark.parametrize(
    ("partitions", "buckets", "lanes", "expected"),
    [
        (4, range(BUCKETS), 2, [[0, 1], [2, 3]]),
        (4, range(BUCKETS), 1, [[0, 1, 2, 3]]),
        (4, range(32, 64), 2, [[2, 3]]),  # the second of two writers: 2 partitions a lane
        (4, range(16), 2, [[0]]),
        (1, range(BUCKETS), 2, [[0]]),
        (8, range(BUCKETS), 2, [[0, 1, 2, 3], [4, 5, 6, 7]]),
        (64, range(BUCKETS), 3, [list(range(0, 21)), list(range(21, 42)), list(range(42, 64))]),
    ],
)
def test_each_partition_of_a_writer_is_in_exactly_one_lane(
    partitions: int, buckets: range, lanes: int, expected: list[list[int]]
) -> None:
    layout = Layout(partitions)
    found = writer_lanes(layout, list(buckets), lanes)
    assert [layout.partitions_of(lane) for lane in found] == expected
    assert sorted(b for lane in found for b in lane) == list(buckets)


def test_lanes_are_set_by_the_environment() -> None:
    assert Settings.from_env({}).writer_lanes == 2
    assert Settings.from_env({"CHARGENET_WRITER_LANES": "1"}).writer_lanes == 1
