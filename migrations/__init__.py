"""Alembic migrations of the auditor's database, shipped inside the wheel."""
