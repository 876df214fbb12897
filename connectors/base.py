"""The connector interface every platform plugin implements.

A connector is a class registered under the entry-point group ``page_auditor.connectors``
with a ``type`` name, a pydantic ``Settings`` model validated from its ``[[connectors]]``
block, ``async fetch_page(ref) -> PageSnapshot`` and, optionally, ``async discover()``. It
also declares how to fix each rule's failure on its platform (``remediation``, data kept
next to it and read with :func:`load_remediation`). The runner fetches each page through
:meth:`Connector.fetch_page_synced`, which ends it at ``page_deadline_s``.

A connector may also fetch incrementally: it overrides ``fetch_page_incremental(ref, state)``,
taking what it kept of the page's last fetch (an opaque JSON object it owns, stored in the
database by the runner) and returning the snapshot with the state to keep for next time.
The default calls ``fetch_page`` and keeps nothing, so connectors that do not override it
work as before. An incremental connector that can tell from its answers and its state
alone that a page's content is the one its stored results were evaluated from overrides
``fetch_page_changed(ref, state, seen)`` instead, to skip building that snapshot (see
:meth:`Connector.fetch_page_changed`).
"""

from __future__ import annotations

import asyncio
import hashlib
import tomllib
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, ValidationInfo

from auditor.snapshot import PageSnapshot


def existing_folder(value: Path, info: ValidationInfo) -> Path:
    """A folder setting, relative to the config file's folder (the validation context's
    ``base_dir``); it must exist."""
    base = (info.context or {}).get("base_dir")
    folder = value if value.is_absolute() or base is None else Path(base) / value
    if not folder.is_dir():
        raise ValueError(f"folder not found: {folder}")
    return folder.resolve()


class ConnectorSettings(BaseModel):
    """Settings every connector accepts; subclasses add their own fields."""

    model_config = ConfigDict(extra="forbid")

    max_concurrency: PositiveInt = Field(
        4,
        description="Pages fetched at the same time and, for cloud connectors, requests "
        "in flight (max_concurrency_ceiling raises both; microsoft365 fetches 8 pages per "
        "request slot, at most 128, unless requests_per_second is set: then one per slot).",
    )
    requests_per_second: PositiveFloat | None = Field(
        None, description="Upper bound on API requests per second (none: no limit)."
    )
    timeout_s: PositiveFloat = Field(
        30.0, description="Longest wait for the next bytes of an HTTP answer, seconds."
    )
    page_deadline_s: PositiveFloat = Field(
        900.0,
        description="Longest the fetch of one page may take, every request and wait "
        "included, seconds; past it the page is an error.",
    )

    full_refresh_days: PositiveInt = Field(
        7,
        description="For connectors that fetch incrementally (reading only what changed "
        "since the last run): fetch every page in full at least this often, days, each "
        "page on its own day of the cycle so that full fetches spread over it "
        "(`auditor run --full` forces it).",
    )

    @property
    def pages_in_flight(self) -> int:
        """Pages fetched at the same time (HTTP connectors may ramp above max_concurrency)."""
        return self.max_concurrency


def full_fetch_due(page_id: str, last_full: datetime, now: datetime, days: int) -> bool:
    """Whether a page last fetched in full at ``last_full`` is fetched in full again now:
    once it is ``days`` old, or earlier on the page's own day of the ``days``-day cycle
    (a day chosen from its id), so that a district's full fetches spread over the cycle
    instead of all falling on one night (a day after the last at the soonest)."""
    if now - last_full >= timedelta(days=days):
        return True
    slot = int(hashlib.sha256(page_id.encode()).hexdigest(), 16) % days
    return now - last_full >= timedelta(days=1) and now.date().toordinal() % days == slot


@dataclass(frozen=True)
class PageRef:
    """What a connector is told about a registered page."""

    id: str
    external_id: str
    name: str = ""


@dataclass(frozen=True)
class DiscoveredGroup:
    """A group the connector's credentials can see (for finding unregistered pages)."""

    external_id: str
    name: str
    url: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


SHIPPED = "auditor.connectors"  # the package of the connectors shipped with the auditor


def load_remediation(package: str, name: str) -> Mapping[str, str]:
    """A connector's remediation steps from a TOML file of ``"RULE-ID" = "steps"`` lines
    shipped in ``package`` (read once, when the connector's module is imported)."""
    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    steps = tomllib.loads(text)
    bad = [key for key, value in steps.items() if not isinstance(value, str) or not value.strip()]
    if bad:
        raise ValueError(f"{package}/{name}: {bad[0]!r} must be a non-empty string")
    return MappingProxyType(steps)


