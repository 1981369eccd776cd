"""A project: a folder with `ekt.toml` and `ekt.db`. The one object every command opens."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from core.config import CONFIG_NAME, ProjectConfig, load_config, render_default_toml
from core.errors import ConfigError, StoreError
from core.events import EventBus
from core.store import Store, connect_sync, sync_gold_settings

DB_NAME = "ekt.db"
# `core/assets` is a symlink to the repository's top-level `assets/` in a checkout and the
# copied folder in a built wheel (package data), so both installs find the same files.
ASSETS = Path(__file__).resolve().parent / "assets"


def is_project(path: Path | str) -> bool:
    return (Path(path) / CONFIG_NAME).is_file()


def init_project(path: Path | str, *, name: str | None = None, exist_ok: bool = False) -> Path:
    """Create the folder, a commented ekt.toml with every default, and an empty migrated store."""
    path = Path(path)
    if is_project(path) and not exist_ok:
        raise ConfigError(f"{path / CONFIG_NAME}: already exists (not overwritten)")
    try:
        path.mkdir(parents=True, exist_ok=True)
        config = ProjectConfig()
        config.project.name = name or path.resolve().name
        if not is_project(path):
            tmp = path / (CONFIG_NAME + ".tmp")
            tmp.write_text(render_default_toml(config), encoding="utf-8")
            os.replace(tmp, path / CONFIG_NAME)
        connect_sync(path / DB_NAME).close()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create project: {exc}") from None
    return path


@dataclass
class Project:
    """An opened project: validated config, the writer store and the event bus."""

    root: Path
    config: ProjectConfig
    store: Store
    bus: EventBus = field(default_factory=EventBus)

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    @classmethod
    async def open(cls, root: Path | str, *, readonly: bool = False) -> Project:
        root = Path(root)
        if not is_project(root):
            raise ConfigError(f"{root / CONFIG_NAME}: no such file (run `ekt init {root}`)")
        config = load_config(root / CONFIG_NAME)
        if readonly and not (root / DB_NAME).exists():
            raise StoreError(f"{root / DB_NAME}: no such store")
        store = await Store.open(root / DB_NAME, readonly=readonly)
        if not readonly:
            try:
                await sync_gold_settings(store, allow_spurious=config.gold.allow_spurious)
            except BaseException:
                await store.close()
                raise
        return cls(root=root, config=config, store=store)

    async def close(self) -> None:
        await self.store.close()

    async def __aenter__(self) -> Project:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
