"""Contract tests every connector runs, as singer-sdk's standard tap tests do.

:class:`ConnectorContract` is for every connector: the snapshot validates as
``page-snapshot/1`` for the right platform, secrets in its settings are ``*_env`` names,
and its remediation names only known rules. :class:`HttpConnectorContract` adds what an
API connector must do: subclass it in the connector's tests, mock the platform with respx,
and the inherited tests check that

* multi-page listings are collected in full,
* a 429 with ``Retry-After`` is waited out for exactly the time asked,
* a 5xx is retried, and a persistent one becomes a page error naming the platform,
* a 401 refreshes the token exactly once (a second 401 is an error); a connector with a
  fixed token (``token_route = None``) makes the first 401 a page error,
* a malformed or truncated payload becomes a ConnectorError naming platform and field,
* the snapshot validates as ``page-snapshot/1``, and ``discover()`` lists every group.

Faults are injected by a catch-all respx route added before the connector's own routes:
it answers the first matching request(s) with the fault and lets the rest fall through.
Sleeping is replaced by a recorder (``self.waits``), so tests are fast and can assert
the waits the client asked for. See docs/writing-a-connector.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import respx

import auditor.connectors.http
from auditor.connectors.base import Connector, ConnectorError, PageRef
from auditor.rules import catalog
from auditor.snapshot import PageSnapshot

Fault = Callable[[httpx.Request], httpx.Response]


class FaultInjector:
    """Answers requests whose URL contains ``target`` with queued faults, once each."""

    def __init__(self) -> None:
        self.queue: list[tuple[str, Fault]] = []
        self.hits: list[str] = []

    def add(self, target: str, fault: Fault, times: int = 1) -> None:
        """Answer the next ``times`` requests whose URL contains ``target`` with ``fault``."""
        self.queue.extend([(target, fault)] * times)

    def __call__(self, request: httpx.Request) -> httpx.Response | None:
        url = str(request.url)
        for i, (target, fault) in enumerate(self.queue):
            if target in url:
                del self.queue[i]
                self.hits.append(url)
                return fault(request)
        return None  # not a fault: respx goes on to the connector's own routes


class ConnectorContract:
    """Base class of every connector's contract tests; subclasses fill in the platform."""

    platform: ClassVar[str]
    """The connector's ``type`` (and the snapshot's ``platform``)."""
    ref: ClassVar[PageRef]
    """A page the connector can fetch in the test's set-up."""

    def make_connector(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Connector:
        """The connector under test, with settings pointing at the mocked platform or files."""
        raise NotImplementedError

    @pytest.fixture
    def connector(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Connector:
        return self.make_connector(tmp_path, monkeypatch)

    async def fetch(self, connector: Connector) -> PageSnapshot:
        """Fetch :attr:`ref` and close the connector."""
        async with connector:
            return await connector.fetch_page(self.ref)

    @pytest.mark.asyncio
    async def test_snapshot_validates(self, connector: Connector) -> None:
        snapshot = await self.fetch(connector)
        again = PageSnapshot.model_validate_json(snapshot.model_dump_json())
        assert again == snapshot
        assert snapshot.platform == self.platform
        assert snapshot.external_id == self.ref.external_id

    def test_remediation_names_known_rules(self, connector: Connector) -> None:
        unknown = set(connector.remediation) - set(catalog.rule_ids())
        assert not unknown, f"remediation for unknown rule ids: {sorted(unknown)}"
        if connector.platform is not None:
            assert connector.platform == self.platform
            assert connector.remediation, "a platform connector declares its fix steps"

    def test_secrets_are_named_by_environment_variable(self, connector: Connector) -> None:
        fields = type(connector.settings).model_fields
        secretish = [
            name
            for name in fields
            if any(word in name for word in ("secret", "token", "password", "key"))
            and not name.endswith(("_env", "_url", "_file"))
        ]
        assert not secretish, f"secrets must be *_env settings: {secretish}"


class HttpConnectorContract(ConnectorContract):
    """Contract tests of a connector that reads a platform's HTTP API through respx mocks."""

    paged_route: ClassVar[str]
    """Name of the respx route of a listing that spans two or more pages."""
    fault_target: ClassVar[str]
    """A URL fragment of a data request (not the token) that faults are injected into."""
    token_route: ClassVar[str | None] = "token"
    """Name of the respx route of the token endpoint (None: a fixed token, no refresh)."""
    expected_member_ids: ClassVar[set[str]]
    """Every member id across all pages of the listing."""
    malformed: ClassVar[list[tuple[str, Any, str]]]
    """``(URL fragment, JSON body, field name)``: a payload that must fail naming the field."""
    expected_discovered: ClassVar[set[str] | None] = None
    """``external_id`` of every group ``discover()`` must list (None: no discovery)."""

    def mock_platform(self, router: respx.MockRouter) -> None:
        """Register named respx routes answering like the platform does."""
        raise NotImplementedError

    # --- fixtures ------------------------------------------------------------------

    @pytest.fixture(autouse=True)
    def waits(self, monkeypatch: pytest.MonkeyPatch) -> list[float]:
        """Every pause the HTTP client asked for, in seconds (nothing really sleeps)."""
        asked: list[float] = []

        async def record(seconds: float) -> None:
            asked.append(seconds)

        monkeypatch.setattr(auditor.connectors.http, "sleep", record)
        return asked

    @pytest.fixture
    def faults(self) -> FaultInjector:
        return FaultInjector()

    @pytest.fixture
    def router(self, faults: FaultInjector) -> Iterator[respx.MockRouter]:
        with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
            mock.route(name="testkit-faults").mock(side_effect=faults)
            self.mock_platform(mock)
            yield mock

    @pytest.fixture
    def connector(
        self, router: respx.MockRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> Connector:
        return self.make_connector(tmp_path, monkeypatch)

    # --- the HTTP contract --------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_multi_page_listing_fully_collected(
        self, connector: Connector, router: respx.MockRouter
    ) -> None:
        snapshot = await self.fetch(connector)
        assert router.routes[self.paged_route].call_count >= 2, "listing was not multi-page"
        assert {m.id for m in snapshot.members or []} == self.expected_member_ids

    @pytest.mark.asyncio
    async def test_429_retry_after_is_waited_out(
        self, connector: Connector, faults: FaultInjector, waits: list[float]
    ) -> None:
        faults.add(self.fault_target, lambda r: httpx.Response(429, headers={"Retry-After": "7"}))
        snapshot = await self.fetch(connector)
        assert faults.hits, "the 429 was never served"
        assert 7.0 in waits
        assert {m.id for m in snapshot.members or []} == self.expected_member_ids

    @pytest.mark.asyncio
    async def test_5xx_is_retried(
        self, connector: Connector, faults: FaultInjector, waits: list[float]
    ) -> None:
        faults.add(self.fault_target, lambda r: httpx.Response(503), times=2)
        snapshot = await self.fetch(connector)
        assert len(faults.hits) == 2
        assert len(waits) >= 2 and all(w >= 0 for w in waits)
        assert snapshot.platform == self.platform

    @pytest.mark.asyncio
    async def test_persistent_5xx_is_a_page_error(
        self, connector: Connector, faults: FaultInjector
    ) -> None:
        faults.add(self.fault_target, lambda r: httpx.Response(502), times=50)
        with pytest.raises(ConnectorError) as info:
            await self.fetch(connector)
        assert self.platform in str(info.value)
        assert "502" in str(info.value)
        assert len(faults.hits) == connector.settings.model_dump().get("max_attempts", 5)

    @pytest.mark.asyncio
    async def test_401_refreshes_token_once(
        self, connector: Connector, faults: FaultInjector, router: respx.MockRouter
    ) -> None:
        faults.add(self.fault_target, lambda r: httpx.Response(401))
        if self.token_route is None:  # a fixed token cannot be refreshed: a page error
            with pytest.raises(ConnectorError, match="401") as info:
                await self.fetch(connector)
            assert self.platform in str(info.value)
            assert len(faults.hits) == 1
            return
        await self.fetch(connector)
        assert router.routes[self.token_route].call_count == 2

    @pytest.mark.asyncio
    async def test_second_401_is_an_error(
        self, connector: Connector, faults: FaultInjector, router: respx.MockRouter
    ) -> None:
        faults.add(self.fault_target, lambda r: httpx.Response(401), times=5)
        with pytest.raises(ConnectorError, match="401") as info:
            await self.fetch(connector)
        assert self.platform in str(info.value)
        if self.token_route is not None:
            assert router.routes[self.token_route].call_count == 2
            assert len(faults.hits) == 2

    @pytest.mark.asyncio
    async def test_malformed_payload_names_platform_and_field(
        self,
        router: respx.MockRouter,
        faults: FaultInjector,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        assert self.malformed, "give at least one malformed payload"
        for target, body, field in self.malformed:
            faults.add(target, lambda r, body=body: httpx.Response(200, json=body))
            with pytest.raises(ConnectorError) as info:
                await self.fetch(self.make_connector(tmp_path, monkeypatch))
            assert not faults.queue, f"no request matched {target!r}"
            message = str(info.value)
            assert self.platform in message, message
            assert field in message, f"{field!r} not named in: {message}"

    @pytest.mark.asyncio
    async def test_truncated_payload_is_a_page_error(
        self, connector: Connector, faults: FaultInjector
    ) -> None:
        faults.add(
            self.fault_target,
            lambda r: httpx.Response(
                200, content=b'{"value": [{"id": "x"', headers={"content-type": "application/json"}
            ),
        )
        with pytest.raises(ConnectorError, match="not valid JSON") as info:
            await self.fetch(connector)
        assert self.platform in str(info.value)

    @pytest.mark.asyncio
    async def test_discover_lists_every_group(self, connector: Connector) -> None:
        if self.expected_discovered is None:
            assert not connector.can_discover
            return
        async with connector:
            found = [g async for g in connector.discover()]
        assert {g.external_id for g in found} == self.expected_discovered
        assert all(g.name for g in found)
