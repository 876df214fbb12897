"""DS6.confidentiality runs the rule contract."""

from auditor.testkit.rules import RuleContract


def post(text: str) -> dict[str, str]:
    return {"id": "p1", "author_id": "o", "text": text}


class TestConfidentialityContract(RuleContract):
    rule_id = "DS6.confidentiality"
    passing = {"posts": [post("Practice moves to the gym on Thursday.")]}
    failing = {"posts": [post("Call Mia's mom at 203-555-0188, she has asthma.")]}
    missing = {"posts": None}
