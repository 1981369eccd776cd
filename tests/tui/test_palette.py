"""The command palette lists each action once on every screen: ekt's entries (navigation, app,
the screen's own) and Textual's system commands together."""

from __future__ import annotations

from pathlib import Path

from ekt_tui.app import SCREENS
from tests.tui.eval_fixture import make_eval_project
from tests.tui.helpers import make_app, settle


async def test_each_palette_entry_once_per_screen(tmp_path: Path) -> None:
    app = make_app(make_eval_project(tmp_path / "p"))
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        for mode, (_, key, _) in SCREENS.items():
            await pilot.press(key)
            await settle(pilot)
            screen = app.screen
            ours = app.command_entries(screen)
            system = [c.title for c in app.get_system_commands(screen)]
            labels = [label for label, *_ in ours] + system
            assert len(labels) == len(set(labels)), (mode, labels)
            actions = [(action, id(target)) for _, _, action, target in ours]
            assert len(actions) == len(set(actions)), (mode, actions)
            assert "Quit" in labels and "Keys" not in system
