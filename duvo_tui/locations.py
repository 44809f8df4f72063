"""Where duvo-tui keeps its files.

``DUVO_TUI_HOME`` (used by tests and the demo) puts config, state and runtime files under
one folder; otherwise the platform's directories are used.
"""

from __future__ import annotations

import os
import stat
import sys
import warnings
from importlib.resources import files
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
    """Lock files and the shared rate-budget file: what only matters while processes run.

    On Linux and the BSDs, ``$XDG_RUNTIME_DIR/duvo-tui`` when that variable names a folder of this user's that
    nobody else may use (as the XDG spec asks). Without one (root over SSH, containers, cron) the folder
    ``run`` in the state dir, which is private too; nothing is printed about it.
    """
    home = _home()
    if home:
        return home / "run"
    if os.name == "posix" and sys.platform != "darwin":
        base = os.environ.get("XDG_RUNTIME_DIR", "")
        return Path(base, APP_NAME) if _private_runtime_base(base) else state_dir() / "run"
    with warnings.catch_warnings():
        # platformdirs warns (RuntimeDirWarning) about an unusable XDG_RUNTIME_DIR; the fallback says enough.
        warnings.simplefilter("ignore")
        try:
            return Path(platformdirs.user_runtime_dir(APP_NAME))
        except Exception:  # some platforms have none; the state dir will do
            return state_dir() / "run"


def _private_runtime_base(path: str) -> bool:
    """True for an absolute path to a real folder (not a symlink) owned by this user, closed to others."""
    if not os.path.isabs(path):
        return False
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & _OTHERS


def styles_dir() -> Path:
    """The folder of the dashboard's stylesheets (``*.tcss``).

    An installed wheel carries them inside the package (``duvo_tui/styles``: the build maps the repository's
    top-level ``styles/`` there). Only a checkout, which an editable install imports the package from, has them
    beside the package instead.
    """
    package = Path(str(files("duvo_tui")))
    packaged = package / "styles"
    checkout = package.parent
    if not packaged.is_dir() and (checkout / "pyproject.toml").is_file() and (checkout / "styles").is_dir():
        return checkout / "styles"
    return packaged


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` readable by the owner only, and so every missing parent it creates (folders that
    exist already keep their mode: :func:`state_exposure` tells about those)."""
    missing = []
    folder = path
    while not folder.exists() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # made meanwhile by another process
            pass
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


_OTHERS = stat.S_IRWXG | stat.S_IRWXO


def open_to_others(path: Path, *, follow_symlinks: bool = True) -> bool:
    """True when users other than the owner (group or others) have any permission on ``path``.

    False when ``path`` cannot be looked at, and for a symlink itself (its own mode means nothing).
    """
    try:
        mode = os.stat(path, follow_symlinks=follow_symlinks).st_mode
    except (OSError, ValueError):
        return False
    return not stat.S_ISLNK(mode) and bool(mode & _OTHERS)


def state_exposure(root: Path | None = None, *, limit: int = 5000) -> str | None:
    """One line for the user when the state dir, or a file or folder in it, is open to other users.

    The state holds tracked runs, answer drafts, upload records and the last session: nobody else should
    read them. None when all is private (or there is no state yet). At most ``limit`` entries are looked at.
    """
    root = state_dir() if root is None else root
    exposed = int(open_to_others(root))
    seen = 0
    try:
        for folder, dirs, files in os.walk(root):
            for name in (*dirs, *files):
                seen += 1
                exposed += open_to_others(Path(folder, name), follow_symlinks=False)
            if seen >= limit:
                break
    except OSError:
        pass
    if not exposed:
        return None
    count = "1 file or folder is" if exposed == 1 else f"{exposed} files or folders are"
    return (
        f"other users may read duvo-tui's saved state in {root} (tracked runs, answer drafts, upload records): "
        f"{count} open to group or others; run: chmod -R go-rwx '{root}'"
    )


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
