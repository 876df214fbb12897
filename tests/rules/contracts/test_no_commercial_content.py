"""DS8.no-commercial-content runs the rule contract."""

from auditor.testkit.rules import RuleContract


def post(text: str) -> dict[str, str]:
    return {"id": "p1", "author_id": "o", "text": text}


class TestNoCommercialContentContract(RuleContract):
    rule_id = "DS8.no-commercial-content"
    passing = {"posts": [post("Practice moves to the gym on Thursday.")]}
    failing = {"posts": [post("Vote for Smith for mayor! Buy my candles at my Etsy shop.")]}
    missing = {"posts": None}
