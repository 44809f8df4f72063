"""The ``duvo-tui`` command line. Command modules are imported only when their command runs."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    parser = argparse.ArgumentParser(prog="duvo-tui", description="Terminal dashboard for the Duvo Public API.")
    parser.add_argument("--version", action="version", version="duvo-tui 0.1.0")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``duvo-tui`` console script. Returns the exit status."""
    parser = build_parser()
    parser.parse_args(sys.argv[1:] if argv is None else argv)
    return 0
