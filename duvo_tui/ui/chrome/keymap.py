"""The ``[keys]`` table of the config: every binding can be remapped by its id, and what cannot be done
(an id no binding has, a key that two bindings would then share) is reported on start, not ignored.

Bindings are found in the classes of the ``duvo_tui.ui`` modules, so a new widget's keys take part
without being listed here.
"""

from __future__ import annotations

import difflib
import importlib
import logging
import pkgutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.binding import Binding
from textual.dom import DOMNode

if TYPE_CHECKING:
    from textual.app import App

__all__ = ["GLOBAL_SCOPES", "BindingInfo", "all_bindings", "apply_keymap", "keymap_problems"]

log = logging.getLogger(__name__)

GLOBAL_SCOPES = ("DuvoApp", "DashboardScreen")
"""Classes whose bindings are active whatever has focus: a key taken there clashes with every scope."""


@dataclass(frozen=True)
class BindingInfo:
    """One binding of one class: its id, keys, action and the class (its scope)."""

    id: str | None
    keys: tuple[str, ...]
    action: str
    scope: str
    modal: bool = False
    """Declared by a dialog screen: only active while that dialog is open."""


def _split(keys: str) -> tuple[str, ...]:
    return tuple(k.strip() for k in keys.split(",") if k.strip())


def _ui_classes() -> Iterable[type]:
    import duvo_tui.ui as package

    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
        try:
            module = importlib.import_module(info.name)
        except Exception:  # a module that cannot be imported has no bindings to offer
            log.debug("keymap: cannot import %s", info.name, exc_info=True)
            continue
        for name, value in vars(module).items():
            # Each class by its own name only: a module may name it twice (``make_app = DuvoApp``).
            if isinstance(value, type) and issubclass(value, DOMNode) and value.__module__ == module.__name__:
                if value.__name__ == name:
                    yield value


def all_bindings() -> list[BindingInfo]:
    """Every binding declared by a class of the UI (tuples included, so missing ids can be found)."""
    from textual.screen import Screen

    found: list[BindingInfo] = []
    for cls in _ui_classes():
        modal = issubclass(cls, Screen) and cls.__name__ not in GLOBAL_SCOPES
        for item in cls.__dict__.get("BINDINGS", []):
            if isinstance(item, Binding):
                found.append(BindingInfo(item.id, _split(item.key), item.action, cls.__name__, modal))
            elif isinstance(item, tuple) and item:
                action = str(item[1]) if len(item) > 1 else ""
                found.append(BindingInfo(None, _split(item[0]), action, cls.__name__, modal))
    return found


def keymap_problems(keymap: Mapping[str, str], bindings: list[BindingInfo] | None = None) -> list[str]:
    """What is wrong with ``keymap`` (binding id -> keys): unknown ids, empty keys, and clashes."""
    bindings = all_bindings() if bindings is None else bindings
    by_id = {b.id: b for b in bindings if b.id}
    problems: list[str] = []
    for binding_id, keys in keymap.items():
        if binding_id not in by_id:
            close = difflib.get_close_matches(binding_id, list(by_id), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            problems.append(f"keys.{binding_id}: no binding has this id{hint}")
        elif not _split(keys):
            problems.append(f"keys.{binding_id}: no key given")
    # The bindings as they will be: remapped ones take their new keys.
    def keys_of(b: BindingInfo) -> tuple[str, ...]:
        wanted = _split(keymap[b.id]) if b.id is not None and b.id in keymap else ()
        return wanted or b.keys

    effective = [BindingInfo(b.id, keys_of(b), b.action, b.scope, b.modal) for b in bindings]
    reported: set[tuple[str, str, str]] = set()
    for binding_id in keymap:
        changed = next((b for b in effective if b.id == binding_id), None)
        if changed is None:
            continue
        for other in effective:
            if other.id == changed.id:
                continue
            same_scope = other.scope == changed.scope
            overlapping = (other.scope in GLOBAL_SCOPES or changed.scope in GLOBAL_SCOPES) and not (
                other.modal or changed.modal
            )
            if not (same_scope or overlapping):
                continue
            for key in set(changed.keys) & set(other.keys):
                first, second = sorted((changed.id or "", other.id or other.action))
                if (key, first, second) in reported:
                    continue
                reported.add((key, first, second))
                name = other.id or f"{other.scope} {other.action}"
                problems.append(f"keys.{binding_id}: {key!r} is also the key of {name}")
    return problems


def apply_keymap(app: App[Any], keymap: Mapping[str, str] | None) -> list[str]:
    """Remap ``app``'s bindings by id (Textual's keymap) and return the problems found (also logged)."""
    keymap = dict(keymap or {})
    problems = keymap_problems(keymap) if keymap else []
    usable = {k: v for k, v in keymap.items() if _split(v)}
    if usable:
        app.set_keymap(usable)
    for problem in problems:
        log.warning("config: %s", problem)
    return problems
