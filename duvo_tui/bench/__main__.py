"""``python -m duvo_tui.bench NAME [options]``: run the benchmark module ``duvo_tui.bench.NAME``."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import duvo_tui.bench as bench

HELPERS = {"__main__", "idle_requests", "ptyrun", "soak_emulator", "soak_memory"}
"""Modules of the package that are not benchmarks."""


def main() -> int:
    # Only the chosen module is imported (a benchmark's heavy imports stay out of the others).
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name not in HELPERS)
    if len(sys.argv) < 2 or sys.argv[1] not in names:
        print(f"usage: python -m duvo_tui.bench {{{','.join(names)}}} [options]", file=sys.stderr)
        return 2
    module = importlib.import_module(f"duvo_tui.bench.{sys.argv[1]}")
    return int(module.main(sys.argv[2:]) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
