"""Tells who a page member is: district staff, a student, or someone else.

Without a roster, people are told apart by email domain (``district.staff_email_domains``
and ``district.student_email_domains``, matched exactly: ``students.district.org`` is not
``district.org``). The roster (OneRoster) refines this where it is configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from auditor.config import DistrictConfig, PageConfig
from auditor.snapshot import Member

Kind = Literal["staff", "student", "guardian", "unknown"]


def email_domain(email: str | None) -> str | None:
    """The lower-cased domain of an address, or None."""
    if not email or "@" not in email:
        return None
    return email.rsplit("@", 1)[1].strip().lower()


@dataclass(frozen=True)
class People:
    """Classifies members of one page using the district's email domains."""

    district: DistrictConfig

    def kind_of_email(self, email: str | None) -> Kind:
        domain = email_domain(email)
        if domain is None:
            return "unknown"
        if domain in self.district.staff_email_domains:
            return "staff"
        if domain in self.district.student_email_domains:
            return "student"
        return "unknown"

    def kind_of(self, member: Member) -> Kind:
        """Staff, student or unknown for a page member (by email, else by an email-like id)."""
        return self.kind_of_email(member.email or (member.id if "@" in member.id else None))

    def is_person(self, member: Member, email: str) -> bool:
        """Whether ``member`` is the person with address ``email``."""
        email = email.lower()
        return (member.email or "").lower() == email or member.id.lower() == email

    def is_page_staff(self, member: Member, page: PageConfig) -> bool:
        """The page's owner or supervisor, or anyone the district counts as staff."""
        return (
            self.is_person(member, page.owner)
            or self.is_person(member, page.supervisor)
            or self.kind_of(member) == "staff"
        )
