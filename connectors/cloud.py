"""Building blocks for connectors that call a platform's web API.

``CloudConnectorSettings`` adds the shared ``base_url``/``token_url`` (https only, plain
http just for loopback simulators and tests; ``token_url`` optional, for platforms with an
OAuth2 token endpoint), ``max_attempts``, ``max_retry_after_s``, ``request_deadline_s`` and
``max_response_mb`` settings; ``CloudConnector`` owns the shared
:class:`~auditor.connectors.http.HttpClient`, built from the settings and the connector's
hooks (``oauth``, ``headers``, ``request_auth``, ``error_detail``, ``rate_limit_wait``,
``api_base_url``, ``extra_origins``); ``read_secret``
reads ``*_env`` secrets; ``parse`` validates a platform payload with a pydantic model and
turns a mismatch into a ConnectorError that names the platform and the field;
``map_enum`` maps platform enum values, warning (never crashing) on unknown ones.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    field_validator,
)

from auditor.connectors.base import Connector, ConnectorError, ConnectorSettings
from auditor.connectors.http import HttpClient, OAuth2, check_api_url
from auditor.logs import register_secret
from auditor.validation import dotted

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class CloudConnectorSettings(ConnectorSettings):
    """Settings shared by connectors that call a platform's API over HTTPS."""

    base_url: str = Field(description="API base URL (https; http only for loopback hosts).")
    token_url: str | None = Field(
        None,
        description="OAuth2 token endpoint, for platforms that use one (https; http only for "
        "loopback).",
    )
    max_attempts: PositiveInt = Field(
        5, le=20, description="Tries per request on network errors, 5xx and rate limiting."
    )
    max_retry_after_s: float = Field(
        300.0, gt=0, description="Longest Retry-After wait honoured before giving up, seconds."
    )
    request_deadline_s: PositiveFloat = Field(
        120.0,
        description="Longest one attempt of a request may take, from sending it to the last "
        "byte of the answer, seconds (timeout_s only bounds the wait between bytes).",
    )
    max_concurrency_ceiling: PositiveInt | None = Field(
        None,
        description="Let requests in flight ramp up from max_concurrency to this many while "
        "the platform's answers stay fast (halved on each burst of rate-limit or 5xx "
        "answers); none: max_concurrency is a hard cap. See docs/rate-limits.md for the "
        "limits that bind on each platform.",
    )
    max_response_mb: PositiveFloat = Field(
        50.0,
        description="Largest answer read, in MB after decompression; a larger one is the "
        "page's error.",
    )

    @property
    def pages_in_flight(self) -> int:
        """Pages fetched at the same time: as many as requests may ever be in flight."""
        return max(self.max_concurrency, self.max_concurrency_ceiling or 0)

    @field_validator("base_url", "token_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        """https (plain http only on loopback), without a trailing slash; unset stays unset."""
        return None if value is None else check_api_url(value)


class PlatformModel(BaseModel):
    """Base of the pydantic models describing a platform's JSON (unknown fields ignored)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True, defer_build=True)


class CloudConnector(Connector):
    """A connector with a shared HTTP client (``self.http``) built from its settings.

    Subclasses describe their platform by overriding hooks, never by replacing the client:
    ``oauth()``, ``headers()`` or ``request_auth()`` for how requests are authenticated,
    ``error_detail()`` and ``rate_limit_wait()`` for how the platform's answers read,
    ``api_base_url()`` and ``extra_origins()`` for where the API lives. All but the two
    answer hooks are read once, while the client is built (``self.settings`` is set by then,
    so they may read secrets); ``error_detail`` and ``rate_limit_wait`` are called for each
    answer they concern.
    """

    settings: CloudConnectorSettings

    def __init__(
        self, name: str, settings: CloudConnectorSettings, base_dir: Path | None = None
    ) -> None:
        """The connector ``name`` with its client built from ``settings`` and the hooks."""
        super().__init__(name, settings, base_dir)
        self.http = HttpClient(
            self.type,
            self.api_base_url(),
            timeout_s=settings.timeout_s,
            max_concurrency=settings.max_concurrency,
            max_concurrency_ceiling=settings.max_concurrency_ceiling,
            requests_per_second=settings.requests_per_second,
            max_attempts=settings.max_attempts,
            max_retry_after_s=settings.max_retry_after_s,
            max_response_mb=settings.max_response_mb,
            request_deadline_s=settings.request_deadline_s,
            auth=self.oauth(),
            request_auth=self.request_auth(),
            headers=self.headers(),
            extra_origins=self.extra_origins(),
            error_detail=self.error_detail,
            rate_limit_wait=self.rate_limit_wait,
        )

    def oauth(self) -> OAuth2 | None:
        """The token endpoint and form; ``None`` for platforms without OAuth2."""
        return None

    def headers(self) -> Mapping[str, str]:
        """Fixed headers sent with every request, e.g. a fixed token (``Authorization: Bot
        ...``, ``X-Access-Token``) or a required ``User-Agent``; none by default."""
        return {}

    def request_auth(self) -> httpx.Auth | None:
        """An :class:`httpx.Auth` run on every attempt of every request, for platforms that
        sign requests (OAuth 1.0a); ``None`` by default. Not together with ``oauth()``."""
        return None

    def error_detail(self, response: httpx.Response) -> str | None:
        """The words after ``HTTP <status>, `` in the page error for a non-success
        ``response``: what the status means on this platform and the platform's own message
        from the body (shortened, secrets masked). ``None`` keeps the shared hint
        (:func:`~auditor.connectors.http.status_hint`)."""
        return None

    def rate_limit_wait(self, response: httpx.Response) -> float | None:
        """Seconds a rate-limited or 5xx ``response`` asks to wait, read the platform's way;
        ``None`` uses ``Retry-After`` and the usual rate-limit headers. A limit on every call
        (not just this route) can also hold the whole client with ``self.http.pause()``."""
        return None

    def api_base_url(self) -> str:
        """The URL relative request paths start from: ``base_url`` unless the platform's
        API sits under a path of it."""
        return self.settings.base_url

    def extra_origins(self) -> tuple[str, ...]:
        """Other API hosts this connector calls besides ``base_url`` (no pagination there)."""
        return ()

    def parse(self, model: type[M], data: Any, what: str) -> M:
        """``data`` validated as ``model``; a mismatch names the platform, ``what`` and field."""
        return parse(self.type, model, data, what)

    async def aclose(self) -> None:
        """Close the shared client's connections."""
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
            f"{platform}: the environment variable named by setting {setting} is not set"
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
