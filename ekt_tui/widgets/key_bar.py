"""The key bar at the bottom of every ekt screen: one line of text, clickable.

Textual's Footer recomposes one widget per key whenever the bindings change (every screen
switch, every focus change) — about a third of the time it takes to open the inspector. This
is one Static re-rendered from `screen.active_bindings`; a click on a key presses it.
"""

from __future__ import annotations

from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Static


class KeyBar(Static):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._show()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self._show()

    def on_resize(self) -> None:
        self._show()

    def _show(self) -> None:
        """Every shown binding once; when that is wider than the bar, the screen-switching
        keys shrink to one item ("1-5 screens")."""
        seen: set[str] = set()
        items: list[tuple[str, str, str, bool]] = []  # (key shown, key to press, label, enabled)
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in seen or not binding.description:
                continue
            seen.add(binding.action)
            press = binding.key.split(",")[0]
            items.append((self.app.get_key_display(binding), press, binding.description, enabled))
        width = sum(len(k) + len(d) + 3 for k, _, d, _ in items) + 12
        if self.size.width and width > self.size.width:
            modes = [i for i in items if i[1].isdigit()]
            if len(modes) > 1:
                first = items.index(modes[0])
                items = [i for i in items if not i[1].isdigit()]
                span = f"{modes[0][0]}-{modes[-1][0]}"
                items.insert(first, (span, modes[0][1], "screens", True))
        parts = []
        for key, press, label, enabled in items:
            style = "bold $footer-key-foreground" if enabled else "dim"
            parts.append(
                f"[@click=app.simulate_key('{press}')][{style}]{escape(key)}[/] {escape(label)}[/]"
            )
        parts.append("[@click=app.command_palette][bold $footer-key-foreground]^p[/] palette[/]")
        self.update(" " + "  ".join(parts))
