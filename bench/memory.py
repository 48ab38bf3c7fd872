"""Memory of a freshly built decision index, measured in a process of its own.

`python -m bench.memory URL` prints JSON: the resident-set growth of building the index,
its accounts and list entries, the bytes the index reckons its lists take, and the heap its
lists' bitmaps were measured to take (glibc's allocator statistics around copying them:
roaring keeps its containers in native memory, which no Python-level size sees).
"""

from __future__ import annotations

import ctypes
import functools
import json
import sys
from pathlib import Path

from bench.offerscope_api import measure_index


def rss_bytes() -> int:
    """This process's resident set size (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in [
            *("arena", "ordblks", "smblks", "hblks", "hblkhd"),
            *("usmblks", "fsmblks", "uordblks", "fordblks", "keepcost"),
        ]
    ]


@functools.cache
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    return libc


def heap_bytes() -> int:
    """Bytes allocated through malloc now and not freed (glibc): native memory included."""
    info = _libc().mallinfo2()
    return int(info.uordblks + info.hblkhd)


if __name__ == "__main__":
    print(json.dumps(measure_index(sys.argv[1], rss_bytes, heap_bytes)))
