"""A Line-API list that renders only the visible rows, fetched in blocks through a windowed query.

Like Toolong's log view: the widget knows only the row count; `render_line` asks a small LRU
cache of blocks, and a missing block is fetched by one async worker (LIMIT/OFFSET) and painted
when it arrives. A 150k-row list costs the same as a 50-row one.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

from rich.segment import Segment
from rich.style import Style
from textual import events, work
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import Worker

T = TypeVar("T")

BLOCK = 64
MAX_BLOCKS = 24


class WindowedList(ScrollView, Generic[T], can_focus=True):
    """Subclasses implement `fetch`, `count`, `render_row`, and the two notification hooks."""

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    DEFAULT_CSS = """
    WindowedList { height: 1fr; }
    """

    cursor: reactive[int] = reactive(0, always_update=True)

    def __init__(self, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.total = 0
        self._blocks: OrderedDict[int, list[T]] = OrderedDict()
        self._wanted: set[int] = set()
        self._generation = 0

    # -- to implement ----------------------------------------------------------------------------
    async def fetch(self, offset: int, limit: int) -> list[T]:
        raise NotImplementedError

    async def count(self) -> int:
        raise NotImplementedError

    def render_row(self, row: T, width: int, selected: bool) -> Strip:
        raise NotImplementedError

    def row_highlighted(self, row: T) -> None:
        """Called when the cursor lands on a row."""

    def row_selected(self, row: T) -> None:
        """Called on Enter or a click on the cursor row."""

    # -- data ------------------------------------------------------------------------------------
    def row_at(self, index: int) -> T | None:
        block = self._blocks.get(index // BLOCK)
        if block is None:
            return None
        self._blocks.move_to_end(index // BLOCK)
        offset = index % BLOCK
        return block[offset] if offset < len(block) else None

    @property
    def current(self) -> T | None:
        return self.row_at(self.cursor) if self.total else None

    def clear(self) -> None:
        """Forget every row (the list is about to show something else)."""
        self._generation += 1
        self._blocks.clear()
        self._wanted.clear()
        self.total = 0
        self.cursor = 0
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.virtual_size = Size(self.size.width, 0)
        self.refresh()

    async def reload(self) -> None:
        """Re-count and re-fetch the visible window (after a filter change or new data)."""
        self._generation += 1
        total = await self.count()
        first, last = self._visible_blocks(total)
        fresh = OrderedDict()
        for b in range(first, last + 1):
            fresh[b] = await self.fetch(b * BLOCK, BLOCK)
        self._blocks = fresh
        self._wanted.clear()
        self.total = total
        self.virtual_size = Size(self.size.width, total)
        if self.cursor >= total:
            self.cursor = max(total - 1, 0)
        self.refresh()
        row = self.current
        if row is not None:
            self.row_highlighted(row)

    def _visible_blocks(self, total: int) -> tuple[int, int]:
        top = int(self.scroll_offset.y)
        bottom = min(top + max(self.size.height, 1), max(total, 1)) - 1
        low = min(top, self.cursor)
        high = max(bottom, self.cursor)
        return low // BLOCK, max(high, 0) // BLOCK

    @work(group="window-fetch", exit_on_error=False)
    async def _fetch_missing(self) -> None:
        generation = self._generation
        while self._wanted:
            block = min(self._wanted)
            rows = await self.fetch(block * BLOCK, BLOCK)
            if generation != self._generation:
                return
            self._wanted.discard(block)
            self._blocks[block] = rows
            while len(self._blocks) > MAX_BLOCKS:
                self._blocks.popitem(last=False)
        self.refresh()
        row = self.current
        if row is not None:
            self.row_highlighted(row)

    def _want(self, block: int) -> None:
        if block not in self._wanted:
            self._wanted.add(block)
            if len(self._wanted) == 1:
                self._fetch_missing()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Worker messages do not bubble: let the app turn a fetch error into a notification."""
        handler = getattr(self.app, "on_worker_state_changed", None)
        if handler is not None:
            handler(event)

    # -- rendering -------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_offset.y) + y
        width = self.size.width
        if index >= self.total:
            return Strip.blank(width, self.rich_style)
        row = self.row_at(index)
        if row is None:
            self._want(index // BLOCK)
            return Strip([Segment(" …".ljust(width), Style(dim=True))], width)
        return self.render_row(row, width, index == self.cursor and self.has_focus)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, self.total)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- cursor ----------------------------------------------------------------------------------
    def watch_cursor(self, old: int, new: int) -> None:
        if not self.total:
            return
        self.scroll_to_region(Region(0, new, 1, 1), animate=False, force=True, immediate=True)
        self.refresh()
        row = self.row_at(new)
        if row is None:
            self._want(new // BLOCK)
        else:
            self.row_highlighted(row)

    def action_cursor(self, delta: int) -> None:
        if self.total:
            self.cursor = max(0, min(self.total - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(self.size.height - 1, 1))

    def action_jump(self, index: int) -> None:
        if self.total:
            self.cursor = self.total - 1 if index < 0 else index

    def action_select(self) -> None:
        row = self.current
        if row is not None:
            self.row_selected(row)

    def on_click(self, event: events.Click) -> None:
        index = int(self.scroll_offset.y) + event.y
        if 0 <= index < self.total:
            if index == self.cursor and event.chain >= 2:
                self.action_select()
            self.cursor = index
