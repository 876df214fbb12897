"""Defect 14 of the hardening issue: dates that cannot be true are not trusted. A future
moderator action never passes DS2.monitoring, an impossible year never crashes DS1, and
the rules say why the date was set aside."""

from __future__ import annotations

import pytest

from auditor.results import Status
from auditor.rules import catalog
from tests.rules.helpers import ctx, posts, snap


def by_rule(page) -> dict:
    return {r.rule: r for r in catalog.evaluate(page, ctx())}


def test_a_moderator_action_in_9999_does_not_pass_monitoring() -> None:
    page = snap(moderation={"last_moderator_action_at": "9999-12-31T00:00:00Z"})
    result = by_rule(page)["DS2.monitoring"]
    assert result.status == Status.FAIL, result.message
    assert "9999-12-31" in result.message and "not trusted" in result.message


@pytest.mark.parametrize("created", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"])
def test_an_impossible_creation_year_is_set_aside_not_a_crash(created: str) -> None:
    result = by_rule(snap(created_at=created))["DS1.approval"]
    assert result.status == Status.PASS, result.message
    assert "not trusted" in result.message


def test_future_post_dates_are_not_activity_and_are_warned_of() -> None:
    page = snap(
        posts=[{"id": "p", "author_id": "o", "text": "hi", "created_at": "2999-01-01T00:00:00Z"}]
    )
    from auditor.rules.dates import trusted

    seen = trusted(page, ctx().now)
    assert seen.posts[0].created_at is None
    assert any("post dates" in w and "2999-01-01" in w for w in seen.warnings)
    assert by_rule(page)["DS2.monitoring"].status == Status.FAIL


def test_ordinary_dates_are_left_alone() -> None:
    page = snap(posts=posts("hello"), created_at="2026-09-01T00:00:00Z")
    from auditor.rules.dates import trusted

    assert trusted(page, ctx().now) is page