def shipped_remediation(platform: str) -> Mapping[str, str]:
    """The fix steps the auditor ships for ``platform``: ``remediation/<platform>.toml``
    of this package. What each shipped connector declares, and what the registry reads
    without importing it; FileNotFoundError when none are shipped."""
    return load_remediation(SHIPPED, f"remediation/{platform}.toml")


class ConnectorError(Exception):
    """A page could not be fetched; the message is shown to IT as is (no secrets)."""


def note_limit(limits: dict[str, str], field: str, cut: str) -> None:
    """Record in a snapshot's ``limits`` that ``field`` was cut short as ``cut`` says (a
    second cut of the same field is added to the first), so that no rule passes on it."""
    limits[field] = f"{limits[field]}; {cut}" if field in limits else cut


@dataclass(frozen=True)
class PageNotes:
    """What a page's fetch records besides its data, for the snapshot: why a field is null
    (``unavailable``), what part of a field was read by design (``coverage``), where one
    was cut short (``limits``, see :func:`note_limit`) and other ``warnings``."""

    unavailable: dict[str, str] = field(default_factory=dict)
    coverage: dict[str, str] = field(default_factory=dict)
    limits: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SyncState:
    """What a connector kept of a page's last fetch: its own opaque JSON ``data``, when
    the page was last fetched in full, and ``problem``: why a stored state could not be
    read (then ``data`` is empty and the page is fetched in full, saying so)."""

    data: Mapping[str, Any]
    full_fetch_at: datetime | None
    problem: str | None = None


@dataclass(frozen=True)
class SyncedFetch:
    """A page fetched through :meth:`Connector.fetch_page_synced` or
    :meth:`Connector.fetch_page_seen`: the snapshot, the state to keep (``None``: keep
    nothing), whether it was a full fetch, whether the state is the one it started from
    (then there is nothing to write), and the digest of the content as read where the
    connector makes one (``content``; then ``snapshot`` is None when that digest is the
    one it was told was seen: the content is unchanged and was not parsed)."""

    snapshot: PageSnapshot | None
    state: dict[str, Any] | None
    full: bool
    unchanged: bool = False
    content: str | None = None


@dataclass(frozen=True)
class Fetched:
    """What :meth:`Connector.fetch_page_changed` returns: the ``snapshot`` (None only when
    its content is the ``seen`` one, then not built), the ``state`` to keep, and the
    digest of the content as read (``content``; None: the connector makes none)."""

    snapshot: PageSnapshot | None
    state: dict[str, Any] | None
    content: str | None = None


def snapshot_digest(snapshot: PageSnapshot) -> str:
    """Digest of everything in ``snapshot`` the rules read (all but ``fetched_at``), for a
    connector giving its content's digest: two snapshots with one digest are the same
    page to the rules. At most 80 characters (``page_inputs.content``)."""
    text = snapshot.model_dump_json(exclude={"fetched_at"})
    return "snapshot:" + hashlib.sha256(text.encode()).hexdigest()


