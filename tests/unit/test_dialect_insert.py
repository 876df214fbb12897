"""Each database's own INSERT (with ON CONFLICT), its dialect's module imported only when
that database is used."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy.dialects import postgresql, sqlite

from auditor.db.engine import dialect_insert
from auditor.db.models import JudgedPost


def test_each_database_gets_its_own_insert() -> None:
    table = JudgedPost.__table__
    for dialect, module in ((postgresql.dialect(), postgresql), (sqlite.dialect(), sqlite)):
        statement = dialect_insert(dialect)(table).on_conflict_do_nothing()
        assert isinstance(statement, module.Insert)
        assert "ON CONFLICT DO NOTHING" in str(statement.compile(dialect=dialect))


def test_a_sqlite_run_never_imports_the_postgresql_dialect(tmp_path: object) -> None:
    code = (
        "import sys, auditor.cli\n"
        "from auditor.db.engine import make_engine, dialect_insert\n"
        f"engine = make_engine('sqlite:///{tmp_path}/a.db')\n"
        "dialect_insert(engine.dialect)\n"
        "print('sqlalchemy.dialects.postgresql' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
