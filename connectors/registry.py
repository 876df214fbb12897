"""Finds installed connectors through the ``page_auditor.connectors`` entry-point group.

An entry point's name is its connector's ``type``. A connector's module is imported the
first time its type is asked for, so a run loads only the connectors it uses (each
module's platform models cost a start-up); listing them all imports every one."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from importlib.metadata import EntryPoint, entry_points

from auditor.connectors.base import Connector

ENTRY_POINT_GROUP = "page_auditor.connectors"
log = logging.getLogger(__name__)


class InstalledConnectors(Mapping[str, type[Connector]]):
    """Connector classes by ``type``, each loaded when first asked for. A plugin that
    fails to load, or is not a :class:`Connector` named by its own ``type``, is logged
    once and is not installed: looking it up raises ``KeyError``, listing skips it."""

    def __init__(self, points: Iterable[EntryPoint]) -> None:
        """Over the entry points ``points`` (the last of a repeated name wins)."""
        self._points = {ep.name: ep for ep in points}
        self._loaded: dict[str, type[Connector] | None] = {}

    def __getitem__(self, kind: str) -> type[Connector]:
        """The connector class of type ``kind``, imported on first use."""
        if kind not in self._loaded:
            point = self._points.get(kind)
            self._loaded[kind] = None if point is None else _load(point)
        cls = self._loaded[kind]
        if cls is None:
            raise KeyError(kind)
        return cls

    def __iter__(self) -> Iterator[str]:
        """Every installed type, sorted (loads each, to leave out the broken ones)."""
        return iter([kind for kind in sorted(self._points) if kind in self])

    def __len__(self) -> int:
        """How many connectors load."""
        return sum(1 for _ in self)


def _load(point: EntryPoint) -> type[Connector] | None:
    try:
        cls = point.load()
    except Exception as exc:  # a broken third-party plugin must not stop the auditor
        log.warning("connector plugin %r could not be loaded: %s", point.name, exc)
        return None
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        log.warning("connector plugin %r is not a Connector subclass; skipped", point.name)
        return None
    if cls.type != point.name:
        log.warning(
            "connector plugin %r declares type %r; an entry point must be named by its "
            "connector's type; skipped",
            point.name,
            cls.type,
        )
        return None
    return cls


@cache
def available_connectors() -> InstalledConnectors:
    """The installed connectors, found once a process, each loaded when first used."""
    return InstalledConnectors(entry_points(group=ENTRY_POINT_GROUP))


def platform_remediation(types: Iterable[str] | None = None) -> dict[str, Mapping[str, str]]:
    """Per snapshot platform, the remediation steps its installed connector declares: of
    the connectors of ``types`` only (the platforms a run's pages can be on), or of every
    one when ``types`` is None or holds a connector that reads any platform (``file``)."""
    installed = available_connectors()
    chosen = [installed[kind] for kind in types or () if kind in installed]
    if types is None or any(cls.platform is None for cls in chosen):
        chosen = list(installed.values())
    return {cls.platform: cls.remediation for cls in chosen if cls.platform is not None}
