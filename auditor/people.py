"""Tells who a page member is: district staff, a student, a guardian, or someone else.

With a OneRoster export (``[roster] oneroster_dir``) members are matched to roster users by
email (case-insensitive) or, when the platform gives no email, by the platform id carried in
the roster's ``userIds`` (``{discord:1234}``); the roster's role decides. Members the roster
does not know, and every member when there is no roster, are told apart by email domain
(``district.staff_email_domains`` / ``student_email_domains``, matched exactly:
``students.district.org`` is not ``district.org``).
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.config import Config, DistrictConfig, PageConfig
from auditor.errors import ConfigError
from auditor.roster import Kind, Roster, RosterUser, cached_roster
from auditor.snapshot import Member

__all__ = ["Kind", "People", "email_domain", "roster_errors"]

_KIND_ORDER: tuple[Kind, ...] = ("staff", "student", "guardian")


def email_domain(email: str | None) -> str | None:
    """The lower-cased domain of an address, or None."""
    if not email or "@" not in email:
        return None
    return email.rsplit("@", 1)[1].strip().lower()


def member_email(member: Member) -> str | None:
    """The member's email, or its id when the id is an address (Google Groups)."""
    return member.email or (member.id if "@" in member.id else None)


@dataclass(frozen=True)
class People:
    """Classifies page members using the roster when there is one, else email domains."""

    district: DistrictConfig
    roster: Roster | None = None

    @classmethod
    def from_config(cls, config: Config) -> People:
        """Load the configured roster once; a broken export is a ConfigError."""
        errors = roster_errors(config)
        if errors:
            raise ConfigError(errors)
        folder = config.roster.oneroster_dir
        return cls(config.district, cached_roster(folder) if folder is not None else None)

    def kind_of_email(self, email: str | None) -> Kind:
        """Staff, student or unknown by email: the roster's role first, then the domain."""
        if self.roster is not None:
            kind = _strongest(self.roster.by_email(email))
            if kind is not None:
                return kind
        domain = email_domain(email)
        if domain is None:
            return "unknown"
        if domain in self.district.staff_email_domains:
            return "staff"
        if domain in self.district.student_email_domains:
            return "student"
        return "unknown"

    def kind_of(self, member: Member, platform: str | None = None) -> Kind:
        """Staff, student, guardian or unknown for a page member."""
        kind = _strongest(self.roster_users(member, platform))
        return kind if kind is not None else self.kind_of_email(member_email(member))

    def roster_users(self, member: Member, platform: str | None = None) -> list[RosterUser]:
        """The roster users a member is: by email, else by the platform id in ``userIds``."""
        if self.roster is None:
            return []
        email = member_email(member)
        if email:
            return self.roster.by_email(email)
        if platform:
            return self.roster.by_platform_id(platform, member.id)
        return []

    def is_person(self, member: Member, email: str, platform: str | None = None) -> bool:
        """Whether ``member`` is the person with address ``email``: by the member's email
        (or id, where it is an address), else by the roster user its platform id names
        (``userIds`` such as ``{discord:1234}``: platforms that show no emails)."""
        email = email.lower()
        if (member.email or "").lower() == email or member.id.lower() == email:
            return True
        if member.email or self.roster is None or not platform:
            return False
        users = self.roster.by_platform_id(platform, member.id)
        return any((u.email or "").lower() == email for u in users)

    def is_page_staff(self, member: Member, page: PageConfig, platform: str | None = None) -> bool:
        """The page's owner or supervisor, or anyone the district counts as staff."""
        return (
            self.is_person(member, page.owner, platform)
            or self.is_person(member, page.supervisor, platform)
            or self.kind_of(member, platform) == "staff"
        )

    def page_students(self, page: PageConfig) -> list[RosterUser] | None:
        """The students a page is for (``roster_class`` or ``students``), None if not said."""
        if page.roster_class and self.roster is not None:
            return self.roster.class_students(page.roster_class)
        if page.students:
            found = []
            for ref in page.students:
                user = self.roster.find_user(ref) if self.roster is not None else None
                email = ref.lower() if "@" in ref else None
                found.append(user or RosterUser(sourced_id=ref, role="student", email=email))
            return found
        return None

    def is_user(self, member: Member, user: RosterUser, platform: str | None = None) -> bool:
        """Whether a page member is this roster user."""
        if any(u.sourced_id == user.sourced_id for u in self.roster_users(member, platform)):
            return True
        email = member_email(member)
        return bool(email and user.email and email.lower() == user.email)

    def guardians_of(self, student: RosterUser) -> list[RosterUser]:
        """A student's guardians from the roster (none without a roster)."""
        return self.roster.guardians_of(student) if self.roster is not None else []


def _strongest(users: list[RosterUser]) -> Kind | None:
    """One kind for a person with several roster records: staff, then student, then guardian."""
    kinds = {u.kind for u in users}
    for kind in _KIND_ORDER:
        if kind in kinds:
            return kind
    return "unknown" if kinds else None


def roster_errors(config: Config, name: str | None = None) -> list[str]:
    """Problems with the roster and with the pages' ``roster_class`` / ``students``."""
    folder = config.roster.oneroster_dir
    roster = None
    if folder is not None:
        try:
            roster = cached_roster(folder)
        except ConfigError as exc:
            return exc.lines
    errors = []
    for i, page in enumerate(config.pages):
        where = f"{name or config.source}: pages[{i}] (id {page.id!r})"
        if page.roster_class and roster is None:
            errors.append(f"{where}.roster_class: needs [roster] oneroster_dir")
        elif page.roster_class and roster and roster.find_class(page.roster_class) is None:
            errors.append(
                f"{where}.roster_class: no class {page.roster_class!r} in {folder} "
                "(a classes.csv sourcedId or classCode)"
            )
        for ref in page.students:
            if "@" in ref or (roster is not None and roster.find_user(ref) is not None):
                continue
            known = f"not a user in {folder}" if roster else "not an email (no roster to look up)"
            errors.append(f"{where}.students: {ref!r} is {known}")
    return errors
