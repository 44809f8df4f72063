"""The selected run's sandbox (or one the person chose or made) as a tree with sizes; directories are listed when
first expanded.

The tree never fetches anything itself: it asks (``ListingWanted``) and is given listings (``fill``). Choosing
(``c``) or making (``+``) a sandbox is asked of the app too (``ChooseWanted``, ``CreateWanted``); a chosen one
stays shown, whatever run is selected, until the person goes back to the run's (``c`` with nothing typed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from duvo_tui.api.models import SandboxFile
from duvo_tui.text import clean_line

__all__ = ["ROOT_PATH", "SandboxTree", "format_size"]

ROOT_PATH = "/workspace"
"""Where a sandbox's files live."""


def format_size(size: int) -> str:
    """``512 B``, ``1.5 KB``, ``12 MB``..."""
    value = float(max(0, size))
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"  # pragma: no cover - the loop returns at GB


@dataclass
class Entry:
    """What a tree node stands for."""

    path: str
    is_dir: bool
    size: int = 0
    loaded: bool = False


class SandboxTree(Tree[Entry]):
    """Files of one sandbox; directories load lazily."""

    BINDINGS = [
        Binding("r", "reload", "Refresh", id="sandbox.refresh", tooltip="List the sandbox again"),
        Binding(
            "c",
            "choose",
            "Choose",
            id="sandbox.choose",
            tooltip="Show a sandbox by its id (nothing typed: the selected run's again)",
        ),
        Binding("plus", "create", "New", id="sandbox.new", tooltip="Make a new sandbox and show it"),
        Binding("j", "cursor_down", "Down", show=False, id="sandbox.down"),
        Binding("k", "cursor_up", "Up", show=False, id="sandbox.up"),
    ]

    @dataclass
    class ListingWanted(Message):
        """The tree needs the listing of ``path`` in ``sandbox_id``."""

        sandbox_id: str
        path: str

    class ChooseWanted(Message):
        """The person wants to pick the sandbox shown (by id)."""

    class CreateWanted(Message):
        """The person wants a new sandbox."""

    def __init__(self, **kwargs) -> None:
        super().__init__(Text("no run selected", style="italic"), data=Entry(ROOT_PATH, True), **kwargs)
        self.sandbox_id: str | None = None
        self.chosen = False
        """True while a sandbox the person chose (or made) is shown instead of the selected run's."""
        self._shown = False
        self.show_root = True
        self.guide_depth = 3

    def show_sandbox(self, sandbox_id: str | None, *, force: bool = False) -> None:
        """Show ``sandbox_id`` (None: nothing). Same sandbox again keeps what is expanded unless ``force``."""
        if sandbox_id == self.sandbox_id and self._shown and not force:
            return
        self._shown = True
        self.sandbox_id = sandbox_id
        self.clear()
        self.root.data = Entry(ROOT_PATH, True)
        if sandbox_id is None:
            self.root.set_label(Text("this run has no sandbox", style="italic"))
            self.root.allow_expand = False
            return
        self.root.set_label(self._root_label(f"  {ROOT_PATH}"))
        self.root.allow_expand = True
        self._request(self.root)
        self.root.expand()

    def show_run_sandbox(self, sandbox_id: str | None) -> None:
        """The selected run's sandbox, unless the person chose another one."""
        if not self.chosen:
            self.show_sandbox(sandbox_id)

    def choose(self, sandbox_id: str | None, run_sandbox: str | None = None) -> None:
        """Show ``sandbox_id`` whatever run is selected; None goes back to following the run (``run_sandbox``)."""
        self.chosen = sandbox_id is not None
        self.show_sandbox(sandbox_id if sandbox_id is not None else run_sandbox, force=True)

    def action_choose(self) -> None:
        self.post_message(self.ChooseWanted())

    def action_create(self) -> None:
        self.post_message(self.CreateWanted())

    def _root_label(self, extra: str = "") -> Text:
        label = Text.assemble(("sandbox ", "bold"), clean_line(self.sandbox_id or "", 40))
        if extra:
            label.append(extra, style="dim")
        if self.chosen:
            label.append("  chosen (c: back to the run's)", style="italic")
        return label

    def action_reload(self) -> None:
        if self.sandbox_id is None:
            self.notify("This run has no sandbox", severity="warning", timeout=2)
            return
        self.show_sandbox(self.sandbox_id, force=True)

    def _request(self, node: TreeNode[Entry]) -> None:
        if self.sandbox_id is None or node.data is None:
            return
        node.data.loaded = True
        node.remove_children()
        node.add_leaf(Text("loading…", style="italic dim"))
        self.post_message(self.ListingWanted(self.sandbox_id, node.data.path))

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Entry]) -> None:
        node = event.node
        if node.data is not None and node.data.is_dir and not node.data.loaded:
            self._request(node)

    def _find(self, path: str) -> TreeNode[Entry] | None:
        stack = [self.root]
        while stack:
            node = stack.pop()
            if node.data is not None and node.data.path.rstrip("/") == path.rstrip("/"):
                return node
            stack.extend(node.children)
        return None

    def fill(self, sandbox_id: str, path: str, files: Sequence[SandboxFile] | None, error: str | None = None) -> None:
        """Put a directory listing (or the error that prevented it) under the node of ``path``."""
        if sandbox_id != self.sandbox_id:
            return  # an answer about a sandbox no longer shown
        node = self._find(path)
        if node is None:
            return
        node.remove_children()
        if error is not None:
            if node.data is not None:
                node.data.loaded = False
            node.add_leaf(Text("could not list: " + clean_line(error, 120), style="italic"))
            return
        entries = sorted(files or (), key=lambda f: (not f.is_dir, f.name.lower()))
        if not entries:
            node.add_leaf(Text("(empty)", style="italic dim"))
        for item in entries:
            name = clean_line(item.name, 120) or "?"
            child_path = item.path or f"{path.rstrip('/')}/{item.name}"
            if item.is_dir:
                label = Text.assemble((name + "/", "bold"))
                node.add(label, data=Entry(child_path, True), allow_expand=True)
            else:
                label = Text.assemble(name, ("  " + format_size(item.size_bytes), "dim"))
                node.add_leaf(label, data=Entry(child_path, False, item.size_bytes))
        if node is self.root:
            total = sum(f.size_bytes for f in entries if not f.is_dir)
            node.set_label(self._root_label(f"  {len(entries)} entries, {format_size(total)}"))