class Connector(ABC):
    """Base class of all connectors: one instance per ``[[connectors]]`` block."""

    type: ClassVar[str]
    summary: ClassVar[str] = ""
    Settings: ClassVar[type[ConnectorSettings]] = ConnectorSettings
    platform: ClassVar[str | None] = None
    """The snapshot ``platform`` this connector fetches (None: any, as the file connector)."""
    remediation: ClassVar[Mapping[str, str]] = MappingProxyType({})
    """Rule id -> how to fix that rule's failure on :attr:`platform`, in its own terms."""

    def __init__(self, name: str, settings: ConnectorSettings, base_dir: Path | None = None):
        self.name = name
        self.settings = settings
        self.base_dir = base_dir or Path.cwd()

    @abstractmethod
    async def fetch_page(self, ref: PageRef) -> PageSnapshot:
        """Fetch settings, members and posts of one page; raise ConnectorError on failure."""

    async def fetch_page_incremental(
        self, ref: PageRef, state: Mapping[str, Any] | None
    ) -> tuple[PageSnapshot, dict[str, Any] | None]:
        """The page and the state to keep for the next fetch, given the ``state`` this
        connector returned last time (``None``: fetch in full). A state it cannot use
        (unreadable, expired on the platform) must fall back to a full fetch with a
        warning in the snapshot, never an error. By default: :meth:`fetch_page`, keeping
        nothing."""
        return await self.fetch_page(ref), None

    async def fetch_page_changed(
        self, ref: PageRef, state: Mapping[str, Any] | None, seen: str | None
    ) -> Fetched:
        """:meth:`fetch_page_incremental`, told ``seen``: the digest of the page's content
        its stored results were evaluated from, as this connector gave it (``content``)
        last time, when those results may be re-used (None otherwise). A connector that
        can prove from its answers and ``state`` alone that the content is still ``seen``
        returns no snapshot and ``seen`` as its ``content`` (the page is recorded
        unchanged without being built or evaluated); one that digests what it read gives
        that digest (:func:`snapshot_digest` of the snapshot it returns). Nothing it did
        not read may be claimed unchanged: a fetch cut short, partly failed or read
        differently (a fallback said in warnings) builds its snapshot. By default:
        :meth:`fetch_page_incremental`, with no digest."""
        snapshot, kept = await self.fetch_page_incremental(ref, state)
        return Fetched(snapshot, kept)

    @property
    def incremental(self) -> bool:
        """Whether this connector overrides :meth:`fetch_page_incremental` (or
        :meth:`fetch_page_changed`)."""
        cls = type(self)
        return (
            cls.fetch_page_incremental is not Connector.fetch_page_incremental
            or cls.fetch_page_changed is not Connector.fetch_page_changed
        )

    async def fetch_page_in_time(self, ref: PageRef) -> PageSnapshot:
        """:meth:`fetch_page` stopped at the settings' ``page_deadline_s``: running out of
        time is a ConnectorError naming the deadline (the page's error; the run goes on)."""
        async with self._deadline():
            return await self.fetch_page(ref)

    async def fetch_page_seen(self, ref: PageRef, seen: str | None) -> SyncedFetch:
        """The page fetched in full within ``page_deadline_s``, for a connector that keeps
        no sync state. ``seen`` is the digest of the page's content when it was last
        evaluated, if its results may be re-used: a connector that reads a page as one
        piece overrides this to give that piece's digest (``content``), and no snapshot
        when the digest equals ``seen`` (the page is then not even parsed)."""
        return SyncedFetch(await self.fetch_page_in_time(ref), None, True)

    async def fetch_page_synced(
        self,
        ref: PageRef,
        previous: SyncState | None,
        now: datetime,
        full: bool = False,
        seen: str | None = None,
    ) -> SyncedFetch:
        """:meth:`fetch_page_changed` from ``previous`` (told ``seen``, see there), within
        ``page_deadline_s``; in full when ``full`` is asked, when there is no usable
        state, or when a full fetch is due (:func:`full_fetch_due`). A state that could not
        be read is said in the snapshot's warnings."""
        usable = (
            previous is not None
            and previous.problem is None
            and previous.full_fetch_at is not None
            and not full_fetch_due(
                ref.id, previous.full_fetch_at, now, self.settings.full_refresh_days
            )
        )
        state = previous.data if previous is not None and usable and not full else None
        async with self._deadline():
            fetched = await self.fetch_page_changed(ref, state, seen if state is not None else None)
        snapshot, kept, content = fetched.snapshot, fetched.state, fetched.content
        if previous is not None and previous.problem is not None and snapshot is not None:
            note = f"stored sync state unusable ({previous.problem}): fetched in full"
            snapshot = snapshot.model_copy(update={"warnings": [*snapshot.warnings, note]})
            content = None  # the connector's digest was of the snapshot without the note
        unchanged = state is not None and kept == state
        return SyncedFetch(snapshot, kept, state is None, unchanged, content)

    @asynccontextmanager
    async def _deadline(self) -> AsyncIterator[None]:
        """End the block at ``page_deadline_s`` with a ConnectorError naming the deadline
        (the page's error; the run goes on)."""
        seconds = self.settings.page_deadline_s
        try:
            async with asyncio.timeout(seconds):
                yield
        except TimeoutError:
            raise ConnectorError(
                f"{self.type}: the page was not fetched within {seconds:g} s "
                "(page_deadline_s); stopped"
            ) from None

    @property
    def can_discover(self) -> bool:
        """Whether this connector implements :meth:`discover`."""
        return type(self).discover is not Connector.discover

    async def discover(self) -> AsyncIterator[DiscoveredGroup]:
        """Yield every group the credentials can see; connectors that can, override this."""
        raise NotImplementedError(f"connector type {self.type!r} cannot list groups")
        yield  # pragma: no cover - makes this an async generator

    async def aclose(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release network clients and files."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
