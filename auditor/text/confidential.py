"""DS 6: finds student information in a post: phone numbers (phonenumbers), email addresses,
birth dates, home addresses, student ids (a per-district pattern), and grades, health,
IEP/504 and discipline terms tied to a person; then the learned classifier's ``DS6:<category>``
heads add the categories said in other words (a test score in a congratulation, a partial
birth date). Values are returned for masking, never shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditor.text.phrases import compile_phrases, compile_regexes, data_file
from auditor.text.scan import Gated, PatternIndex, PatternSet, Scan
from auditor.text.sentences import SENTENCE_SPLIT_RE

if TYPE_CHECKING:  # the classifier (numpy, the tokenizer) loads only when texts are judged
    from auditor.text.classifier import Classifier

DEFAULT_STUDENT_ID = r"\b[A-Za-z]?\d{5,10}\b"
CATEGORIES = (
    "phone",
    "email",
    "birth-date",
    "address",
    "student-id",
    "grade",
    "health",
    "iep-504",
    "discipline",
)
# The categories the classifier may add: those told by meaning. Phones, emails, addresses
# and ids are exact shapes, left to the patterns (their values are what evidence masks).
LEARNED = ("birth-date", "grade", "health", "iep-504", "discipline")
LABELS = {
    "phone": "phone number",
    "email": "email address",
    "birth-date": "birth date",
    "address": "home address",
    "student-id": "student id",
    "grade": "grade or score",
    "health": "health information",
    "iep-504": "IEP/504 or special education",
    "discipline": "discipline record",
}

_EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@([\w-]+(?:\.[\w-]+)+)", re.IGNORECASE)
# A number written as phones are: "+" and a country code, then groups of digits; three
# digits and seven more grouped any way (203-555-0147, 203 5550 191, 1-203-555-0140,
# 203•555•0122; not 2026-113442, a case number);
# or North American groups, (203) 555-0147, 555-0147. Never part of a longer number, word,
# path or date. phonenumbers parses and validates each: its PhoneNumberMatcher, which also
# finds the shapes, costs twice as much a number (65 µs against 35 µs).
_SEP = r"(?:[ \t]*[.\-–—•/][ \t]*|[ \t])"
_PHONE_RE = re.compile(
    r"(?<![\w+/.-])"
    r"(?:\+\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){1,5}"
    rf"|(?:1{_SEP})?\d{{3}}(?:{_SEP}\d(?:{_SEP}?\d){{6}}|\d{{7}})"
    rf"|(?:\(\d{{3}}\){_SEP}?|\d{{3}}{_SEP}?)?\d{{3}}{_SEP}?\d{{4}})"
    r"(?![\w/]|[.-]\d)"
)
# A number said in words, digits mixed in or not: "two oh three, five five five, oh one
# two eight", "203 five five five 0 1 2 4".
_DIGIT_WORDS = {
    "zero": "0",
    "oh": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_SPOKEN_DIGIT = rf"(?:{'|'.join(_DIGIT_WORDS)}|\d{{1,4}})"
_SPOKEN_PHONE_RE = re.compile(
    rf"(?<!\w){_SPOKEN_DIGIT}(?:[\s,.\-]{{1,3}}{_SPOKEN_DIGIT}){{2,11}}(?!\w)", re.IGNORECASE
)
_SPOKEN_TOKEN_RE = re.compile(_SPOKEN_DIGIT, re.IGNORECASE)
# A staff member's contact: "call Coach Mendez at", "Coach's cell", a post that opens
# "Coach D here".
_STAFF_CONTACT_RE = re.compile(r"\b(?i:coach)(?:'s|’s|\s+[A-Z][a-z]+)")
# "Coach" or "Coach Dwyer" before a tie's "'s" (the coach's own cell)
_COACH_BEFORE_RE = re.compile(r"\b(?i:coach)(?:\s+[A-Z][a-z]+)?\Z")
_STAFF_WRITER_RE = re.compile(r"^\W*(?i:coach|mr|mrs|ms|dr)\.?\s+[A-Z][\w.]*\s+(?i:here)\b")
# The local part of an organisation's address, not a person's (boosters, PTO, a team):
# one of its parts (split at dots, dashes, underscores and digits) is an acronym below, or
# starts or ends with a word below ("dhsboosters", "team.danbury"; not "captainjake" or
# "maya.steamer", which only hold one).
_ORG_ACRONYMS = frozenset({"pto", "pta", "ptsa", "ptso"})
_ORG_WORDS = (
    "booster", "council", "coach", "treasurer", "club", "team", "athletic", "league",
    "office", "admin", "foundation",
)  # fmt: skip
_LOCAL_PART_SPLIT_RE = re.compile(r"[._\-+\d]+")
_ORG_EMAIL_BEFORE_RE = re.compile(
    r"\b(?:team|club|program|boosters?|pto|pta|office|department)(?:'s|’s|s')?\s+"
    r"(?:e-?mail|address|inbox)\b",
    re.IGNORECASE,
)
_OWN_CONTACT_RE = re.compile(
    r"\b(?:my|me|mi|ll[aá]m(?:e|en)me|escr[ií]b(?:e|an)me|text me|call me)\b", re.IGNORECASE
)
_EXTENSION_RE = re.compile(r"\s*,?\s*(?:ext|x)\.?\s*\d", re.IGNORECASE)  # "ext. 3310"
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_HOLIDAY = (
    r"(?:christmas(?: eve| day)?|new year'?s(?: eve| day)|valentine'?s day|halloween|"
    r"thanksgiving|(?:the )?(?:4th|fourth) of july|independence day)"
)
_DATE = (
    rf"(?:\d{{1,2}}[/-]\d{{1,2}}(?:[/-]\d{{2,4}})?|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?"
    rf"(?:,?\s+\d{{4}})?|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?"
    rf"|\d{{4}}-\d{{2}}-\d{{2}}|(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)\s+of\s+(?:this|next)\s+month"
    rf"|{_HOLIDAY})"
)
_BIRTH_RE = re.compile(
    rf"\b(?:born(?:\s+on)?(?!\s+(?:or\s+|on\s+or\s+)?(?:after|before|between|in)\b)|"
    rf"birthdays?(?:\s+is)?|b-?day(?:\s+is)?|d\.?o\.?b\.?|date of birth|birth\s*date|"
    rf"birthdate|turns?\s+\d{{1,2}}\s+(?:on|this))\b[^\n]{{0,60}}?(?<!\d)({_DATE})(?!\d)",
    re.IGNORECASE,
)
# The date first: "tomorrow (nov 9) is Lucas's bday", found from its end: the words after
# the date, then a date that ends where they start (a search for the whole trying every way to
# write a date at every place in a post cost 50 µs).
_IS_BIRTHDAY = r"\)?\s+is\s+(?:[\w'’]+\s+){0,2}(?:birthday|bday|b-day)\b"
_IS_BIRTHDAY_RE = re.compile(_IS_BIRTHDAY, re.IGNORECASE)
_DATE_BEFORE_RE = re.compile(rf"\(?({_DATE})\Z", re.IGNORECASE)
# A staff member's birthday: "wishing Mr. Baptiste a happy 50th birthday on April 2",
# "happy birthday to our own Coach Murphy, a true 4th of July baby".
_STAFF_RE = re.compile(r"\b(?i:coach|mr|mrs|ms|miss|dr|principal)\.?\s+[A-Z][a-z]+")
# What a number is when one of these comes earlier in its sentence ("Kahoot game PIN for
# Thursday's review: 482913", "Order confirmation #771902"): not a student id.
_NOT_ID_BEFORE_RE = re.compile(
    r"\b(?:order|confirmation|tracking|invoice|receipt|kahoot|zoom|quizizz|blooket|gimkit|"
    r"passcode|pin)\b[^.!?\n]{0,30}\Z",
    re.IGNORECASE,
)
_STREET_RE = re.compile(
    r"\b\d{1,5}\s+(?:[A-Z][a-z]+\.?\s+){1,3}(?:st|street|ave|avenue|rd|road|ln|lane|dr|drive|"
    r"ct|court|blvd|boulevard|way|pl|place|ter|terrace|cir|circle|pkwy|parkway|hwy|highway|"
    r"trl|trail|ridge|hill|row)\b\.?(?:\s*(?:apt|unit|#)\.?\s*\w+)?",
    re.IGNORECASE,
)
# A sentence addressed to everyone, not about one student.
_GENERIC_RE = re.compile(
    r"\b(?:if\s+(?:you|your)|any(?:one|\s+(?:student|athlete|player|child))|all\s+(?:students|"
    r"athletes|players|families)|(?:students|athletes|players|families)\s+(?:with|who)|everyone|"
    r"every\s+(?:student|athlete|player)|your\s+(?:kids|children|athletes|students)|si\s+su(?:s)?\s+hij[oa]s?|tod[oa]s\s+l[oa]s\s+"
    r"(?:estudiantes|atletas|jugador[ae]s|familias)|cualquier(?:\s+estudiante)?)\b",
    re.IGNORECASE,
)
# A sentence about a staff member or a rule for a group: "our principal, Dr." (a sentence
# cut at "Dr."), "our bus driver", "the CIAC cut-off", "eligibility".
_STAFF_ROLE_RE = re.compile(
    r"\b(?:(?:our|the)\s+(?:principal|teacher|bus driver|driver|nurse|custodian|secretary|"
    r"librarian|counselor|athletic director)|eligib\w*|cut-?off)\b",
    re.IGNORECASE,
)
_PRONOUN_RE = re.compile(r"\b(?:he|she|him|her|his|hers|himself|herself|he's|she's)\b", re.I)
# "your son", a student number or address, the writer: each looked for through the RE2 scan.
_ROLES = (
    r"\b(?:your|the|our|a|one|this|that|my)\s+(?:\w+\s+)?(?:child|son|daughter|kid|student|"
    r"player|athlete|teammate|runner|swimmer|wrestler|dancer|musician|member|freshman|"
    r"sophomore|junior|senior|goalie|pitcher|catcher|captain)\b",
    r"\bstudent\s*(?:#|no\.?|id)\s*\d",
    r"(?<![\w.+-])[\w.+-]++@students\.",
    r"\b(?:me|my|mine|i)\b",
)
_VOCATIVE_RE = re.compile(r"^\s*[A-Z][^\W\d_]+,\s+(?:you|your)\b")  # "Ben, you're at a 62"
_POSSESSIVE_RE = re.compile(r"^\s*[A-Z][a-z]+(?:'s|’s)\s")  # "Maya's torn meniscus"
_CAPITAL_RE = re.compile(r"\b([A-Z][a-z]+|[A-Z]\.)(?:'s|’s)?(?![A-Za-z])")  # not EpiPen
_NAME_VERB_RE = re.compile(
    r"^\s*[A-Z][^\W\d_]+(?:'s|’s)?\s+(?:[A-Z][^\W\d_]+\s+)?(?:has|had|is|was|got|gets|needs|will|"
    r"and|missed|can't|cannot|won't|isn't|wasn't|came|left|went|tested|broke|tore|sprained|"
    r"tiene|tuvo|está|estaba|estuvo|se|va|fue|necesita|no)\b"
)


def _spoken(written: str) -> str:
    """The digits of a number said at least partly in words ("" when it has no word)."""
    tokens = _SPOKEN_TOKEN_RE.findall(written)
    if all(t.isdigit() for t in tokens):
        return ""
    return "".join(_DIGIT_WORDS.get(t.lower(), t) for t in tokens)


def _dates_before_birthdays(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, date)`` of each match of ``\\(?(date) is ... birthday``, as a search
    for the whole pattern would find them: for each "is ... birthday" in turn, the leftmost
    date that ends where it starts."""
    found = []
    done = at = 0  # matches do not overlap
    while tail := _IS_BIRTHDAY_RE.search(text, at):
        date = _DATE_BEFORE_RE.search(text, done, tail.start())
        if date:
            found.append((date.start(), tail.end(), date.group(1)))
            done = at = tail.end()
        else:
            at = tail.start() + 1
    return found


