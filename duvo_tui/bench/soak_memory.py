"""Memory samples for the soak: what a process holds, and whether it keeps growing.

A sample is taken about every 30 s: the dashboard process's RSS, the emulator process's RSS, the Python
heap (``sys.getallocatedblocks``; tracemalloc's current size when tracing), what glibc's malloc has in
use and holds free (``mallinfo2``), and how much the dashboard tracks (runs, messages held).
:func:`slope` fits a line (least squares) to a series; :func:`growth` gives the slope over the first
half (warm-up: the first runs and their messages arrive) and the second half (steady state).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["MemorySample", "growth", "malloc_info", "malloc_trim", "rss_mib", "slope"]

MIB = 2**20


@dataclass
class MemorySample:
    """One look at memory, ``t`` seconds into the soak."""

    t: float
    rss: float
    """The dashboard process's resident memory, MiB."""
    emulator_rss: float | None
    heap_blocks: int
    """Python objects' memory blocks allocated (``sys.getallocatedblocks``)."""
    traced: float | None
    """tracemalloc's current traced size, MiB (None when not tracing)."""
    malloc_used: float | None
    """glibc malloc: bytes in use (arenas + mmapped chunks), MiB."""
    malloc_free: float | None
    """glibc malloc: bytes free but kept in the arenas, MiB."""
    runs: int
    messages: int


def rss_mib(pid: int | None = None) -> float:
    """The resident memory of process ``pid`` (this one by default), MiB."""
    import psutil

    return psutil.Process(pid).memory_info().rss / MIB


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


_LIBC = _libc()


def malloc_info() -> tuple[float, float] | None:
    """(in use, free but held) by glibc's malloc in this process, MiB; None without glibc 2.33+."""
    function = getattr(_LIBC, "mallinfo2", None)
    if function is None:
        return None
    function.restype = _Mallinfo2
    info = function()
    return (info.uordblks + info.hblkhd) / MIB, info.fordblks / MIB


def malloc_trim() -> bool:
    """Ask glibc to give free memory back to the system (``malloc_trim(0)``); False without glibc."""
    function = getattr(_LIBC, "malloc_trim", None)
    if function is None:
        return False
    function(0)
    return True


def sample(t: float, emulator_pid: int | None, runs: int, messages: int) -> MemorySample:
    """Take one :class:`MemorySample` now."""
    emulator_rss = None
    if emulator_pid is not None:
        try:
            emulator_rss = rss_mib(emulator_pid)
        except Exception:  # the emulator process is gone: the report says so by a missing figure
            emulator_rss = None
    malloc = malloc_info()
    return MemorySample(
        t=t,
        rss=rss_mib(),
        emulator_rss=emulator_rss,
        heap_blocks=sys.getallocatedblocks(),
        traced=tracemalloc.get_traced_memory()[0] / MIB if tracemalloc.is_tracing() else None,
        malloc_used=malloc[0] if malloc else None,
        malloc_free=malloc[1] if malloc else None,
        runs=runs,
        messages=messages,
    )


def slope(times: Sequence[float], values: Sequence[float]) -> float | None:
    """The least-squares slope of ``values`` over ``times`` (per unit of time); None with under 2 points."""
    if len(times) != len(values):
        raise ValueError("times and values differ in length")
    n = len(times)
    if n < 2:
        return None
    mean_t = sum(times) / n
    mean_v = sum(values) / n
    spread = sum((t - mean_t) ** 2 for t in times)
    if spread == 0:
        return None
    return sum((t - mean_t) * (v - mean_v) for t, v in zip(times, values, strict=True)) / spread


def growth(times_s: Sequence[float], values: Sequence[float]) -> tuple[float | None, float | None]:
    """(warm-up, steady) growth per minute: the slopes over the first and the second half of the soak.

    The halves split at the middle of the time span; each half's fit uses the samples inside it (the middle
    sample belongs to both), so a run that levels off shows a steady slope near zero.
    """
    if not times_s:
        return None, None
    middle = (times_s[0] + times_s[-1]) / 2
    first = [(t, v) for t, v in zip(times_s, values, strict=True) if t <= middle]
    second = [(t, v) for t, v in zip(times_s, values, strict=True) if t >= middle]

    def per_minute(points: list[tuple[float, float]]) -> float | None:
        fitted = slope([t for t, _ in points], [v for _, v in points])
        return None if fitted is None else fitted * 60

    return per_minute(first), per_minute(second)


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_samples(samples: Sequence[MemorySample]) -> list[str]:
    """The samples as a text table, one line each."""
    lines = [
        f"{'t s':>6} {'RSS MiB':>8} {'emu RSS':>8} {'py blocks':>10} {'traced':>7} "
        f"{'malloc used':>11} {'malloc free':>11} {'runs':>5} {'messages':>9}"
    ]
    for s in samples:
        lines.append(
            f"{s.t:>6.0f} {s.rss:>8.1f} {_fmt(s.emulator_rss):>8} {s.heap_blocks:>10} {_fmt(s.traced):>7} "
            f"{_fmt(s.malloc_used):>11} {_fmt(s.malloc_free):>11} {s.runs:>5} {s.messages:>9}"
        )
    return lines


def growth_lines(samples: Sequence[MemorySample]) -> list[str]:
    """Warm-up and steady growth per minute of each series that was measured."""
    times = [s.t for s in samples]
    series: list[tuple[str, list[float | None], str]] = [
        ("dashboard RSS", [s.rss for s in samples], "MiB"),
        ("emulator RSS", [s.emulator_rss for s in samples], "MiB"),
        ("Python blocks", [float(s.heap_blocks) / 1000 for s in samples], "k blocks"),
        ("tracemalloc current", [s.traced for s in samples], "MiB"),
        ("malloc in use", [s.malloc_used for s in samples], "MiB"),
        ("messages held", [float(s.messages) for s in samples], "messages"),
    ]
    lines = []
    for label, values, unit in series:
        if not values or any(v is None for v in values):
            continue
        warm, steady = growth(times, [float(v) for v in values if v is not None])
        lines.append(f"{label:22} warm-up {_fmt(warm, 2):>8} {unit}/min, steady {_fmt(steady, 2):>8} {unit}/min")
    return lines
