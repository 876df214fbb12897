"""Adaptive concurrency: requests in flight start at ``max_concurrency``, halve on a burst of
rate-limit or 5xx answers, and ramp up by one slot per window of fast answers up to
``max_concurrency_ceiling``; without a ceiling the configured concurrency stays a hard cap."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from auditor.connectors.adaptive import AdaptiveSlots
from auditor.connectors.cloud import CloudConnectorSettings
from auditor.connectors.http import HttpClient

BASE = "https://api.example.test/v1"


def test_fast_answers_add_a_slot_per_window_up_to_the_ceiling() -> None:
    slots = AdaptiveSlots(2, ceiling=4)
    for _ in range(2):  # a window is as many fast answers as the limit
        slots.answered(0.05)
    assert slots.limit == 3
    slots.answered(0.05)
    slots.answered(0.5)  # slow (ten times the quickest): the window starts again
    slots.answered(0.05)
    slots.answered(0.05)
    assert slots.limit == 3
    for _ in range(3 + 4 * 5):
        slots.answered(0.05)
    assert slots.limit == 4  # never above the ceiling


def test_a_burst_of_throttled_answers_halves_the_limit_once() -> None:
    slots = AdaptiveSlots(8, ceiling=16)
    for _ in range(5):
        slots.throttled()
    assert slots.limit == 4
    slots._backed_off_at -= 2  # the cooldown has passed: the next burst halves again
    slots.throttled()
    assert slots.limit == 2
    slots._backed_off_at -= 2
    slots.throttled()
    slots._backed_off_at -= 2
    slots.throttled()
    assert slots.limit == 1  # never below one


def test_without_a_ceiling_the_start_is_a_hard_cap_that_recovers() -> None:
    slots = AdaptiveSlots(4)
    for _ in range(100):
        slots.answered(0.01)
    assert slots.limit == 4
    slots.throttled()
    assert slots.limit == 2
    for _ in range(2 + 3):
        slots.answered(0.01)
    assert slots.limit == 4


async def test_a_waiter_cancelled_leaves_no_slot_taken() -> None:
    slots = AdaptiveSlots(1)
    await slots.acquire()
    waiter = asyncio.create_task(slots.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    slots.release()
    assert slots.in_use == 0
    await asyncio.wait_for(slots.acquire(), 1)  # the slot is free again
    assert slots.in_use == 1


async def test_a_waiter_cancelled_then_passed_over_stays_cancelled() -> None:
    slots = AdaptiveSlots(1)
    await slots.acquire()
    waiter = asyncio.create_task(slots.acquire())
    await asyncio.sleep(0)
    waiter.cancel()  # its turn is cancelled but still queued...
    slots.release()  # ...and admitting drops it before the waiter resumes
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert slots.in_use == 0
    await asyncio.wait_for(slots.acquire(), 1)


class SlowBody(httpx.AsyncByteStream):
    """An answer that takes a little while, counting the requests in flight."""

    active = 0
    peak = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        SlowBody.active += 1
        SlowBody.peak = max(SlowBody.peak, SlowBody.active)
        await asyncio.sleep(0.005)
        SlowBody.active -= 1
        yield b"1"


@respx.mock
async def test_a_client_ramps_up_while_fast_and_backs_off_on_429() -> None:
    SlowBody.active = SlowBody.peak = 0
    respx.get(f"{BASE}/x").mock(side_effect=lambda r: httpx.Response(200, stream=SlowBody()))
    http = HttpClient("demo", BASE, max_concurrency=2, max_concurrency_ceiling=6)

    assert await asyncio.gather(*(http.get_json("x") for _ in range(200))) == [1] * 200
    assert http.slots.limit == 6 and SlowBody.peak > 2  # ramped up beyond the start

    respx.get(f"{BASE}/busy").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(200, json=2)]
    )
    assert await http.get_json("busy") == 2
    assert http.slots.limit == 3  # halved by the rate-limit answer
    await http.aclose()


@respx.mock
async def test_no_ceiling_keeps_max_concurrency_a_hard_cap() -> None:
    SlowBody.active = SlowBody.peak = 0
    respx.get(f"{BASE}/x").mock(side_effect=lambda r: httpx.Response(200, stream=SlowBody()))
    http = HttpClient("demo", BASE, max_concurrency=3)
    await asyncio.gather(*(http.get_json("x") for _ in range(60)))
    assert SlowBody.peak == 3 and http.slots.limit == 3
    await http.aclose()


def test_pages_in_flight_follow_the_ceiling() -> None:
    plain = CloudConnectorSettings(base_url=BASE, max_concurrency=4)
    ramped = CloudConnectorSettings(base_url=BASE, max_concurrency=4, max_concurrency_ceiling=16)
    assert plain.pages_in_flight == 4 and ramped.pages_in_flight == 16
