"""``python -m duvo_tui`` is ``duvo-tui``."""

from duvo_tui.cli import main

raise SystemExit(main())
