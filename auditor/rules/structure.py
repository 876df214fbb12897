"""DS 2 structural rules: closed, moderated, a group (not friends) and invite-only."""

from __future__ import annotations

from auditor.results import Evidence, RuleResult, Severity
from auditor.rules.base import Rule, RuleContext, setting
from auditor.snapshot import InviteLink, PageSnapshot


class Closed(Rule):
    id = "DS2.closed"
    title = "Group is closed to non-members"
    clause = "DS 2 closed and moderated"
    severity = Severity.HIGH
    rationale = "A public group shows students' names and posts to anyone on the internet."
    remediation = "Change the group's privacy so that only members can read posts."

    def check(self, snapshot: PageSnapshot, ctx: RuleContext) -> RuleResult:
        visibility = snapshot.settings.visibility
        evidence = [setting("visibility", visibility)]
        if visibility is None:
            return self.not_applicable(
                snapshot.why_missing("visibility", "The platform did not report visibility.")
            )
        if visibility == "public":
            return self.failed("Anyone can read this group's posts; it must be closed.", evidence)
        return self.passed(f"Only members read posts (visibility: {visibility}).", evidence)


class Moderated(Rule):
    id = "DS2.moderated"
    title = "Posts are moderated"
    clause = "DS 2 closed and moderated"
    severity = Severity.MEDIUM
    rationale = "Without moderation, posts from any member appear unreviewed to students."
    remediation = "Turn on post approval or restrict posting to the page's moderators."

    def check(self, snapshot: PageSnapshot, ctx: RuleContext) -> RuleResult:
        mode = snapshot.settings.post_moderation
        evidence = [setting("post_moderation", mode)]
        if mode is None:
            return self.not_applicable(
                snapshot.why_missing(
                    "post_moderation", "The platform did not report how posts are moderated."
                )
            )
        if mode == "none":
            return self.failed("Members' posts appear without any moderation.", evidence)
        if mode == "new-members":
            return self.warned(
                "Only new members' first posts are held for approval; later posts are not "
                "moderated.",
                evidence,
                severity=Severity.LOW,
            )
        label = {"all": "every post is approved first", "moderators-only": "only moderators post"}
        return self.passed(f"Posts are moderated ({label[mode]}).", evidence)


class GroupNotFriends(Rule):
    id = "DS2.group-not-friends"
    title = "A group with members, not a profile with friends"
    clause = "DS 2 members, not friends"
    severity = Severity.HIGH
    rationale = (
        "Friending students from a personal or public account crosses professional "
        "boundaries and exposes personal posts."
    )
    remediation = (
        "Create a group on the platform (not a personal profile or public page), invite "
        "the members there and retire the profile or page."
    )

    def check(self, snapshot: PageSnapshot, ctx: RuleContext) -> RuleResult:
        kind = snapshot.kind
        evidence = [setting("kind", kind)]
        if kind is None:
            return self.not_applicable(
                snapshot.why_missing("kind", "The platform did not say what kind of page this is.")
            )
        if kind == "profile":
            return self.failed(
                "This is a personal profile: members are friends or followers, not group members.",
                evidence,
            )
        if kind == "page":
            return self.failed(
                "This is a public page with followers, not a group with invited members.",
                evidence,
            )
        return self.passed("Members belong to a group.", evidence)


class InviteOnly(Rule):
    id = "DS2.invite-only"
    title = "People join only by the employee's invitation"
    clause = "DS 2 invitation"
    severity = Severity.HIGH
    rationale = (
        "Open joining or a shareable link that never expires lets anyone who has the link "
        "into a group with students."
    )
    remediation = "Require an invitation from the employee to join and remove open join links."

    def check(self, snapshot: PageSnapshot, ctx: RuleContext) -> RuleResult:
        policy = snapshot.settings.join_policy
        links = snapshot.settings.invite_links
        if policy is None and links is None:
            return self.not_applicable(
                snapshot.why_missing(
                    "join_policy", "The platform did not report how people join the group."
                )
            )
        problems: list[str] = []
        evidence: list[Evidence] = [setting("join_policy", policy)]
        if policy == "open":
            problems.append("anyone can join without an invitation")
        elif policy == "request":
            problems.append("anyone can ask to join, not only people the employee invited")
        for link in links or []:
            issue = _link_problem(link, ctx)
            if issue:
                evidence.append(
                    Evidence(kind="link", ref="invite_link", value=link.url, note=issue)
                )
        bad_links = len(evidence) - 1
        if bad_links:
            problems.append(f"{bad_links} join link(s) never expire or allow unlimited uses")
        if problems:
            return self.failed("Not invite-only: " + "; ".join(problems) + ".", evidence)
        if policy is None:
            return self.passed(
                "All join links expire and are limited in uses (the join setting itself is "
                "unknown).",
                evidence,
            )
        return self.passed("Only invited people can join.", evidence)


def _link_problem(link: InviteLink, ctx: RuleContext) -> str | None:
    """Why an active invite link breaks invite-only, or None if it is harmless."""
    if link.expires_at is not None and link.expires_at <= ctx.now:
        return None  # already expired
    if link.max_uses and link.uses is not None and link.uses >= link.max_uses:
        return None  # used up
    issues = []
    if link.expires_at is None:
        issues.append("never expires")
    if not link.max_uses:
        issues.append("unlimited uses")
    return " and ".join(issues) or None
