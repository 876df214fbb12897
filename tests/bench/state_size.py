"""Size of the sync state the incremental connectors keep per page: a few pages of the
benchmark's district (``fake_platforms.District``, 50 members and 50 posts each) fetched
from the loopback fakes of Graph and of the Google APIs, no latency.

    python tests/bench/state_size.py [--pages N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from fake_platforms import District, FakeGoogle, FakeGraph, FakeServer

from auditor.connectors.base import PageRef
from auditor.connectors.registry import available_connectors


async def measure(pages: int) -> None:
    """Print the bytes of each platform's state per page (compact JSON, as stored)."""
    district = District(pages, 50, 50, datetime.now(UTC))
    for fake in (FakeGraph(district), FakeGoogle(district)):
        with FakeServer(fake, 0.0) as server, tempfile.TemporaryDirectory() as tmp:
            os.environ.update(fake.environment(Path(tmp)))
            cls = available_connectors()[fake.platform]
            conn = cls("bench", cls.Settings.model_validate(fake.settings(server.origin)))
            sizes = []
            async with conn:
                for i in range(pages):
                    ref = PageRef(str(i), fake.external_id(i))
                    _, state = await conn.fetch_page_incremental(ref, None)
                    sizes.append(len(json.dumps(state, separators=(",", ":"))))
        mean = sum(sizes) / len(sizes)
        print(f"{fake.platform}: {mean / 1000:.1f} KB of state a page (over {pages} pages)")


def main() -> None:
    """Parse the arguments and measure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5, help="pages measured (5)")
    asyncio.run(measure(parser.parse_args().pages))


if __name__ == "__main__":
    main()
