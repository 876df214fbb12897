"""Finds groups the connectors' credentials can see that no ``[[pages]]`` entry registers
(DS 1: possibly set up without approval), for ``auditor discover`` and for each run.

A group counts as registered when its ``external_id`` or one of its aliases (a Google
group's id, a Microsoft 365 group's mail) matches, case-insensitively, the
``external_id`` of a page on the same connector.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from auditor.config import Config, ConnectorConfig
from auditor.connectors.base import Connector, ConnectorError, DiscoveredGroup
from auditor.connectors.registry import available_connectors
from auditor.db import models, store
from auditor.loading import connector_settings
from auditor.validation import describe_validation_error

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Unregistered:
    """A group seen on a platform that is not registered as a page."""

    connector: str
    platform: str
    group: DiscoveredGroup


@dataclass
class DiscoveryReport:
    """Unregistered groups, and one line per connector that could not list its groups."""

    unregistered: list[Unregistered] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    searched: list[str] = field(default_factory=list)


def _keys(group: DiscoveredGroup) -> set[str]:
    return {group.external_id.lower(), *(v.lower() for v in group.extra.values() if v)}


async def find_unregistered(
    config: Config, opened: Mapping[str, Connector] | None = None
) -> DiscoveryReport:
    """Run ``discover()`` on every configured connector that supports it, reusing the
    connectors in ``opened`` (a run's, with their tokens) and opening the others."""
    report = DiscoveryReport()
    opened = opened or {}
    installed = available_connectors()
    for conf in config.connectors:
        conn = opened.get(conf.name)
        cls = type(conn) if conn else installed.get(conf.type)
        if cls is None or cls.discover is Connector.discover:
            continue
        report.searched.append(conf.name)
        try:
            found = await (_list(conn) if conn else _discover(config, conf, cls))
        except Exception as exc:  # one platform failing must not hide the others
            report.errors.append(f"connector {conf.name!r}: {_describe(exc)}")
            continue
        registered = {p.external_id.lower() for p in config.pages if p.connector == conf.name}
        report.unregistered.extend(
            Unregistered(conf.name, conf.type, g) for g in found if not _keys(g) & registered
        )
    return report


async def _discover(
    config: Config, conf: ConnectorConfig, cls: type[Connector]
) -> list[DiscoveredGroup]:
    try:
        settings = connector_settings(config, conf)
    except ValidationError as exc:
        raise ValueError(describe_validation_error(exc)) from None
    async with cls(conf.name, settings, config.base_dir) as conn:
        return await _list(conn)


async def _list(conn: Connector) -> list[DiscoveredGroup]:
    """Every group a connector lists, once each."""
    seen: dict[str, DiscoveredGroup] = {}
    async for group in conn.discover():
        seen.setdefault(group.external_id, group)
    return list(seen.values())


def record(engine: Engine, run_id: int, report: DiscoveryReport) -> int:
    """Store the unregistered groups of ``report`` for ``run_id``; returns how many."""
    stamp = store.now()
    with Session(engine) as session:
        for item in report.unregistered:
            session.add(
                models.DiscoveredGroup(
                    run_id=run_id,
                    connector=item.connector,
                    platform=item.platform,
                    external_id=item.group.external_id[:500],
                    name=(item.group.name or item.group.external_id)[:500],
                    url=item.group.url,
                    found_at=stamp,
                )
            )
        session.commit()
    return len(report.unregistered)


def list_for_run(
    config: Config, opened: Mapping[str, Connector]
) -> asyncio.Task[DiscoveryReport | None]:
    """:func:`find_unregistered` with a run's open connectors, started now so that it runs
    beside the run's pages (its errors logged; None when it failed); hand it to
    :func:`record_for_run` once the pages are stored, or cancel it."""
    return asyncio.create_task(_listed(config, opened))


async def _listed(config: Config, opened: Mapping[str, Connector]) -> DiscoveryReport | None:
    """The unregistered groups, their errors logged; None when discovery failed."""
    try:
        report = await find_unregistered(config, opened)
    except Exception as exc:  # discovery is advisory: it can never fail the run
        log.warning("discovery failed: %s", _describe(exc))
        return None
    for line in report.errors:
        log.warning("discovery: %s", line)
    return report


async def record_for_run(
    engine: Engine, run_id: int, listing: Awaitable[DiscoveryReport | None]
) -> None:
    """Store for run ``run_id`` the unregistered groups ``listing`` (:func:`list_for_run`)
    found; never raises (logs instead)."""
    try:
        report = await listing
        if report is not None and report.searched:
            count = await asyncio.to_thread(record, engine, run_id, report)
            log.info("discovery: %d unregistered group(s) found", count)
    except Exception as exc:  # discovery is advisory: it can never fail the run
        log.warning("discovery failed: %s", _describe(exc))


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, ConnectorError | ValueError):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
