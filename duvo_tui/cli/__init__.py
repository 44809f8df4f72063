"""The ``duvo-tui`` command line: argparse, global options, exit codes.

Each command module (``duvo_tui.cli.<name>``) exposes ``register(subparsers) -> None``, which adds its
parsers and sets ``handler=fn`` with ``fn(args) -> int``. A module may also expose
``default_handler(args) -> int``, run when no command is given (the dashboard does).
Command modules keep their heavy imports (httpx, Textual, the emulator) inside the handlers.

Exit status: 0 ok, 1 the API refused or failed, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from duvo_tui import __version__
from duvo_tui.cli.secrets import scrub

__all__ = ["COMMAND_MODULES", "GLOBAL_DEFAULTS", "build_parser", "main"]

COMMAND_MODULES = ("runs", "sandbox", "watch", "emulator", "dashboard")
"""The command modules, in the order their commands are listed in ``--help``."""

GLOBAL_DEFAULTS: dict[str, Any] = {"profile": None, "base_url": None, "config": None, "json": False, "debug": False}
"""The global options and their values when not given."""

EXIT_OK, EXIT_API, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

Handler = Callable[[argparse.Namespace], int]


class CommandParser(argparse.ArgumentParser):
    """An ArgumentParser that accepts the global options, so they work before and after any command."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        group = self.add_argument_group("global options")
        # SUPPRESS: a subcommand's parser must not reset what was given before the subcommand.
        suppress = argparse.SUPPRESS
        group.add_argument("--profile", metavar="NAME", default=suppress, help="the config profile to use")
        group.add_argument("--base-url", metavar="URL", default=suppress, help="the API's base URL (overrides all)")
        group.add_argument("--config", metavar="PATH", default=suppress, help="the config file to read")
        group.add_argument("--json", action="store_true", default=suppress, help="machine-readable output")
        group.add_argument("--debug", action="store_true", default=suppress, help="tracebacks and request logs")


def _available_modules() -> list[ModuleType]:
    modules = []
    for name in COMMAND_MODULES:
        qualified = f"{__name__}.{name}"
        if importlib.util.find_spec(qualified) is None:
            continue  # that part of the command line is not installed (yet)
        modules.append(importlib.import_module(qualified))
    return modules


def build_parser(modules: Sequence[ModuleType] | None = None) -> argparse.ArgumentParser:
    """The full argument parser, with the commands of ``modules`` (default: every available command module)."""
    parser = CommandParser(
        prog="duvo-tui",
        description="A keyboard-first terminal dashboard and command line for the Duvo Public API.",
        epilog="Exit status: 0 ok, 1 the API refused or failed, 2 usage or configuration error.",
    )
    parser.add_argument("--version", action="version", version=f"duvo-tui {__version__}")
    subparsers = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    for module in _available_modules() if modules is None else modules:
        module.register(subparsers)
    return parser


def _default_handler(modules: Sequence[ModuleType]) -> Handler | None:
    for module in modules:
        handler = getattr(module, "default_handler", None)
        if handler is not None:
            return handler
    return None


def _error(message: str) -> None:
    print(f"duvo-tui: error: {scrub(message)}", file=sys.stderr)


def _setup_debug_logging() -> None:
    class ScrubbingFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return scrub(super().format(record))

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(ScrubbingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    # These log every byte of the connection; the request lines of httpx are enough.
    for noisy in ("httpcore", "hpack", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``duvo-tui`` console script. Returns the exit status."""
    from duvo_tui.api.errors import DuvoError
    from duvo_tui.cli.context import UsageError
    from duvo_tui.config import ConfigError

    arguments = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in arguments
    try:
        modules = _available_modules()
        parser = build_parser(modules)
        try:
            args = parser.parse_args(arguments)
        except SystemExit as exit_:
            return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
        for key, value in GLOBAL_DEFAULTS.items():
            if not hasattr(args, key):
                setattr(args, key, value)
        debug = bool(args.debug)
        if debug:
            _setup_debug_logging()
        handler: Handler | None = getattr(args, "handler", None)
        if handler is None:
            handler = _default_handler(modules)
        if handler is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return int(handler(args) or 0)
    except (ConfigError, UsageError) as error:
        _error(str(error))
        return EXIT_USAGE
    except DuvoError as error:
        from duvo_tui.text import clean_line

        _error(clean_line(str(error)))
        return EXIT_API
    except KeyboardInterrupt:
        print("duvo-tui: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (duvo-tui ... | head): silence the rest of the output, as Python's docs advise.
        try:
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_API
    except Exception as error:  # the one place that turns a bug into one line
        if debug:
            import traceback

            print(scrub("".join(traceback.format_exception(error))), file=sys.stderr, end="")
        _error(f"unexpected {type(error).__name__}: {error}" + ("" if debug else " (run with --debug for details)"))
        return EXIT_API
