"""``check-config --connect``: each connector's credentials and the SMTP login tried for
real, without an audit: one line each, saying what worked or why not."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from auditor.config import Config, PageConfig
from auditor.connectors.base import Connector, PageRef
from auditor.connectors.registry import available_connectors
from auditor.email.smtp import SmtpSession, SmtpUnavailable, credentials
from auditor.errors import ConfigError
from auditor.loading import connector_settings


@dataclass(frozen=True)
class Check:
    """What one connection try found."""

    what: str
    ok: bool
    detail: str


def check_connections(config: Config) -> list[Check]:
    """Try every connector (reading its first registered page, or listing its groups) and,
    when ``[email] from`` is set, the SMTP server's login."""
    checks = asyncio.run(_connectors(config))
    if config.email.from_ is not None:
        checks.append(_smtp(config))
    return checks


async def _connectors(config: Config) -> list[Check]:
    installed = available_connectors()
    checks = []
    for conf in config.connectors:
        what = f"connector {conf.name} ({conf.type})"
        try:
            conn = installed[conf.type](
                conf.name, connector_settings(config, conf), config.base_dir
            )
            async with conn:
                detail = await _try(conn, [p for p in config.pages if p.connector == conf.name])
        except Exception as exc:  # every failure is this connector's line, never a traceback
            checks.append(Check(what, False, _one_line(exc)))
            continue
        checks.append(Check(what, True, detail))
    return checks


async def _try(conn: Connector, pages: list[PageConfig]) -> str:
    """Read the connector's first page, else list its groups; what that showed."""
    if pages:
        page = pages[0]
        snapshot = await conn.fetch_page(PageRef(page.id, page.external_id, page.name))
        members = len(snapshot.members) if snapshot.members is not None else "no"
        return f"read page {page.id} ({members} members)"
    if conn.can_discover:
        async for group in conn.discover():
            return f"can list groups (first: {group.name})"
        return "can list groups (none visible)"
    return "no page registered and it cannot list groups: nothing to try"


def _smtp(config: Config) -> Check:
    """Connect to the SMTP server and log in, as a send would; nothing is sent."""
    cfg = config.email
    what = f"SMTP {cfg.smtp_host}:{cfg.smtp_port}"
    try:
        login = credentials(config)
    except ConfigError as exc:
        return Check(what, False, str(exc))
    try:
        with SmtpSession(cfg, login) as session:
            session.open()
    except SmtpUnavailable as exc:
        return Check(what, False, str(exc))
    return Check(what, True, "logged in" if login else "connected (no login configured)")


def _one_line(exc: BaseException) -> str:
    """An exception as one line, without a traceback."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
