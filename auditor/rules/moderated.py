"""DS 2 "moderated": posts are reviewed before or as they appear."""

from __future__ import annotations

from auditor.results import RuleResult, Severity
from auditor.rules.base import Rule, RuleContext, setting
from auditor.snapshot import PageSnapshot


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
