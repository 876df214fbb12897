"""How membership rules name members, and what they say when no member list came."""

from __future__ import annotations

from auditor.snapshot import Member

NO_MEMBERS = "The platform did not return the member list."


def label(member: Member) -> str:
    """How a member is named in evidence: name and email where known."""
    if member.name and member.email:
        return f"{member.name} <{member.email}>"
    return member.name or member.email or member.id
