"""The bundled sample district used by ``auditor demo`` and the example config."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

SAMPLE_DIR = Path(__file__).parent
SAMPLE_CONFIG = SAMPLE_DIR / "config.toml"
# The sample snapshots were exported on this day; the sample config's [district] as_of
# judges them as of then, so that the demo's results do not drift as the calendar moves on.
SAMPLE_AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
