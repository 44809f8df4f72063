"""Sandbox files on disk, path rules and signed upload tokens.

A sandbox's ``/workspace`` is a directory on disk. Every path the API receives must be absolute and stay
inside ``/workspace``: ``..`` segments, other roots, backslashes and NUL/control characters are refused.

Presigned upload URLs are ``{base}/upload/{token}``; the token is ``base64url(json).hex-hmac`` over the
sandbox id, the destination path and the expiry time, signed with a per-server secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import posixpath
import time
from pathlib import Path

__all__ = [
    "WORKSPACE",
    "PathRefused",
    "TokenRefused",
    "disk_path",
    "list_dir",
    "list_tree",
    "normalise",
    "read_text",
    "sign_upload",
    "verify_upload",
]

WORKSPACE = "/workspace"


class PathRefused(ValueError):
    """A sandbox path that is malformed or escapes ``/workspace``."""


class TokenRefused(ValueError):
    """An upload token that is forged or expired (``code`` says which)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def normalise(path: str) -> str:
    """The canonical form of a sandbox path, or :class:`PathRefused`."""
    if not isinstance(path, str) or not path:
        raise PathRefused("path must be a non-empty string")
    if any(ord(c) < 32 or ord(c) == 127 for c in path) or "\\" in path:
        raise PathRefused("path contains control characters or backslashes")
    if not path.startswith("/"):
        raise PathRefused(f"path must be absolute and under {WORKSPACE}")
    parts = path.split("/")
    if any(part in ("..", ".") for part in parts):
        raise PathRefused("path must not contain '.' or '..' segments")
    clean = posixpath.normpath(path)
    if clean.startswith("//"):
        clean = "/" + clean.lstrip("/")
    if clean != WORKSPACE and not clean.startswith(WORKSPACE + "/"):
        raise PathRefused(f"path must be inside {WORKSPACE}")
    return clean


def disk_path(root: Path, path: str) -> Path:
    """Where the (normalised) sandbox ``path`` lives under ``root``."""
    rel = normalise(path)[len(WORKSPACE) :].lstrip("/")
    target = (root / rel) if rel else root
    # Defence in depth against symlinks planted on disk.
    if os.path.commonpath([os.path.realpath(target), os.path.realpath(root)]) != os.path.realpath(root):
        raise PathRefused(f"path must be inside {WORKSPACE}")
    return target


def list_dir(root: Path, path: str) -> list[dict]:
    """One directory level as API entries; FileNotFoundError / NotADirectoryError as appropriate."""
    base = normalise(path)
    target = disk_path(root, base)
    if not target.exists():
        raise FileNotFoundError(base)
    if not target.is_dir():
        raise NotADirectoryError(base)
    entries = []
    for entry in sorted(os.scandir(target), key=lambda e: e.name):
        if entry.name.startswith(".upload-"):
            continue  # an upload still being written
        is_dir = entry.is_dir(follow_symlinks=False)
        entries.append(
            {
                "name": entry.name,
                "path": posixpath.join(base, entry.name),
                "type": "dir" if is_dir else "file",
                "size_bytes": 0 if is_dir else entry.stat(follow_symlinks=False).st_size,
            }
        )
    return entries


def list_tree(root: Path) -> list[tuple[str, int]]:
    """(sandbox path, size) of every file under ``root``, sorted by path."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if name.startswith(".upload-"):
                continue
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            found.append((f"{WORKSPACE}/{rel}", full.stat().st_size))
    return sorted(found)


def read_text(root: Path, path: str, limit: int = 400) -> str:
    """The first ``limit`` characters of a file, decoded leniently ('' when unreadable)."""
    try:
        with disk_path(root, path).open("rb") as handle:
            return handle.read(limit * 4).decode("utf-8", errors="replace")[:limit]
    except (OSError, PathRefused):
        return ""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def sign_upload(secret: bytes, sandbox_id: str, path: str, ttl: float) -> tuple[str, float]:
    """A token for a PUT of ``path`` into ``sandbox_id`` valid ``ttl`` seconds; returns (token, expiry)."""
    expires = time.time() + ttl
    payload = _b64(json.dumps({"s": sandbox_id, "p": path, "e": round(expires, 3)}, separators=(",", ":")).encode())
    signature = hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{signature}", expires


def verify_upload(secret: bytes, token: str) -> tuple[str, str]:
    """(sandbox id, path) of a valid token, or :class:`TokenRefused`."""
    payload, _, signature = token.partition(".")
    expected = hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()
    if not signature or not hmac.compare_digest(signature, expected):
        raise TokenRefused("invalid_signature", "The upload URL's signature is not valid.")
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        sandbox_id, path, expires = str(data["s"]), str(data["p"]), float(data["e"])
    except (ValueError, KeyError, TypeError) as exc:
        raise TokenRefused("invalid_signature", "The upload URL is malformed.") from exc
    if time.time() > expires:
        raise TokenRefused("url_expired", "The upload URL has expired; request a new one.")
    return sandbox_id, path
