"""Requests in flight that adapt to the platform (additive increase, multiplicative
decrease): a connector starts at its ``max_concurrency``, halves on a rate-limit or 5xx
answer, and while answers stay fast adds one slot per window of fast answers, up to its
``max_concurrency_ceiling``. With no ceiling above the start, it only backs off and
recovers: the configured concurrency stays a hard cap."""

from __future__ import annotations

import asyncio
import time
from collections import deque

FAST_FACTOR = 2.0  # an answer is fast when it took at most twice the quickest one seen
COOLDOWN_S = 1.0  # a burst of rate-limit answers halves the limit once, not once each


class AdaptiveSlots:
    """A concurrency limit between 1 and ``ceiling`` that moves with the answers (used
    from one event loop: no lock is needed, and giving a slot back never waits)."""

    def __init__(self, start: int, ceiling: int | None = None) -> None:
        """Start at ``start`` slots; ramp up to ``ceiling`` (default: ``start``)."""
        self.start = start
        self.ceiling = max(start, ceiling or start)
        self.limit = start
        self.in_use = 0
        self._fast = 0  # fast answers since the limit last moved
        self._quickest: float | None = None
        self._backed_off_at = float("-inf")
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        """Wait for a free slot under the current limit (first come, first served)."""
        if self.in_use < self.limit and not self._waiting:
            self.in_use += 1
            return
        turn = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        try:
            await turn  # the slot is counted as in use when the turn is given
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release()  # given, then cancelled before use: hand it on
            elif turn in self._waiting:  # (admitting may already have dropped it)
                self._waiting.remove(turn)
            raise

    def release(self) -> None:
        """Give a slot back (whatever the answer was) and admit who waits next."""
        self.in_use -= 1
        self._admit()

    def answered(self, seconds: float) -> None:
        """A successful answer after ``seconds``: a window of fast answers (as many as the
        limit) adds a slot, up to the ceiling (a slow one starts the window again)."""
        self._quickest = seconds if self._quickest is None else min(self._quickest, seconds)
        if seconds > self._quickest * FAST_FACTOR + 0.001:
            self._fast = 0
            return
        self._fast += 1
        if self._fast >= self.limit and self.limit < self.ceiling:
            self.limit += 1
            self._fast = 0
            self._admit()

    def throttled(self) -> None:
        """A rate-limit or 5xx answer: halve the limit (at most once a cooldown)."""
        now = time.monotonic()
        if now - self._backed_off_at < COOLDOWN_S:
            return
        self._backed_off_at = now
        self.limit = max(1, self.limit // 2)
        self._fast = 0

    def _admit(self) -> None:
        """Give free slots under the limit to the longest waiting."""
        while self._waiting and self.in_use < self.limit:
            turn = self._waiting.popleft()
            if not turn.done():
                self.in_use += 1
                turn.set_result(None)
