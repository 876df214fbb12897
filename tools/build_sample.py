"""Writes the sample district's snapshots of the pages that its connectors fetch: each
platform's real connector (found through the ``page_auditor.connectors`` entry points) runs
against the respx mock of its platform in ``tests/connectors/<platform>_platform.py`` and
the page it fetches goes to ``auditor/sample/pages/<external_id>.json``, so that the sample
shows what the connectors produce. The sample's other snapshots are hand-written exports
(what the ``file`` connector reads) and are left alone. Tests check that the committed
files equal what this writes.

    python tools/build_sample.py          # rewrite the generated snapshots
    python tools/build_sample.py --check  # exit 1 if a committed snapshot differs

Needs the test dependencies (``pip install -e ".[test]"``: respx). Each connector's clock is
frozen at the moment its mock's data describes, and ``fetched_at`` is set to that moment, so
every run writes the same bytes.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import ModuleType

import respx

from auditor.connectors.base import Connector
from auditor.connectors.registry import available_connectors
from auditor.sample import SAMPLE_AS_OF, SAMPLE_DIR
from auditor.snapshot import PageSnapshot

ROOT = Path(__file__).resolve().parents[1]
# The platform modules import each other by module name, as the connector tests do.
sys.path.insert(0, str(ROOT / "tests" / "connectors"))

import canvas_platform  # noqa: E402
import discord_platform  # noqa: E402
import facebook_platform  # noqa: E402
import google_groups_platform  # noqa: E402
import groupme_platform  # noqa: E402
import microsoft365_platform  # noqa: E402
import schoology_platform  # noqa: E402

PAGES_DIR = SAMPLE_DIR / "pages"
REGISTER = SAMPLE_DIR / "pages.csv"


@dataclass(frozen=True)
class Platform:
    """A connector type and the test module that stands in for its platform."""

    type: str
    module: ModuleType
    """Exposes ``SETTINGS`` (the ``[[connectors]]`` keys), ``ENV`` and ``PAGES``."""
    mock: Callable[[respx.MockRouter], None] | None
    """Registers the platform's HTTP routes; None for a connector that reads files."""
    moment: datetime
    """When the mock's data was fetched: the connector's clock and the ``fetched_at``."""
    clock: str | None = None
    """The connector module's function returning "now", frozen at :attr:`moment`."""
    prepare: Callable[[Path], object] | None = None
    """Writes the files the connector reads into the config's folder (attestations)."""

    @property
    def connector(self) -> type[Connector]:
        """The installed connector class of :attr:`type`."""
        return available_connectors()[self.type]


PLATFORMS: tuple[Platform, ...] = (
    Platform("canvas", canvas_platform, canvas_platform.mock_canvas, canvas_platform.NOW, "clock"),
    Platform(
        "discord", discord_platform, discord_platform.mock_discord, discord_platform.NOW, "utcnow"
    ),
    Platform(
        "facebook",
        facebook_platform,
        None,
        SAMPLE_AS_OF,
        "utc_now",
        lambda folder: facebook_platform.write_example(
            folder / str(facebook_platform.SETTINGS["folder"])
        ),
    ),
    # google-groups reads the real clock only for fetched_at (replaced by fetch()) and for
    # the Gmail search's `after:` term, which the mock does not filter on.
    Platform(
        "google-groups",
        google_groups_platform,
        google_groups_platform.mock_google_groups,
        SAMPLE_AS_OF,
    ),
    Platform(
        "groupme", groupme_platform, groupme_platform.mock_groupme, groupme_platform.NOW, "clock"
    ),
    Platform(
        "microsoft365",
        microsoft365_platform,
        microsoft365_platform.mock_microsoft365,
        microsoft365_platform.NOW,
        "clock",
    ),
    Platform(
        "schoology",
        schoology_platform,
        schoology_platform.mock_schoology,
        schoology_platform.AS_OF,
        "clock",
    ),
)


