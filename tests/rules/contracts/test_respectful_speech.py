"""DS3.respectful-speech runs the rule contract."""

from auditor.testkit.rules import RuleContract


def post(text: str) -> dict[str, str]:
    return {"id": "p1", "author_id": "s1", "text": text}


class TestRespectfulSpeechContract(RuleContract):
    rule_id = "DS3.respectful-speech"
    passing = {"posts": [post("Great practice today, see everyone Thursday!")]}
    failing = {"posts": [post("you are a fucking idiot and everyone hates you")]}
    missing = {"posts": None}
