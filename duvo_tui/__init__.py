"""duvo-tui: a terminal dashboard for the Duvo Public API."""

__version__ = "0.1.0"
