"""Where duvo-tui keeps its files.

``DUVO_TUI_HOME`` (used by tests and the demo) puts config, state and runtime files under
one folder; otherwise the platform's directories are used.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "duvo-tui"


def _home() -> Path | None:
    home = os.environ.get("DUVO_TUI_HOME")
    return Path(home) if home else None


def config_dir() -> Path:
    """The folder of ``config.toml``."""
    home = _home()
    return home / "config" if home else Path(platformdirs.user_config_dir(APP_NAME))


def config_file() -> Path:
    """The default config file."""
    return config_dir() / "config.toml"


def state_dir() -> Path:
    """Tracked runs, drafts, upload ledgers: what must survive a restart."""
    home = _home()
    return home / "state" if home else Path(platformdirs.user_state_dir(APP_NAME))


def runtime_dir() -> Path:
    """Lock files and the shared rate-budget file: what only matters while processes run."""
    home = _home()
    if home:
        return home / "run"
    try:
        return Path(platformdirs.user_runtime_dir(APP_NAME))
    except Exception:  # some platforms have none; the state dir will do
        return state_dir() / "run"


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by the owner only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def atomic_write(path: Path, data: bytes | str, *, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new one, never half of one."""
    ensure_private_dir(path.parent)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
