"""Building blocks for connectors that call a platform's web API.

``CloudConnectorSettings`` adds the shared ``base_url``/``token_url``/``max_attempts``
settings (https only, plain http just for loopback simulators and tests);
``CloudConnector`` owns the shared :class:`~auditor.connectors.http.HttpClient`; ``read_secret``
reads ``*_env`` secrets; ``parse`` validates a platform payload with a pydantic model and
turns a mismatch into a ConnectorError that names the platform and the field;
``map_enum`` maps platform enum values, warning (never crashing) on unknown ones.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, field_validator

from auditor.connectors.base import Connector, ConnectorError, ConnectorSettings
from auditor.connectors.http import HttpClient, OAuth2, check_api_url
from auditor.logs import register_secret
from auditor.validation import dotted

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class CloudConnectorSettings(ConnectorSettings):
    """Settings shared by connectors that call a platform's API over HTTPS."""

    base_url: str = Field(description="API base URL (https; http only for loopback hosts).")
    token_url: str = Field(description="OAuth2 token endpoint (https; http only for loopback).")
    max_attempts: PositiveInt = Field(
        5, le=20, description="Tries per request on network errors, 5xx and rate limiting."
    )
    max_retry_after_s: float = Field(
        300.0, gt=0, description="Longest Retry-After wait honoured before giving up, seconds."
    )

    @field_validator("base_url", "token_url")
    @classmethod
    def _https(cls, value: str) -> str:
        return check_api_url(value)


class PlatformModel(BaseModel):
    """Base of the pydantic models describing a platform's JSON (unknown fields ignored)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class CloudConnector(Connector):
    """A connector with a shared HTTP client built from its settings."""

    settings: CloudConnectorSettings

    def __init__(
        self, name: str, settings: CloudConnectorSettings, base_dir: Path | None = None
    ) -> None:
        super().__init__(name, settings, base_dir)
        self.http = HttpClient(
            self.type,
            settings.base_url,
            timeout_s=settings.timeout_s,
            max_concurrency=settings.max_concurrency,
            requests_per_second=settings.requests_per_second,
            max_attempts=settings.max_attempts,
            max_retry_after_s=settings.max_retry_after_s,
            auth=self.oauth(),
            extra_origins=self.extra_origins(),
        )

    def oauth(self) -> OAuth2 | None:
        """The token endpoint and form; ``None`` for platforms without OAuth2."""
        return None

    def extra_origins(self) -> tuple[str, ...]:
        """Other API hosts this connector calls besides ``base_url`` (no pagination there)."""
        return ()

    def parse(self, model: type[M], data: Any, what: str) -> M:
        """``data`` validated as ``model``; a mismatch names the platform, ``what`` and field."""
        return parse(self.type, model, data, what)

    async def aclose(self) -> None:
        await self.http.aclose()


def parse(platform: str, model: type[M], data: Any, what: str) -> M:
    """Validate an untrusted platform payload; errors name platform, payload and field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        detail = "; ".join(f"field {dotted(e['loc'])}: {e['msg']}" for e in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        raise ConnectorError(f"{platform}: unexpected {what} payload: {detail}{more}") from None


def read_secret(platform: str, setting: str, env_name: str) -> str:
    """The secret held by environment variable ``env_name`` (named by ``setting``)."""
    value = os.environ.get(env_name, "")
    if not value.strip():
        raise ConnectorError(
            f"{platform}: environment variable {env_name} (setting {setting}) is not set"
        )
    register_secret(value)
    return value


def map_enum(setting: str, raw: str | None, table: dict[str, T], warnings: list[str]) -> T | None:
    """``table[raw]``; an unknown value adds a warning naming ``setting`` and maps to None."""
    if raw is None:
        return None
    if raw in table:
        return table[raw]
    shown = raw if len(raw) <= 60 else raw[:57] + "..."
    warnings.append(f"{setting}: unknown value {shown!r}; left unset")
    return None
