"""Memory of a freshly built decision index, measured in a process of its own.

`python -m bench.memory URL` prints JSON: the resident-set growth of building the index,
and its list entries with the bytes their bitmaps take.
"""

from __future__ import annotations

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


if __name__ == "__main__":
    print(json.dumps(measure_index(sys.argv[1], rss_bytes)))
