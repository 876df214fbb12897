"""Loads and validates the TOML configuration (contract: DESIGN.md "Config").

Every error becomes one line naming the file and the key (``ConfigError``); secrets are
only ever named by environment variable (``*_env`` keys). Relative paths are relative
to the config file.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)

from auditor.errors import ConfigError
from auditor.results import Severity
from auditor.validation import error_lines

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PAGE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _email(value: str) -> str:
    value = value.strip()
    if not EMAIL_RE.match(value):
        raise ValueError("not an email address")
    return value.lower()


def _env_name(value: str) -> str:
    if not ENV_NAME_RE.match(value):
        raise ValueError("must be the name of an environment variable, not the secret itself")
    return value


def _domain(value: str) -> str:
    value = value.strip().lower().lstrip("@").rstrip(".")
    if not value or "/" in value or " " in value or "." not in value:
        raise ValueError("not a domain name (e.g. 'danbury.k12.ct.us')")
    return value


Email = Annotated[str, AfterValidator(_email)]
EnvName = Annotated[str, AfterValidator(_env_name)]
Domain = Annotated[str, AfterValidator(_domain)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DistrictConfig(_Section):
    """``[district]``: who the district is and how its people and sites are told apart."""

    name: str = "School District"
    web_domains: list[Domain] = []
    staff_email_domains: list[Domain] = []
    student_email_domains: list[Domain] = []
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                "unknown time zone (use an IANA name such as 'America/New_York')"
            ) from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class DatabaseConfig(_Section):
    """``[database]``: an SQLAlchemy URL; SQLite by default."""

    url: str = "sqlite:///auditor.db"

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("must start with sqlite:// or postgresql+psycopg://")
        return value


class ReportsConfig(_Section):
    """``[reports]``: where reports go and where they are published."""

    output_dir: Path = Path("audit-report")
    base_url: str | None = None

    @field_validator("base_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value


class EmailConfig(_Section):
    """``[email]``: SMTP delivery of digests and alerts."""

    smtp_host: str = "localhost"
    smtp_port: PositiveInt = 587
    from_: Email | None = Field(None, alias="from")
    starttls: bool = True
    tls: bool = False
    username_env: EnvName | None = None
    password_env: EnvName | None = None
    it_recipients: list[Email] = []
    urgent_alerts: bool = True
    urgent_min_severity: Severity = Severity.HIGH

    @model_validator(mode="after")
    def _one_tls_mode(self) -> EmailConfig:
        if self.tls and self.starttls:
            raise ValueError("choose either tls (implicit TLS) or starttls, not both")
        return self


class ScheduleConfig(_Section):
    """``[schedule]``: cron strings in the district's time zone."""

    audit: str | None = "0 2 * * *"
    digest: str | None = "0 6 * * *"

    @field_validator("audit", "digest")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value)
        except ValueError as exc:
            raise ValueError(f"not a cron expression ({exc})") from None
        return value


class RuleOverride(_Section):
    """``[rules.overrides."ID"]``: turn a rule off or change its severity."""

    enabled: bool = True
    severity: Severity | None = None


CommercialCategory = Literal[
    "financial-gain", "commercial", "political", "proselytizing", "solicitation"
]
Phrase = Annotated[str, Field(min_length=1, pattern=r"\S")]


class RulesConfig(_Section):
    """``[rules]``: thresholds and exceptions shared by the rules."""

    monitoring_max_days: PositiveInt = 14
    allowed_domains: list[Domain] = []
    overrides: dict[str, RuleOverride] = {}
    # Content rules (DS 3, DS 6, DS 7, DS 8): additions to the lists in auditor/data.
    student_id_pattern: str | None = None
    personal_social_domains: list[Domain] = []
    commercial_phrases: dict[CommercialCategory, list[Phrase]] = {}
    speech_terms: list[Phrase] = []
    speech_allowed: list[Phrase] = []

    @field_validator("student_id_pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression ({exc})") from None
        if compiled.fullmatch(""):
            raise ValueError("must not match an empty string (e.g. '\\b\\d{6}\\b')")
        return value


class RosterConfig(_Section):
    """``[roster]``: the OneRoster 1.1 CSV export that tells students, guardians and staff."""

    oneroster_dir: Path | None = None


class RegistryConfig(_Section):
    """``[registry]``: pages kept as a spreadsheet (CSV) beside or instead of ``[[pages]]``."""

    pages_csv: Path | None = None


class ConnectorConfig(BaseModel):
    """``[[connectors]]``: a named connector instance; its own settings are in ``settings``."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    type: str

    @property
    def raw_settings(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


PageKindConfig = Literal["club", "team", "activity", "organization"]


class PageConfig(_Section):
    """``[[pages]]`` (or a row of ``pages_csv``): one registered club or team page."""

    id: Annotated[str, Field(pattern=PAGE_ID_RE.pattern)]
    connector: str
    external_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    kind: PageKindConfig = "club"
    school: str = ""
    owner: Email
    supervisor: Email
    approved_by: Email | None = None
    approved_on: date | None = None
    roster_class: str | None = None
    students: list[str] = []

    @model_validator(mode="after")
    def _one_student_source(self) -> PageConfig:
        if self.roster_class and self.students:
            raise ValueError("give either roster_class or students, not both")
        return self


class WaiverConfig(_Section):
    """``[[waivers]]``: an approved exception that turns a matching fail into ``waived``."""

    page: str
    rule: str
    reason: str = Field(min_length=1)
    approved_by: Email
    expires: date | None = None


class Config(_Section):
    """The whole configuration file."""

    district: DistrictConfig = DistrictConfig()
    database: DatabaseConfig = DatabaseConfig()
    reports: ReportsConfig = ReportsConfig()
    email: EmailConfig = EmailConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    rules: RulesConfig = RulesConfig()
    roster: RosterConfig = RosterConfig()
    registry: RegistryConfig = RegistryConfig()
    connectors: list[ConnectorConfig] = []
    pages: list[PageConfig] = []
    waivers: list[WaiverConfig] = []

    source: Path = Field(Path("config.toml"), exclude=True)

    @property
    def base_dir(self) -> Path:
        return self.source.parent

    def page(self, page_id: str) -> PageConfig:
        for page in self.pages:
            if page.id == page_id:
                return page
        raise KeyError(page_id)


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
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(error_lines(exc, prefix=f"{name}: ")) from None
    config = config.model_copy(update={"source": path.resolve()})
    _resolve_paths(config)
    errors: list[str] = []
    if config.registry.pages_csv is not None:
        from auditor.registry import read_pages_csv

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
    url = config.database.url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        rel = url.removeprefix("sqlite:///")
        if rel and rel != ":memory:" and not rel.startswith("/"):
            config.database.url = f"sqlite:///{base / rel}"


def _cross_check(config: Config, name: str) -> list[str]:
    from auditor.rules import catalog
    from connectors.registry import available_connectors

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
        from auditor.people import roster_errors

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
    return errors


def connector_settings(config: Config, conn: ConnectorConfig) -> Any:
    """The validated settings object of one ``[[connectors]]`` block."""
    from connectors.registry import available_connectors

    cls = available_connectors()[conn.type]
    return cls.Settings.model_validate(conn.raw_settings, context={"base_dir": config.base_dir})
