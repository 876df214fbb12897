"""Reads a config file and cross-checks it against everything it names.

The schema (:mod:`auditor.config`) checks each value on its own; this step reads the TOML
file, adds the pages of ``[registry] pages_csv``, resolves relative paths against the config
file's folder and checks that connectors, rule ids, pages and the roster exist. Every error
becomes one line naming the file and the key (``ConfigError``).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from auditor.config import Config, ConnectorConfig
from auditor.connectors.registry import available_connectors
from auditor.errors import ConfigError
from auditor.pages_csv import read_pages_csv
from auditor.people import roster_errors
from auditor.rules import catalog
from auditor.validation import error_lines


def load_config(path: str | Path) -> Config:
    """Read, validate and cross-check a config file; raise ConfigError with one line each."""
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{name}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name}: cannot read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: not valid TOML: {exc}") from None
    return config_from_dict(data, path)


def config_from_dict(data: dict[str, Any], path: Path) -> Config:
    """Validate already-parsed TOML data as if it came from ``path``."""
    name = str(path)
    try:
        config = Config.model_validate(data, context={"base_dir": path.resolve().parent})
    except ValidationError as exc:
        raise ConfigError(error_lines(exc, prefix=f"{name}: ")) from None
    config = config.model_copy(update={"source": path.resolve()})
    _resolve_paths(config)
    errors: list[str] = []
    if config.registry.pages_csv is not None:
        try:
            csv_pages = read_pages_csv(config.registry.pages_csv)
        except ConfigError as exc:
            errors.extend(exc.lines)
        else:
            config.pages = [*config.pages, *csv_pages]
    errors.extend(_cross_check(config, name))
    if errors:
        raise ConfigError(errors)
    return config


def _resolve_paths(config: Config) -> None:
    base = config.base_dir
    config.reports.output_dir = base / config.reports.output_dir
    if config.roster.oneroster_dir is not None:
        config.roster.oneroster_dir = base / config.roster.oneroster_dir
    if config.registry.pages_csv is not None:
        config.registry.pages_csv = base / config.registry.pages_csv
    model = config.rules.classifier.path
    if model is not None:
        config.rules.classifier.path = base / model
    url = config.database.url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        rel = url.removeprefix("sqlite:///")
        if rel and rel != ":memory:" and not rel.startswith("/"):
            config.database.url = f"sqlite:///{base / rel}"


def _cross_check(config: Config, name: str) -> list[str]:
    errors: list[str] = []
    installed = available_connectors()
    connector_names: set[str] = set()
    for i, conn in enumerate(config.connectors):
        where = f"{name}: connectors[{i}]"
        if conn.name in connector_names:
            errors.append(f"{where}.name: duplicate connector name {conn.name!r}")
        connector_names.add(conn.name)
        if conn.type not in installed:
            known = ", ".join(installed) or "none"
            errors.append(
                f"{where}.type: unknown connector type {conn.type!r} (installed: {known})"
            )
            continue
        try:
            installed[conn.type].Settings.model_validate(
                conn.raw_settings, context={"base_dir": config.base_dir}
            )
        except ValidationError as exc:
            errors.extend(error_lines(exc, prefix=f"{where}."))
    seen: set[str] = set()
    for i, page in enumerate(config.pages):
        where = f"{name}: pages[{i}] (id {page.id!r})"
        if page.id in seen:
            errors.append(f"{where}.id: duplicate page id {page.id!r}")
        seen.add(page.id)
        if page.connector not in connector_names:
            errors.append(f"{where}.connector: no [[connectors]] named {page.connector!r}")
    roster_dir = config.roster.oneroster_dir
    if roster_dir is not None and not roster_dir.is_dir():
        errors.append(f"{name}: roster.oneroster_dir: folder not found: {roster_dir}")
    else:
        errors.extend(roster_errors(config, name))
    rule_ids = set(catalog.rule_ids())
    for rule_id in config.rules.overrides:
        if rule_id not in rule_ids:
            errors.append(f"{name}: rules.overrides.{rule_id!r}: unknown rule id")
    for i, waiver in enumerate(config.waivers):
        if waiver.page not in seen:
            errors.append(f"{name}: waivers[{i}].page: no page with id {waiver.page!r}")
        if waiver.rule not in rule_ids:
            errors.append(f"{name}: waivers[{i}].rule: unknown rule id {waiver.rule!r}")
    schools = {page.school for page in config.pages}
    for school in config.schools:
        if school not in schools:
            errors.append(
                f"{name}: schools.{school!r}: no registered page has this school "
                "(a page's school must match it exactly)"
            )
    return errors


def connector_settings(config: Config, conn: ConnectorConfig) -> Any:
    """The validated settings object of one ``[[connectors]]`` block."""
    cls = available_connectors()[conn.type]
    return cls.Settings.model_validate(conn.raw_settings, context={"base_dir": config.base_dir})


def unset_secrets(config: Config) -> list[str]:
    """One line per ``*_env`` key whose environment variable is not set now (the variables
    are names, checked not to look like secrets, so they may be shown)."""
    name = str(config.source)
    lines = []
    for i, conn in enumerate(config.connectors):
        try:
            settings = connector_settings(config, conn)
        except (KeyError, ValidationError):
            continue  # reported by the config check itself
        for key, value in settings.model_dump().items():
            if key.endswith("_env") and isinstance(value, str) and not os.environ.get(value):
                lines.append(
                    f"{name}: connectors[{i}] ({conn.name}).{key}: the environment variable "
                    f"{value} is not set"
                )
    email = config.email
    for key in ("username_env", "password_env"):
        value = getattr(email, key)
        if value and not os.environ.get(value):
            lines.append(f"{name}: email.{key}: the environment variable {value} is not set")
    return lines
