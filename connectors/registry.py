"""Finds installed connectors through the ``page_auditor.connectors`` entry-point group.

A connector's module is imported the first time its type is asked for, so a run loads
only the connectors it uses (each module's platform models cost a start-up); listing them
all imports every one. An entry point is named by its connector's ``type``; one named
otherwise still works, found by importing every connector once its type is asked for.
Every platform's fix steps (what a run over snapshot files keeps) are read from the shipped
connectors' data files, without importing them, unless a plugin is installed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from importlib.metadata import EntryPoint, entry_points

from auditor.connectors.base import SHIPPED, Connector, shipped_remediation

ENTRY_POINT_GROUP = "page_auditor.connectors"
DISTRIBUTION = "page-auditor"  # the distribution that ships them
log = logging.getLogger(__name__)


class InstalledConnectors(Mapping[str, type[Connector]]):
    """Connector classes by ``type``, each imported when first asked for. Where two entry
    points give one type, one named by that type wins over one named otherwise, and of two
    named alike the later, as entry points are listed (so an answer never changes once
    given). A plugin that fails to import, or is not a :class:`Connector` with a ``type``,
    is logged once and is not installed: looking its type up raises ``KeyError``, listing
    skips it. Safe to use from several threads (each plugin is imported once)."""

    def __init__(self, points: Iterable[EntryPoint]) -> None:
        """Over the entry points ``points``, in their order."""
        self._points = list(points)
        self._tried: set[int] = set()  # indexes of the points imported (or failed)
        # type -> ((named by its type, index), class): the highest rank wins
        self._found: dict[str, tuple[tuple[bool, int], type[Connector]]] = {}
        self._lock = threading.RLock()  # re-entrant: a plugin may ask while it imports

    def __getitem__(self, kind: str) -> type[Connector]:
        """The connector class of type ``kind``: the entry points named ``kind`` imported
        first, then (for a plugin named otherwise) every other one."""
        with self._lock:
            if kind not in self._found:
                self._load(i for i, point in enumerate(self._points) if point.name == kind)
            if kind not in self._found:
                self._load(range(len(self._points)))
            return self._found[kind][1]

    def __iter__(self) -> Iterator[str]:
        """Every installed type, sorted (imports every connector)."""
        with self._lock:
            self._load(range(len(self._points)))
            return iter(sorted(self._found))

    def __len__(self) -> int:
        """How many types are installed."""
        return sum(1 for _ in self)

    def steps(self) -> dict[str, Mapping[str, str]]:
        """Every installed connector's fix steps, by platform in type order. When every
        entry point is a connector shipped with the auditor, each one's steps are read
        from its data file (:func:`shipped_steps`) without importing its module (a
        quarter of a second for all of them); otherwise every connector is imported."""
        if all(_shipped(point) for point in self._points):
            shipped = sorted({point.name for point in self._points})
            steps = {name: shipped_steps(name) for name in shipped}
            return {name: found for name, found in steps.items() if found is not None}
        return {cls.platform: cls.remediation for cls in self.values() if cls.platform}

    def _load(self, indexes: Iterable[int]) -> None:
        for index in indexes:
            if index in self._tried:
                continue
            self._tried.add(index)
            point = self._points[index]
            cls = _load(point)
            if cls is None:
                continue
            rank = (point.name == cls.type, index)
            held = self._found.get(cls.type)
            if held is None or rank > held[0]:
                self._found[cls.type] = (rank, cls)


def _load(point: EntryPoint) -> type[Connector] | None:
    try:
        cls = point.load()
    except Exception as exc:  # a broken third-party plugin must not stop the auditor
        log.warning("connector plugin %r could not be loaded: %s", point.name, exc)
        return None
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        log.warning("connector plugin %r is not a Connector subclass; skipped", point.name)
        return None
    kind = getattr(cls, "type", None)
    if not isinstance(kind, str) or not kind:
        log.warning("connector plugin %r has no type; skipped", point.name)
        return None
    if kind != point.name:
        log.warning(
            "connector plugin %r gives type %r: name its entry point %r, so that it is "
            "found without importing every connector",
            point.name,
            kind,
            kind,
        )
    return cls


@cache
def available_connectors() -> InstalledConnectors:
    """The installed connectors, found once a process, each imported when first used."""
    return InstalledConnectors(entry_points(group=ENTRY_POINT_GROUP))


def platform_remediation(
    used: Iterable[type[Connector]] | None = None,
) -> dict[str, Mapping[str, str]]:
    """Per snapshot platform, the remediation steps its installed connector declares: of
    the connectors ``used`` only (the platforms a run's pages can be on), or of every
    installed one when ``used`` is None or holds one that reads any platform (``file``)."""
    chosen = list(used or ())
    steps = {cls.platform: cls.remediation for cls in chosen if cls.platform is not None}
    if used is None or any(cls.platform is None for cls in chosen):
        return available_connectors().steps() | steps
    return steps


def _shipped(point: EntryPoint) -> bool:
    """Whether ``point`` is one of the connectors the auditor's own distribution ships
    (another distribution's, even of a module in its package, is a plugin)."""
    dist = point.dist
    return dist is not None and dist.name == DISTRIBUTION and point.value.startswith(f"{SHIPPED}.")


def shipped_steps(name: str) -> Mapping[str, str] | None:
    """The fix steps of the connector shipped as ``name`` (its type and platform, as a
    test holds them all to), as its class reads them; None for one of any platform
    (``file``), which has none."""
    try:
        return shipped_remediation(name)
    except FileNotFoundError:
        return None
