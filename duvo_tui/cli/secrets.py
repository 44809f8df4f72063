"""Keeping API keys out of everything the command line prints, even tracebacks and debug logs."""

from __future__ import annotations

import os
import re

from duvo_tui.text import mask_key

__all__ = ["register_secret", "scrub"]

_secrets: set[str] = set()
# Anything shaped like a Duvo key, in case one reaches a message by a path we did not foresee.
_KEY_SHAPE = re.compile(r"\bdv_[A-Za-z0-9_\-]{8,}")


def register_secret(value: str | None) -> None:
    """Remember ``value`` (an API key) so that :func:`scrub` masks it."""
    if value and len(value) >= 4:
        _secrets.add(value)


def scrub(text: str) -> str:
    """``text`` with every known key, and anything shaped like a key, masked."""
    env_key = os.environ.get("DUVO_API_KEY")
    for secret in sorted(_secrets | ({env_key} if env_key and len(env_key) >= 4 else set()), key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, mask_key(secret))
    return _KEY_SHAPE.sub(lambda match: mask_key(match.group(0)), text)
