"""``duvo-tui serve``: the dashboard in a browser, behind a session.

Built on textual-serve (an aiohttp application that starts one dashboard process per browser tab and relays
its terminal over a websocket). This package adds what textual-serve leaves out: a login (a printed token or
a configured password) exchanged for an HttpOnly, SameSite=Strict session cookie; the session required on every
route, download and the websocket; an Origin check on the websocket; slowed-down failed logins; a cap on the
number of dashboards at once. It is imported only by ``duvo-tui serve``, never by the dashboard itself, and
needs the ``web`` extra (``pip install 'duvo-tui[web]'``).

- :mod:`duvo_tui.web.auth`: tokens, password hashes, sessions, the login throttle (no aiohttp)
- :mod:`duvo_tui.web.server`: the aiohttp application (``DashboardServer``, a textual-serve ``Server``)
- :mod:`duvo_tui.web.runner`: binding, TLS, the printed address, running until stopped
"""

from __future__ import annotations

__all__ = ["MISSING_EXTRA_HINT", "missing_requirements"]

MISSING_EXTRA_HINT = "install it with:  pip install 'duvo-tui[web]'"
"""What to tell a person whose install lacks the web extra."""

REQUIREMENTS = ("textual_serve", "aiohttp", "aiohttp_jinja2", "jinja2")
"""The modules the served dashboard needs beyond the core install."""


def missing_requirements() -> list[str]:
    """The modules of :data:`REQUIREMENTS` that cannot be imported here (none when the extra is installed)."""
    import importlib

    missing = []
    for name in REQUIREMENTS:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing
