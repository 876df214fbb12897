"""Database connections and schema upgrades (alembic, run programmatically)."""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

import auditor.migrations
from auditor.errors import AuditorError
from auditor.private import FILE_MODE, make_folder

if TYPE_CHECKING:
    from collections.abc import Callable

    from alembic.config import Config as AlembicConfig
    from sqlalchemy import Dialect, Table
    from sqlalchemy.dialects.sqlite import Insert

SCHEMA_HEAD = "0011"
"""The newest migration's revision (a test holds it to ``auditor/migrations``): a database
already at it is opened without loading alembic and the migration scripts, a tenth of a
second of every command's start."""


class DatabaseError(AuditorError):
    """The database cannot be reached or has an unexpected schema."""


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets a lock timeout and foreign keys on, and a new
    database file is created readable by its owner only."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(f"database.url is not a database URL: {_safe(url)}") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and "uri" not in parsed.query:
            _create_private(Path(parsed.database))
        engine = create_engine(parsed, connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(parsed, pool_pre_ping=True, hide_parameters=True)
    _ENGINES.add(engine)
    return engine


_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()
"""Every engine made and still alive, for :func:`close_all`."""


def close_all() -> None:
    """Close every pooled connection of every engine still alive (SQLite then writes its
    write-ahead log back into the database file), as a command ends."""
    for engine in list(_ENGINES):
        engine.dispose()


def dialect_insert(dialect: Dialect) -> Callable[[Table], Insert]:
    """The dialect's own ``insert()`` (the one with ``ON CONFLICT`` clauses) for PostgreSQL
    or SQLite; its module is imported on first use (PostgreSQL's costs a SQLite run 28 ms
    at start)."""
    if dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert  # type: ignore[return-value]  # same interface
    from sqlalchemy.dialects.sqlite import insert

    return insert


def _create_private(path: Path) -> None:
    """Create the SQLite file 0600 (and each missing folder above it 0700) before SQLite
    opens it, whatever the umask: it holds student data. SQLite gives its -wal and -shm
    files the database's mode. An existing file or folder keeps its mode."""
    make_folder(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    except FileExistsError:
        return
    os.fchmod(fd, FILE_MODE)
    os.close(fd)


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    cursor = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _safe(url: str) -> str:
    """The URL with any password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable URL)"


def alembic_config() -> AlembicConfig:
    """Alembic configuration pointing at the migrations shipped in this package."""
    from alembic.config import Config as AlembicConfig  # only when a migration may run

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(auditor.migrations.__file__).parent))
    return cfg


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; return (revision before, revision after)."""
    try:
        with engine.connect() as conn:
            before = _revision(conn)
        if before == SCHEMA_HEAD:
            return before, before
        from alembic import command
        from alembic.script import ScriptDirectory

        cfg = alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except OperationalError as exc:
        raise DatabaseError(f"cannot open database {_safe(str(engine.url))}: {exc.orig}") from None
    head = ScriptDirectory.from_config(cfg).get_current_head()
    return before, head or ""


def _revision(conn: Connection) -> str | None:
    """The schema's revision as alembic records it (None: no schema yet, or more than one
    head, which alembic's own upgrade then sorts out)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return versions[0] if len(versions) == 1 else None
