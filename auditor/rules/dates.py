"""Dates from a platform that cannot be true are not trusted: a date in the future (past a
day of clock skew) or before any of these platforms existed is dropped before the rules
run, with a warning and the reason, so that ``9999-12-31`` never reads as "a moderator
was active" and an impossible year never crashes a rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from auditor.snapshot import Member, PageSnapshot, Post

SKEW = timedelta(days=1)
EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)


class _Judge:
    """Keeps the dates that can be true, counting the others by where they were."""

    def __init__(self, now: datetime) -> None:
        self.latest = now + SKEW
        self.dropped: dict[str, list[datetime]] = {}

    def keep(self, value: datetime | None, where: str) -> datetime | None:
        if value is None or EARLIEST <= value <= self.latest:
            return value
        self.dropped.setdefault(where, []).append(value)
        return None

    def post(self, post: Post) -> Post:
        created = self.keep(post.created_at, "post dates")
        return post if created == post.created_at else post.model_copy(update={"created_at": None})

    def member(self, member: Member) -> Member:
        joined = self.keep(member.joined_at, "member dates")
        active = self.keep(member.last_active_at, "member dates")
        if joined == member.joined_at and active == member.last_active_at:
            return member
        return member.model_copy(update={"joined_at": joined, "last_active_at": active})


def trusted(snapshot: PageSnapshot, now: datetime) -> PageSnapshot:
    """The snapshot with every untrustworthy date removed (None), each removal warned of
    and, for the page's own dates, given as the reason the field is unknown."""
    judge = _Judge(now)
    update: dict[str, object] = {}
    if judge.keep(snapshot.created_at, "created_at") != snapshot.created_at:
        update["created_at"] = None
    moderation = snapshot.moderation
    if moderation is not None:
        last = judge.keep(moderation.last_moderator_action_at, "last_moderator_action_at")
        if last != moderation.last_moderator_action_at:
            update["moderation"] = moderation.model_copy(update={"last_moderator_action_at": last})
    if snapshot.posts:
        posts = [judge.post(p) for p in snapshot.posts]
        if posts != snapshot.posts:
            update["posts"] = posts
    if snapshot.members:
        members = [judge.member(m) for m in snapshot.members]
        if members != snapshot.members:
            update["members"] = members
    if not judge.dropped:
        return snapshot
    unavailable = dict(snapshot.unavailable)
    notes = []
    for where, values in judge.dropped.items():
        shown = ", ".join(sorted({f"{v:%Y-%m-%d}" for v in values})[:3])
        reason = f"the platform gave {shown}, a date that cannot be true; it was not trusted"
        notes.append(f"{where}: {reason}")
        if where in ("created_at", "last_moderator_action_at"):
            unavailable[where] = reason
    update["warnings"] = [*snapshot.warnings, *notes]
    update["unavailable"] = unavailable
    return snapshot.model_copy(update=update)


def trusted_until(snapshot: PageSnapshot, now: datetime) -> datetime | None:
    """The first instant at which :func:`trusted` would keep a date it drops now (a date
    ahead of the clock by more than the skew becomes believable then); None if none is."""
    latest = now + SKEW
    dates = [snapshot.created_at]
    if snapshot.moderation is not None:
        dates.append(snapshot.moderation.last_moderator_action_at)
    dates += [p.created_at for p in snapshot.posts or []]
    dates += [d for m in snapshot.members or [] for d in (m.joined_at, m.last_active_at)]
    ahead = [d for d in dates if d is not None and d > latest]
    return min(ahead) - SKEW if ahead else None
