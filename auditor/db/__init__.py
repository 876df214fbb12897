"""Database layer: ORM models, engine and schema upgrades."""
