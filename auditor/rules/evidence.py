"""Masks student data in evidence, whatever rule made it: one function, applied by the
catalog to every result, so no rule can put a student's contact details in a report.

Masked everywhere: phone numbers, and the local part of email addresses in the district's
student domains. Inside links, also any email address and date in the path or query
(``/form?student=ava@...&dob=2009-03-14``), since links carry them where no rule looks.
"""

from __future__ import annotations

import re

from auditor.results import Evidence, RuleResult
from auditor.text.mask import mask

_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_EMAIL = re.compile(r"([\w.+%-]+)@((?:[\w-]+\.)+[A-Za-z]{2,})")
_PHONE = re.compile(
    r"(?<![\w./=-])(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?![\w/])"
    r"|(?<=[=/])(?:\+?1)?\d{10}(?![\w/])"
)
_DATE = re.compile(r"(?<!\d)(?:19|20)\d{2}-[01]\d-[0-3]\d(?!\d)")


def mask_result(result: RuleResult, student_domains: frozenset[str]) -> RuleResult:
    """The result with student data in its evidence masked (a new result; inputs unchanged)."""
    evidence = [mask_evidence(e, student_domains) for e in result.evidence]
    if evidence == result.evidence:
        return result
    return result.model_copy(update={"evidence": evidence})


def mask_evidence(item: Evidence, student_domains: frozenset[str]) -> Evidence:
    """One evidence item with student data masked in its value and note."""
    value = mask_text(item.value, student_domains)
    note = mask_text(item.note, student_domains) if item.note else item.note
    if value == item.value and note == item.note:
        return item
    return item.model_copy(update={"value": value, "note": note})


def mask_text(text: str, student_domains: frozenset[str]) -> str:
    """``text`` with phones, student emails and the personal data inside links masked."""
    text = _URL.sub(lambda m: _mask_link(m.group()), text)
    text = _PHONE.sub(lambda m: mask(m.group()), text)
    return _EMAIL.sub(
        lambda m: _masked_email(m) if m.group(2).lower() in student_domains else m.group(),
        text,
    )


def _mask_link(url: str) -> str:
    """A link with any email, phone or date in its path or query masked."""
    url = _EMAIL.sub(_masked_email, url)
    url = _PHONE.sub(lambda m: mask(m.group()), url)
    return _DATE.sub(lambda m: mask(m.group()), url)


def _masked_email(match: re.Match[str]) -> str:
    return f"{mask(match.group(1))}@{match.group(2)}"
