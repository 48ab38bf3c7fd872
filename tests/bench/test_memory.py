"""Goal 8: the index's reckoning of its lists' memory agrees with the heap they take.

The heap is measured with glibc's allocator statistics around copying the bitmaps (roaring
keeps its containers in native memory); no timing is asserted."""

from __future__ import annotations

import functools
import random

import pytest
from bench.memory import heap_bytes
from pyroaring import BitMap

from offerscope.index.state import IndexState


@functools.cache
def _shapes() -> dict[str, list[int]]:
    draw = random.Random(8)
    return {
        # what a 1,000,000-row import makes: every account, consecutive keys (runs)
        "consecutive": list(range(1, 200_001)),
        "scattered": sorted(draw.sample(range(1, 2_000_001), 200_000)),  # bitsets
        "sparse": sorted(draw.sample(range(1, 20_000_001), 20_000)),  # arrays
    }


@pytest.mark.parametrize("shape", ["consecutive", "scattered", "sparse"])
def test_list_bytes_is_within_a_third_of_the_measured_heap(shape: str) -> None:
    state = IndexState()
    for list_pk in range(1, 21):
        state.lists[list_pk] = BitMap(_shapes()[shape])
    reckoned = state.list_bytes()
    before = heap_bytes()
    copies = [bitmap.copy() for bitmap in state.lists.values()]
    measured = heap_bytes() - before
    assert len(copies) == 20
    assert measured > 0
    assert 0.67 < reckoned / measured < 1.5, (reckoned, measured)
