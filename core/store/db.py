"""Connections to a project store: one writer (the engine), any number of readers.

WAL lets readers (the TUI, a second `ekt` process) read while the engine writes; `busy_timeout`
makes a second writer wait instead of failing. Writes go through `executemany` inside one
transaction: one await per row is ~10x slower.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from core.errors import StoreError
from core.store.schema import MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT_MS = 10_000


def _pragmas(readonly: bool) -> list[str]:
    base = [f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}", "PRAGMA foreign_keys = ON"]
    if not readonly:
        base += ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL"]
    return base


def migrate_sync(conn: sqlite3.Connection, path: Path | str = "") -> int:
    """Apply missing migrations in order; returns the resulting schema version."""
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: store schema v{version} is newer than this ekt (v{SCHEMA_VERSION})"
        )
    for i in range(version, SCHEMA_VERSION):
        try:
            conn.executescript(
                "BEGIN;\n" + MIGRATIONS[i] + f"\nPRAGMA user_version = {i + 1};\nCOMMIT;"
            )
        except sqlite3.Error as exc:
            conn.rollback()
            raise StoreError(f"{path}: migration to schema v{i + 1} failed: {exc}") from exc
    return SCHEMA_VERSION


SQLITE_MAGIC = b"SQLite format 3\x00"


def unreadable(path: Path | str, exc: BaseException) -> StoreError:
    """The one line for a store SQLite cannot read (not a database, truncated, malformed)."""
    return StoreError(f"{path}: not a readable ekt store ({exc}); restore it or move it away")


_CHECKED: set[Path] = set()
"""Stores whose header this process has checked (or is creating)."""


def check_header(path: Path) -> None:
    """Refuse, from the first 100 bytes, a file that is not SQLite or is shorter than its own
    header says (a truncated copy): SQLite itself would only fail later, mid-query.

    Once per store and process: closing *any* file descriptor of a database file drops every
    POSIX lock this process holds on it, so reading the header again while a connection is open
    (the TUI opens its reader after the writer) would strip that connection's locks; its read
    snapshot then went stale and `PRAGMA data_version` stopped seeing other processes' commits."""
    key = path.resolve()
    if key in _CHECKED:
        return
    _check_header(path)
    _CHECKED.add(key)


def _check_header(path: Path) -> None:
    try:
        with open(path, "rb") as f:
            header = f.read(100)
        size = path.stat().st_size
    except FileNotFoundError:
        return  # a new store
    except OSError as exc:
        raise StoreError(f"{path}: cannot read store: {exc.strerror}") from None
    if not header:
        return  # an empty file is an empty database
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise unreadable(path, sqlite3.DatabaseError("file is not a database"))
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    valid = header[24:28] == header[92:96]  # the size field is trusted only then (file format)
    if valid and pages and size < pages * page_size:
        raise unreadable(
            path, sqlite3.DatabaseError(f"truncated: {size} of {pages * page_size} bytes")
        )


def _probe(execute: Any) -> Any:
    """Reading the schema parses sqlite_master: a garbled first page fails here, not later."""
    return execute("SELECT count(*) FROM sqlite_master")


def connect_sync(path: Path | str, *, readonly: bool = False) -> sqlite3.Connection:
    """A plain sqlite3 connection with the store's pragmas (subprocesses, benches, sync code)."""
    path = Path(path)
    check_header(path)
    try:
        if readonly:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        else:
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open store: {exc}") from None
    try:
        conn.row_factory = sqlite3.Row
        for pragma in _pragmas(readonly):
            conn.execute(pragma)
        _probe(conn.execute).fetchone()
        if not readonly:
            migrate_sync(conn, path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise unreadable(path, exc) from None
    except BaseException:
        conn.close()
        raise
    return conn


class Store:
    """An open project database. `await Store.open(path)`; use `async with store.transaction()`."""

    def __init__(self, conn: aiosqlite.Connection, path: Path, readonly: bool) -> None:
        self.conn = conn
        self.path = path
        self.readonly = readonly
        # One transaction at a time on this connection: tasks sharing the writer (the sampler's
        # request writer, the verifier, a TUI edit) would otherwise interleave BEGINs.
        self._tx_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str, *, readonly: bool = False) -> Store:
        path = Path(path)
        if readonly and not path.exists():
            raise StoreError(f"{path}: no such store (run `ekt init` first)")
        check_header(path)
        if not readonly:
            # Migrate synchronously first: simple, and schema changes need exclusive access anyway.
            connect_sync(path).close()
        uri = f"file:{path}?mode=ro" if readonly else str(path)
        try:
            conn = await aiosqlite.connect(
                uri, uri=readonly, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open store: {exc}") from exc
        try:  # a failure here must close the connection: its thread keeps the process alive
            conn.row_factory = sqlite3.Row
            for pragma in _pragmas(readonly):
                await conn.execute(pragma)
            # fetchall, not fetchone: a statement left unfinished keeps a read snapshot open, and
            # PRAGMA data_version would then never see another process's commits
            await (await _probe(conn.execute)).fetchall()
            [(version,)] = await (await conn.execute("PRAGMA user_version")).fetchall()
        except sqlite3.DatabaseError as exc:
            await conn.close()
            raise unreadable(path, exc) from None
        except BaseException:
            await conn.close()
            raise
        if version != SCHEMA_VERSION:
            await conn.close()
            raise StoreError(f"{path}: store schema v{version}, this ekt expects v{SCHEMA_VERSION}")
        return cls(conn, path, readonly)

    async def close(self) -> None:
        await self.conn.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any error: nothing half-written."""
        async with self._tx_lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.rollback()
                raise
            else:
                await self.conn.commit()

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        async with self.conn.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        async with self.conn.execute(sql, params) as cur:
            return await cur.fetchone()

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement in its own transaction; returns lastrowid."""
        async with self.transaction() as conn:
            cur = await conn.execute(sql, params)
            return cur.lastrowid or 0

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """A batch of rows in one transaction."""
        async with self.transaction() as conn:
            await conn.executemany(sql, rows)

    async def data_version(self) -> int:
        """Changes when *another* connection commits: poll this to notice cross-process writes."""
        return int(await self.scalar("PRAGMA data_version"))
