"""The ``duvo-tui`` command line: argparse, global options, exit codes.

Each command module (``duvo_tui.cli.<name>``) exposes ``register(subparsers) -> None``, which adds its
parsers and sets ``handler=fn`` with ``fn(args) -> int``. A module may also expose
``default_handler(args) -> int``, run when no command is given (the dashboard does), and
``register_options(parser) -> None`` to add that default command's own options to the top-level parser.
Command modules keep their heavy imports (httpx, Textual, the emulator) inside the handlers.

Exit status: 0 ok, 1 the API refused or failed, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from duvo_tui import __version__
from duvo_tui.cli.secrets import scrub

__all__ = ["COMMAND_MODULES", "GLOBAL_DEFAULTS", "build_parser", "main"]

COMMAND_MODULES = ("runs", "account", "sandbox", "watch", "emulator", "dashboard", "serve")
"""The command modules, in the order their commands are listed in ``--help``."""

GLOBAL_DEFAULTS: dict[str, Any] = {
    "profile": None, "base_url": None, "config": None, "json": False, "debug": False, "read_only": False,
}  # fmt: skip
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
        group.add_argument(
            "--read-only", action="store_true", default=suppress, help="refuse anything that changes something"
        )

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        # A mistyped command is one line naming the nearest command, not argparse's usage block.
        if isinstance(action, argparse._SubParsersAction) and value not in action.choices:
            import difflib

            commands = list(action.choices)
            nearest = difflib.get_close_matches(value, commands, n=1, cutoff=0.5)
            hint = f"; did you mean {nearest[0]!r}?" if nearest else f" (commands: {', '.join(commands)})"
            self.exit(EXIT_USAGE, f"{self.prog}: error: unknown command {value!r}{hint}\n")
        super()._check_value(action, value)


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
        if hasattr(module, "register_options"):
            module.register_options(parser)  # options of the default command (no command given)
    return parser


def _default_handler(modules: Sequence[ModuleType]) -> Handler | None:
    for module in modules:
        handler: Handler | None = getattr(module, "default_handler", None)
        if handler is not None:
            return handler
    return None


def _error(message: str) -> None:
    print(f"duvo-tui: error: {scrub(message)}", file=sys.stderr)


def _new_debug_log() -> Path:
    from duvo_tui.cli.context import UsageError
    from duvo_tui.cli.debug_log import new_log_file

    try:
        return new_log_file()
    except OSError as error:
        raise UsageError(f"--debug: cannot make the debug log file: {error}") from None


def _exit_status(error: Exception) -> int | None:
    """The exit status of an expected error (printed as one line), None for a bug."""
    from duvo_tui.cli.context import UsageError
    from duvo_tui.config import ConfigError

    if isinstance(error, (ConfigError, UsageError)):
        return EXIT_USAGE
    # Only a loaded API can have raised a DuvoError; importing it here would pull in httpx for nothing.
    errors = sys.modules.get("duvo_tui.api.errors")
    if errors is not None and isinstance(error, errors.InvalidInputError):
        return EXIT_USAGE  # the client refused the input before sending anything
    if errors is not None and isinstance(error, errors.DuvoError):
        return EXIT_API
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``duvo-tui`` console script. Returns the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in arguments
    undo_logging: Callable[[], None] | None = None
    debug_log: Path | None = None
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
        handler: Handler | None = getattr(args, "handler", None)
        # A full-screen dashboard owns the terminal: its debug log goes to a file (default command: the dashboard).
        full_screen = bool(getattr(args, "full_screen", False))
        if handler is None:
            handler, full_screen = _default_handler(modules), True
        if handler is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        if debug:
            from duvo_tui.cli.debug_log import setup_debug_logging

            if full_screen:
                debug_log = args.debug_log = _new_debug_log()
            undo_logging = setup_debug_logging(debug_log)
        return int(handler(args) or 0)
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
    except Exception as error:  # the one place that turns any failure into one line
        status = _exit_status(error)
        if status is not None:
            from duvo_tui.text import clean_line

            _error(clean_line(str(error)))
            return status
        if debug:
            import traceback

            print(scrub("".join(traceback.format_exception(error))), file=sys.stderr, end="")
        from duvo_tui.text import clean_line

        hint = "" if debug else " (run with --debug for details)"
        _error(f"unexpected {type(error).__name__}: {clean_line(str(error), 300)}{hint}")
        return EXIT_API
    finally:
        if undo_logging is not None:
            undo_logging()
        if debug_log is not None:
            from duvo_tui.cli.debug_log import shown_path

            print(f"duvo-tui: debug log: {shown_path(debug_log)}", file=sys.stderr)
