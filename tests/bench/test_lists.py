"""`python -m bench.lists` on a short list, so that it keeps working (timings are printed,
never asserted)."""

from __future__ import annotations

import pytest
from bench.lists import main


def test_the_list_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--entries", "300"]) == 0
    printed = capsys.readouterr().out
    assert "one list of 300 entries" in printed
    assert "a part nothing contains" in printed