@dataclass(frozen=True)
class Disclosure:
    """A piece of student information found in a post."""

    category: str  # one of CATEGORIES
    value: str  # the text matched (to be masked before it is shown or stored); "" if none
    decided_by: str = "pattern"  # or "classifier" (its head's score reached the threshold)
    score: float | None = None  # the classifier's score, when it decided
    sentence: str | None = None  # the sentence the classifier scored highest (unmasked)
    # A phone's or an email's: whether the post gives it as its writer's own ("my cell",
    # "text me") and ties it to no student or family: a staff member's own contact.
    own: bool = False


class ConfidentialityDetector:
    """Finds student information in posts for one district; its patterns are registered in
    ``index``."""

    def __init__(
        self,
        index: PatternIndex,
        district_email_domains: Iterable[str] = (),
        student_id_pattern: str | None = None,
        region: str = "US",
        classifier: Classifier | None = None,
        threshold: float = 1.0,
    ) -> None:
        data = data_file("confidential.toml")
        self._classifier = classifier
        self._threshold = threshold
        self._learned = tuple(
            c for c in LEARNED if classifier is not None and classifier.has(f"DS6:{c}")
        )
        self._district_domains = tuple(d.lower() for d in district_email_domains)
        self._region = region
        self._student_id = re.compile(student_id_pattern or DEFAULT_STUDENT_ID)
        self._id_context = Gated(index, compile_regexes(data["student_id"]))
        self._not_id = Gated(index, compile_regexes(data["not_student_id"]))
        self._institutional = Gated(index, compile_phrases(data["institutional_phone"]))
        self._business_phone = Gated(index, compile_regexes(data["business_phone"]))
        self._student_tie = Gated(index, compile_regexes(data["student_tie"]))
        self._residential = Gated(index, compile_regexes(data["residential"]))
        self._not_about_people = Gated(index, compile_regexes(data["not_about_people"]))
        self._not_student_health = Gated(index, compile_regexes(data["not_a_student_health"]))
        self._not_names = frozenset(data["not_names"])
        self._role = Gated(index, compile_regexes(_ROLES))
        self._tied = [
            ("grade", compile_regexes(data["grade"])),
            ("health", compile_phrases(data["health"])),
            ("iep-504", compile_phrases(data["iep-504"])),
            ("discipline", compile_phrases(data["discipline"])),
        ]
        # What a post may hold, in _find's order, after the terms tied to a person.
        shapes = [
            _PHONE_RE,
            _SPOKEN_PHONE_RE,
            _EMAIL_RE,
            _BIRTH_RE,
            _IS_BIRTHDAY_RE,  # what follows a date before "is ... birthday"
            _STREET_RE,
            self._student_id,
        ]
        self._all = PatternSet(index, [p for _, p in self._tied] + shapes)
        self._tied_set = PatternSet(index, [p for _, p in self._tied])

    def find(self, text: str, scan: Scan) -> list[Disclosure]:
        """Every disclosure in ``text``, at most one per category and value (``scan``: of
        the index the patterns are in)."""
        if not text.strip():
            return []
        found: dict[tuple[str, str], Disclosure] = {}
        for item in self._find(text, scan):
            found.setdefault((item.category, item.value), item)
        by_pattern = {category for category, _ in found}
        for category in self._learned:
            if category in by_pattern:
                continue
            assert self._classifier is not None
            head = f"DS6:{category}"
            score = self._classifier.score(text, head)
            if score < self._threshold:
                continue
            trigger = self._classifier.trigger(text, head)
            if category == "health" and self._not_student_health.search(
                trigger.sentence, scan, within=text
            ):
                continue  # a relative's illness, a court hearing, an awareness month
            if self._about_student(trigger.sentence):
                found[category, ""] = Disclosure(
                    category, "", "classifier", score, trigger.sentence
                )
        return list(found.values())

    def _find(self, text: str, scan: Scan) -> Iterator[Disclosure]:
        """Each disclosure as it is found, repeats included."""
        matches = self._all.search(text, scan)
        tied = len(self._tied)
        phone, spoken, email, birth, is_birthday, street, student_id = matches[tied:]
        if phone or spoken:
            yield from self._phones(text, scan, spoken is not None)
        if email:
            yield from self._emails(text, scan)
        if birth or is_birthday:
            yield from self._birth_dates(text)
        if street:
            yield from self._addresses(text, scan)
        if student_id:
            yield from self._student_ids(text, scan)
        if any(matches[:tied]):  # a term in a sentence is a term in the post
            yield from self._tied_terms(text, scan, matches[:tied])

    def _phones(self, text: str, scan: Scan, spoken: bool) -> Iterator[Disclosure]:
        """Valid phone numbers that are a student's or a family's: not the school's, a
        staff member's or a business's in an advertisement."""
        found = [(m, m.group()) for m in _PHONE_RE.finditer(text)]
        if spoken:
            for m in _SPOKEN_PHONE_RE.finditer(text):
                digits = _spoken(m.group())  # "by 6, 203 five five five ...": ten of them
                found += [(m, d) for d in {digits[:10], digits[-10:]} if digits]
        if not found:
            return
        # A coach's or an office's number ("Coach K here", "call Coach Mendez at", "ext.
        # 4") is not a student's, unless the post ties its numbers to a student or family
        # ("Coach, Emma's cell is ..."): then only the school's own lines are left out.
        tied = self._tied_beyond_coach(text, scan)
        if not tied and _STAFF_WRITER_RE.match(text):
            return
        ad: bool | None = None
        for match, written in found:
            around = text[max(0, match.start() - 40) : match.end() + 25]
            if self._institutional.search(around, scan, within=text) or (
                not tied
                and (
                    _STAFF_CONTACT_RE.search(text, max(0, match.start() - 60), match.end() + 25)
                    or _EXTENSION_RE.match(text, match.end())
                )
            ):
                continue  # the school's or a coach's (looked for first: parsing costs more)
            if not self._is_phone(written):
                continue
            if ad is None:
                ad = self._is_ad(text, scan)
            if not ad:
                own = self._own(text, match.start(), scan)
                yield Disclosure("phone", match.group(), own=own)

    def _is_ad(self, text: str, scan: Scan) -> bool:
        """Whether a post advertises a business (its phone is the business's), unless it
        ties the number to a student or family."""
        return bool(self._business_phone.search(text, scan)) and not self.tied_to_student(
            text, scan
        )

    def _own(self, text: str, at: int, scan: Scan) -> bool:
        """Whether the contact at ``at`` is given as the writer's own ("my cell is", "text
        me at") in a post that ties no contact to a student or family."""
        return bool(_OWN_CONTACT_RE.search(text, max(0, at - 30), at)) and not (
            self.tied_to_student(text, scan)
        )

    def tied_to_student(self, text: str, scan: Scan) -> bool:
        """Whether a post ties its contacts to a student or family ("Nico's mom", "his
        grandma", "my son"): a staff member's post without such words gives the writer's
        own or the school's."""
        return bool(self._student_tie.search(text, scan))

    def _tied_beyond_coach(self, text: str, scan: Scan) -> bool:
        """Whether the post ties a contact to a student or family other than by "Coach's
        cell" (the coach's own, which the staff-contact pattern leaves out)."""
        rest = text
        while match := self._student_tie.search(rest, scan, within=text):
            if not _COACH_BEFORE_RE.search(rest, max(0, match.start() - 24), match.start()):
                return True
            rest = rest[match.end() :]
        return False

    def _is_phone(self, written: str) -> bool:
        """Whether phonenumbers reads ``written`` as a valid number (of the district's
        region unless it starts with a country code)."""
        import phonenumbers  # 23 ms: paid by the processes that judge posts, not every run

        digits = "".join(c for c in written if c.isdigit())
        if written.lstrip().startswith("+"):
            digits = "+" + digits
        try:
            number = phonenumbers.parse(digits, self._region)
        except phonenumbers.NumberParseException:
            return False
        return phonenumbers.is_valid_number(number)

    def _birth_dates(self, text: str) -> Iterator[Disclosure]:
        found = [(m.start(), m.end(), m.group(1)) for m in _BIRTH_RE.finditer(text)]
        found += _dates_before_birthdays(text)
        for start, end, date in found:
            if not _STAFF_RE.search(text, max(0, start - 40), end):
                yield Disclosure("birth-date", date)

    def _emails(self, text: str, scan: Scan) -> Iterator[Disclosure]:
        """Addresses that are not the district's staff's, nor an organisation's (boosters,
        PTO, a team) outside a student domain."""
        for match in _EMAIL_RE.finditer(text):
            domain = match.group(1).lower().rstrip(".")
            if domain in self._district_domains:
                continue
            local = match.group(0).split("@", 1)[0]
            before = text[max(0, match.start() - 30) : match.start()]
            if not domain.startswith("students.") and (
                _is_org_local_part(local) or _ORG_EMAIL_BEFORE_RE.search(before)
            ):
                continue
            own = not domain.startswith("students.") and self._own(text, match.start(), scan)
            yield Disclosure("email", match.group(0), own=own)

    def _addresses(self, text: str, scan: Scan) -> Iterator[Disclosure]:
        """Street addresses said to be where someone lives."""
        for match in _STREET_RE.finditer(text):
            around = text[max(0, match.start() - 40) : match.end() + 25]
            if self._residential.search(around, scan, within=text):
                yield Disclosure("address", match.group(0))

    def _student_ids(self, text: str, scan: Scan) -> Iterator[Disclosure]:
        """Numbers of the district's student id shape, said to be a student's id."""
        for match in self._student_id.finditer(text):
            before = text[max(0, match.start() - 50) : match.start()]
            after = text[match.end() : match.end() + 20]
            near = text[max(0, match.start() - 12) : match.start()]
            if self._not_id.search(near, scan, within=text) or _NOT_ID_BEFORE_RE.search(
                text, max(0, match.start() - 45), match.start()
            ):
                continue
            if self._id_context.search(before, scan, within=text) or self._id_context.search(
                after, scan, within=text
            ):
                yield Disclosure("student-id", match.group(0))

    def _tied_terms(
        self, text: str, scan: Scan, in_text: Sequence[re.Match[str] | None]
    ) -> Iterator[Disclosure]:
        """Terms in sentences about a person; ``in_text``: each term's first match in the
        post, which is the sentence's when the post is one sentence."""
        sentences = SENTENCE_SPLIT_RE.split(text)
        for sentence in sentences:
            if len(sentences) == 1:
                matches = in_text
            else:
                matches = self._tied_set.search(sentence, scan, within=text)
            hits = [(cat, m) for (cat, _), m in zip(self._tied, matches, strict=True) if m]
            if not hits:
                continue
            if self._not_about_people.search(sentence, scan, within=text):
                hits = [(c, m) for c, m in hits if c != "discipline"]
            if self._not_student_health.search(sentence, scan, within=text):
                hits = [(c, m) for c, m in hits if c != "health"]
            if hits and _GENERIC_RE.search(sentence) and not self._names_someone(sentence):
                continue  # "if you need accommodations, contact me privately": no one's
            if any(c == "health" for c, _ in hits) and not self._about_person(
                _STAFF_RE.sub(" ", sentence), text, scan
            ):  # "get well soon to Coach Pham, recovering from knee surgery": staff's own
                hits = [(c, m) for c, m in hits if c != "health"]
            if hits and self._about_person(sentence, text, scan):
                for category, match in hits:
                    yield Disclosure(category, match.group(0))

    def _names_someone(self, sentence: str) -> bool:
        """Whether a sentence names a person: he or she, or a capitalised name after its
        first word."""
        if _PRONOUN_RE.search(sentence):
            return True
        start = len(sentence) - len(sentence.lstrip())
        return any(
            m.start() != start and self._is_name(m.group(1)) for m in _CAPITAL_RE.finditer(sentence)
        )

    @staticmethod
    def _about_student(sentence: str) -> bool:
        """Whether a sentence the classifier flagged may be about a particular student: not
        when it speaks to everyone ("if your athlete has a concussion", "students with a
        504 plan") or names staff ("Mr. Okafor had knee surgery")."""
        return not (
            _STAFF_RE.search(sentence)
            or _STAFF_ROLE_RE.search(sentence)
            or _GENERIC_RE.search(sentence)
        )

    def _about_person(self, sentence: str, text: str, scan: Scan) -> bool:
        """Whether a sentence (of post ``text``) is about a particular person: a name,
        he/she, "your son"."""
        if _PRONOUN_RE.search(sentence) or self._role.search(sentence, scan, within=text):
            return True
        if _VOCATIVE_RE.match(sentence):
            return True
        if (_NAME_VERB_RE.match(sentence) or _POSSESSIVE_RE.match(sentence)) and self._is_name(
            sentence.split()[0]
        ):
            return True
        start = len(sentence) - len(sentence.lstrip())
        return any(
            m.start() != start and self._is_name(m.group(1)) for m in _CAPITAL_RE.finditer(sentence)
        )

    def _is_name(self, word: str) -> bool:
        word = word.rstrip("'’s").rstrip(".,;:!?").lower()
        return bool(word) and word not in self._not_names


def _is_org_local_part(local: str) -> bool:
    """Whether an email's local part names an organisation (see :data:`_ORG_WORDS`)."""
    for part in _LOCAL_PART_SPLIT_RE.split(local.lower()):
        if part in _ORG_ACRONYMS or part.endswith(tuple(_ORG_ACRONYMS)):
            return True  # "pto", "danburyhighpto"
        if any(part.startswith(w) or part.endswith((w, w + "s")) for w in _ORG_WORDS):
            return True
    return False
