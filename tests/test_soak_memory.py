"""The soak's memory figures: the growth fit that separates warm-up from steady state, and the samples."""

from __future__ import annotations

import sys

import pytest

from duvo_tui.bench import soak_memory
from duvo_tui.bench.soak_memory import MemorySample, format_samples, growth, growth_lines, slope


def test_slope_of_a_line_is_its_gradient() -> None:
    times = [0.0, 30.0, 60.0, 90.0]
    assert slope(times, [10 + 0.5 * t for t in times]) == pytest.approx(0.5)
    assert slope(times, [7.0] * 4) == pytest.approx(0.0)


def test_slope_needs_two_distinct_times() -> None:
    assert slope([], []) is None
    assert slope([5.0], [1.0]) is None
    assert slope([5.0, 5.0], [1.0, 2.0]) is None
    with pytest.raises(ValueError):
        slope([1.0, 2.0], [1.0])


def test_growth_separates_a_warm_up_from_a_flat_steady_state() -> None:
    # 60 MiB rising 4 MiB/min for five minutes, then flat for five minutes (samples every 30 s).
    times = [30.0 * i for i in range(21)]
    values = [60 + 4 * min(t, 300.0) / 60 for t in times]
    warm, steady = growth(times, values)
    assert warm == pytest.approx(4.0)
    assert steady == pytest.approx(0.0, abs=1e-9)


def test_growth_reports_steady_growth_in_the_second_half() -> None:
    times = [30.0 * i for i in range(21)]
    values = [100 + 2.5 * t / 60 for t in times]  # never levels off
    warm, steady = growth(times, values)
    assert warm == pytest.approx(2.5)
    assert steady == pytest.approx(2.5)


def test_growth_with_too_few_samples() -> None:
    assert growth([], []) == (None, None)
    assert growth([0.0], [1.0]) == (None, None)


def test_a_sample_measures_this_process() -> None:
    taken = soak_memory.sample(12.0, None, runs=3, messages=40)
    assert taken.t == 12.0 and taken.runs == 3 and taken.messages == 40
    assert taken.rss > 1.0
    assert taken.emulator_rss is None
    assert taken.heap_blocks > 0
    if sys.platform.startswith("linux") and soak_memory.malloc_info() is not None:
        assert taken.malloc_used is not None and taken.malloc_used > 0


def test_the_table_and_growth_lines_show_every_sample() -> None:
    samples = [
        MemorySample(
            t=30.0 * i,
            rss=60 + i,
            emulator_rss=40 + 2 * i,
            heap_blocks=1000,
            traced=None,
            malloc_used=5.0,
            malloc_free=1.0,
            runs=10,
            messages=100 * i,
        )
        for i in range(5)
    ]
    table = format_samples(samples)
    assert len(table) == 1 + len(samples)
    assert "64.0" in table[-1] and "48.0" in table[-1]
    lines = growth_lines(samples)
    rss_line = next(line for line in lines if line.startswith("dashboard RSS"))
    assert "2.00 MiB/min" in rss_line  # 1 MiB per 30 s
    assert not any(line.startswith("tracemalloc") for line in lines)  # not measured: not shown
