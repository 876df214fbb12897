"""Reads a OneRoster 1.1 CSV bundle: who is a student, teacher or guardian, and who is in a class.

Only ``users.csv`` is required; ``classes.csv`` and ``enrollments.csv`` are read when present.
Every bad row is reported as one line naming the file and line (``ConfigError``), so a
broken export stops a run at its start instead of producing wrong findings.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from auditor.errors import ConfigError

Kind = Literal["staff", "student", "guardian", "unknown"]

# OneRoster 1.1 user roles and what the auditor takes them to be.
ROLE_KINDS: dict[str, Kind] = {
    "administrator": "staff",
    "teacher": "staff",
    "aide": "staff",
    "student": "student",
    "parent": "guardian",
    "guardian": "guardian",
    "relative": "guardian",
    "proctor": "unknown",  # often an outside invigilator: neither staff nor family
}
ENROLLMENT_ROLES = frozenset({"administrator", "proctor", "student", "teacher", "aide"})
USER_IDS_RE = re.compile(r"\{([^:{}]+):([^{}]+)\}")
USER_IDS_FULL_RE = re.compile(r"^\s*(\{[^:{}]+:[^{}]+\}\s*(,\s*\{[^:{}]+:[^{}]+\}\s*)*)?$")


@dataclass(frozen=True)
class RosterUser:
    """One row of ``users.csv``."""

    sourced_id: str
    role: str
    email: str | None = None
    username: str | None = None
    given_name: str = ""
    family_name: str = ""
    identifier: str | None = None
    user_ids: tuple[tuple[str, str], ...] = ()  # (type lower-cased, identifier)
    agent_ids: tuple[str, ...] = ()

    @property
    def kind(self) -> Kind:
        return ROLE_KINDS[self.role]

    @property
    def name(self) -> str:
        full = f"{self.given_name} {self.family_name}".strip()
        return full or self.email or self.sourced_id

    def label(self) -> str:
        """Name and email, for evidence."""
        return f"{self.name} <{self.email}>" if self.email else self.name


@dataclass(frozen=True)
class RosterClass:
    """One row of ``classes.csv``."""

    sourced_id: str
    title: str
    class_code: str | None = None


@dataclass
class Roster:
    """The users, classes and enrollments of one export, indexed for matching members."""

    users: dict[str, RosterUser] = field(default_factory=dict)
    classes: dict[str, RosterClass] = field(default_factory=dict)
    enrolled: dict[str, list[str]] = field(default_factory=dict)  # class id -> student ids
    source: Path | None = None
    _by_email: dict[str, list[RosterUser]] = field(default_factory=dict, repr=False)
    _by_platform: dict[tuple[str, str], list[RosterUser]] = field(default_factory=dict, repr=False)
    _children: dict[str, set[str]] = field(default_factory=dict, repr=False)

    def digest(self) -> str:
        """SHA-256 of the users, classes and enrollments as read: what rules judged by
        this roster depend on (a changed export changes it)."""
        content = repr(
            (
                sorted(self.users.items()),
                sorted(self.classes.items()),
                sorted((k, sorted(v)) for k, v in self.enrolled.items()),
            )
        )
        return hashlib.sha256(content.encode()).hexdigest()

    def index(self) -> None:
        """Build the lookup tables once the users are read."""
        by_email: dict[str, list[RosterUser]] = defaultdict(list)
        by_platform: dict[tuple[str, str], list[RosterUser]] = defaultdict(list)
        guardians: dict[str, set[str]] = defaultdict(set)
        for user in self.users.values():
            for address in {user.email, user.username}:
                if address and "@" in address:
                    by_email[address.lower()].append(user)
            for kind, ident in user.user_ids:
                by_platform[(kind, ident)].append(user)
            for agent in user.agent_ids:
                other = self.users.get(agent)
                if other is None:
                    continue
                if user.kind == "student" and other.kind == "guardian":
                    guardians[user.sourced_id].add(other.sourced_id)
                elif user.kind == "guardian" and other.kind == "student":
                    guardians[other.sourced_id].add(user.sourced_id)
        self._by_email = dict(by_email)
        self._by_platform = dict(by_platform)
        self._children = dict(guardians)

    def by_email(self, email: str | None) -> list[RosterUser]:
        """Users with this email or email-like username (case-insensitive)."""
        return self._by_email.get(email.lower(), []) if email else []

    def by_platform_id(self, platform: str, ident: str) -> list[RosterUser]:
        """Users whose ``userIds`` carry ``{platform:ident}``."""
        return self._by_platform.get((platform.lower(), ident), [])

    def guardians_of(self, student: RosterUser) -> list[RosterUser]:
        """The parents, guardians and relatives linked to a student by ``agentSourcedIds``."""
        ids = self._children.get(student.sourced_id, set())
        return [self.users[i] for i in sorted(ids)]

    def find_class(self, ref: str) -> str | None:
        """The sourcedId of the class named by sourcedId or classCode, or None."""
        if ref in self.classes or ref in self.enrolled:
            return ref
        for cls in self.classes.values():
            if cls.class_code == ref:
                return cls.sourced_id
        return None

    def class_students(self, ref: str) -> list[RosterUser]:
        """The students enrolled in a class (by sourcedId or classCode)."""
        class_id = self.find_class(ref)
        if class_id is None:
            return []
        return [self.users[u] for u in self.enrolled.get(class_id, [])]

    def find_user(self, ref: str) -> RosterUser | None:
        """A user named by sourcedId, email, username or identifier."""
        if ref in self.users:
            return self.users[ref]
        matches = self.by_email(ref)
        if matches:
            return matches[0]
        for user in self.users.values():
            if ref in (user.identifier, user.username):
                return user
        return None


ROSTER_FILES = ("users.csv", "classes.csv", "enrollments.csv")


def cached_roster(folder: Path) -> Roster:
    """The roster of ``folder``, read once while its files are unchanged.

    Checking a config and then running it reads the export once, not twice.
    """
    stamps = []
    for name in ROSTER_FILES:
        try:
            stat = (folder / name).stat()
        except OSError:
            stamps.append((name, -1, -1))
        else:
            stamps.append((name, stat.st_mtime_ns, stat.st_size))
    return _load_stamped(folder.resolve(), tuple(stamps))


@lru_cache(maxsize=4)
def _load_stamped(folder: Path, stamps: tuple[tuple[str, int, int], ...]) -> Roster:
    return load_roster(folder)


def load_roster(folder: Path) -> Roster:
    """Read a OneRoster 1.1 CSV folder; raise ConfigError listing every bad row."""
    errors: list[str] = []
    roster = Roster(source=folder)
    users_csv = folder / "users.csv"
    if not users_csv.is_file():
        raise ConfigError(f"{users_csv}: file not found (a OneRoster export needs users.csv)")
    deleted: set[str] = set()
    for line, row in _rows(users_csv, ("sourcedId", "role"), errors):
        _read_user(users_csv, line, row, roster, deleted, errors)
    classes_csv = folder / "classes.csv"
    if classes_csv.is_file():
        for line, row in _rows(classes_csv, ("sourcedId",), errors):
            _read_class(classes_csv, line, row, roster, errors)
    enrollments_csv = folder / "enrollments.csv"
    if enrollments_csv.is_file():
        for line, row in _rows(
            enrollments_csv, ("classSourcedId", "userSourcedId", "role"), errors
        ):
            _read_enrollment(enrollments_csv, line, row, roster, deleted, errors)
    if errors:
        raise ConfigError(errors)
    roster.index()
    return roster


def _rows(
    path: Path, required: tuple[str, ...], errors: list[str]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a CSV file with their line numbers; missing columns are one error."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [c for c in required if c not in header]
            if missing:
                errors.append(f"{path}: line 1: missing column(s) {', '.join(missing)}")
                return
            for row in reader:
                if None in row:
                    errors.append(f"{path}: line {reader.line_num}: more fields than the header")
                    continue
                if not any((v or "").strip() for v in row.values()):
                    continue
                yield reader.line_num, {k: (v or "").strip() for k, v in row.items()}
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        errors.append(f"{path}: cannot read: {exc}")


def _active(row: dict[str, str]) -> bool:
    return row.get("status", "").lower() != "tobedeleted"


def _read_user(
    path: Path,
    line: int,
    row: dict[str, str],
    roster: Roster,
    deleted: set[str],
    errors: list[str],
) -> None:
    where = f"{path}: line {line}"
    sid, role = row["sourcedId"], row["role"]
    if not sid:
        errors.append(f"{where}: sourcedId is empty")
        return
    if role not in ROLE_KINDS:
        errors.append(
            f"{where}: role {role!r} is not a OneRoster 1.1 role ({', '.join(ROLE_KINDS)})"
        )
        return
    if sid in roster.users or sid in deleted:
        errors.append(f"{where}: duplicate sourcedId {sid!r}")
        return
    if not _active(row):
        deleted.add(sid)
        return
    raw_ids = row.get("userIds", "")
    if not USER_IDS_FULL_RE.match(raw_ids):
        errors.append(f"{where}: userIds {raw_ids!r} is not a list of {{type:id}} pairs")
        return
    email = row.get("email") or None
    if email and "@" not in email:
        errors.append(f"{where}: email {email!r} is not an email address")
        return
    roster.users[sid] = RosterUser(
        sourced_id=sid,
        role=role,
        email=email.lower() if email else None,
        username=row.get("username") or None,
        given_name=row.get("givenName", ""),
        family_name=row.get("familyName", ""),
        identifier=row.get("identifier") or None,
        user_ids=tuple(
            (kind.strip().lower(), ident.strip()) for kind, ident in USER_IDS_RE.findall(raw_ids)
        ),
        agent_ids=tuple(a.strip() for a in row.get("agentSourcedIds", "").split(",") if a.strip()),
    )


def _read_class(
    path: Path, line: int, row: dict[str, str], roster: Roster, errors: list[str]
) -> None:
    sid = row["sourcedId"]
    if not sid:
        errors.append(f"{path}: line {line}: sourcedId is empty")
    elif sid in roster.classes:
        errors.append(f"{path}: line {line}: duplicate sourcedId {sid!r}")
    elif _active(row):
        roster.classes[sid] = RosterClass(sid, row.get("title", ""), row.get("classCode") or None)


def _read_enrollment(
    path: Path,
    line: int,
    row: dict[str, str],
    roster: Roster,
    deleted: set[str],
    errors: list[str],
) -> None:
    where = f"{path}: line {line}"
    class_id, user_id, role = row["classSourcedId"], row["userSourcedId"], row["role"]
    if role not in ENROLLMENT_ROLES:
        errors.append(f"{where}: role {role!r} is not an enrollment role")
        return
    if user_id in deleted or not _active(row):
        return
    if user_id not in roster.users:
        errors.append(f"{where}: userSourcedId {user_id!r} is not in users.csv")
        return
    if roster.classes and class_id not in roster.classes:
        errors.append(f"{where}: classSourcedId {class_id!r} is not in classes.csv")
        return
    if role == "student":
        roster.enrolled.setdefault(class_id, []).append(user_id)