def mount_mocks(router: respx.MockRouter) -> None:
    """Register every platform's routes in ``router``, each name prefixed ``<type>:``
    (the mocks share names such as ``group`` or ``token``, and a name registered twice in
    one router replaces the first route)."""
    for platform in PLATFORMS:
        if platform.mock is None:
            continue
        own = respx.MockRouter()
        platform.mock(own)
        for route in own.routes:
            router.routes.add(route, name=f"{platform.type}:{route.name}")


@contextmanager
def frozen_clocks() -> Iterator[None]:
    """Each connector's clock returns its platform's :attr:`Platform.moment` until exit."""
    saved: list[tuple[ModuleType, str, object]] = []
    try:
        for platform in PLATFORMS:
            if platform.clock is None:
                continue
            module = sys.modules[platform.connector.__module__]
            saved.append((module, platform.clock, getattr(module, platform.clock)))
            setattr(module, platform.clock, lambda moment=platform.moment: moment)
        yield
    finally:
        for module, name, value in reversed(saved):
            setattr(module, name, value)


@contextmanager
def fake_environment() -> Iterator[None]:
    """The platforms' fake secrets in ``os.environ`` until exit."""
    wanted = {name: value for p in PLATFORMS for name, value in p.module.ENV.items()}
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value


async def fetch(platform: Platform, base_dir: Path) -> list[PageSnapshot]:
    """The snapshots of the platform's ``PAGES``, fetched by its connector as of its moment."""
    cls = platform.connector
    raw = platform.module.SETTINGS
    settings = cls.Settings.model_validate(raw, context={"base_dir": base_dir})
    async with cls(platform.type, settings, base_dir) as connector:
        return [
            (await connector.fetch_page(ref)).model_copy(update={"fetched_at": platform.moment})
            for ref in platform.module.PAGES
        ]


def generate() -> dict[str, str]:
    """File name -> text of every snapshot the connectors produce from their mocks."""

    async def fetch_all(base_dir: Path) -> list[PageSnapshot]:
        """Every platform's snapshots, one platform after the other."""
        return [snap for platform in PLATFORMS for snap in await fetch(platform, base_dir)]

    with (
        tempfile.TemporaryDirectory(prefix="build-sample-") as tmp,
        fake_environment(),
        frozen_clocks(),
        respx.mock(assert_all_called=False) as router,
    ):
        mount_mocks(router)
        for platform in PLATFORMS:
            if platform.prepare is not None:
                platform.prepare(Path(tmp))
        snapshots = asyncio.run(fetch_all(Path(tmp)))
    return {f"{s.external_id}.json": s.model_dump_json(indent=2) + "\n" for s in snapshots}


def unregistered(names: list[str]) -> list[str]:
    """The generated files whose external id has no row in the sample's ``pages.csv``."""
    with REGISTER.open(encoding="utf-8", newline="") as f:
        registered = {row["external_id"] for row in csv.DictReader(f)}
    return [name for name in names if name.removesuffix(".json") not in registered]


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the generated snapshots; 1 if any differs."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is out of date")
    parser.add_argument(
        "--pages", type=Path, default=PAGES_DIR, help="snapshot folder (default: the sample's)"
    )
    args = parser.parse_args(argv)
    files = generate()
    missing = unregistered(sorted(files))
    if missing:
        print(f"no row in {REGISTER} for: {', '.join(missing)}", file=sys.stderr)
        return 1
    stale = [
        name
        for name, text in files.items()
        if not (args.pages / name).is_file()
        or (args.pages / name).read_text(encoding="utf-8") != text
    ]
    if args.check:
        for name in stale:
            print(f"out of date: {args.pages / name} (run: python tools/build_sample.py)")
        return 1 if stale else 0
    for name in stale:
        (args.pages / name).write_text(files[name], encoding="utf-8")
        print(f"wrote {args.pages / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
