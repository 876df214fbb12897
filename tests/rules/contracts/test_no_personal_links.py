"""DS7.no-personal-links runs the rule contract."""

from auditor.testkit.rules import RuleContract


def post(text: str) -> dict[str, str]:
    return {"id": "p1", "author_id": "o", "text": text}


class TestNoPersonalLinksContract(RuleContract):
    rule_id = "DS7.no-personal-links"
    passing = {"posts": [post("Schedule: https://www.district.org/athletics")]}
    failing = {"posts": [post("Follow me! https://www.instagram.com/coach.olive")]}
    missing = {"posts": None}
