"""Measures the content rules (DS3, DS6, DS7, DS8) on the labeled corpus.

By default the corpus is the posts the rules were tuned on, ``posts.jsonl``,
``posts-2.jsonl`` and ``posts-3.jsonl``; ``--holdout`` measures the held-out posts
(README.md), ``holdout.jsonl`` unless a file is named (``--holdout FILE``).

Each post becomes a one-post page snapshot, the real rules are run on it in the corpus's
district context (README.md), and precision and recall are printed per rule and per
category. A rule's figures count (post, category) pairs, so a post flagged for the wrong
category is both a false positive and a false negative. For DS3, DS6 and DS8 it also
prints the share of true and false positives that a precise pattern decided and the share
the learned classifier did. Exits 1 when a rule's precision or recall is below the target.

    python tests/corpus/evaluate.py [--errors] [--no-classifier]
        [--holdout [FILE] | --corpus FILE ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from auditor.config import ClassifierConfig, DistrictConfig, PageConfig, RulesConfig
from auditor.people import People
from auditor.results import RuleResult, Status
from auditor.rules import catalog
from auditor.rules.base import RuleContext
from auditor.snapshot import PageSnapshot
from auditor.text.commercial import LABELS as DS8_LABELS
from auditor.text.confidential import LABELS as DS6_LABELS
from auditor.text.matcher import TextMatcher

HERE = Path(__file__).parent
# What the rules were tuned on.
CORPUS = (HERE / "posts.jsonl", HERE / "posts-2.jsonl", HERE / "posts-3.jsonl")
HOLDOUT = HERE / "holdout.jsonl"
TARGET = 0.9
RULES = {
    "DS3": "DS3.respectful-speech",
    "DS6": "DS6.confidentiality",
    "DS7": "DS7.no-personal-links",
    "DS8": "DS8.no-commercial-content",
}
AUTHORS = {
    "staff": "coach@danbury.k12.ct.us",
    "student": "student@students.danbury.k12.ct.us",
    "parent": "family@gmail.com",
}
DISTRICT = DistrictConfig(
    name="Danbury Public Schools",
    web_domains=["danbury.k12.ct.us"],
    staff_email_domains=["danbury.k12.ct.us"],
    student_email_domains=["students.danbury.k12.ct.us"],
    timezone="America/New_York",
)
RULES_CONFIG = RulesConfig(
    allowed_domains=["maxpreps.com", "signupgenius.com", "docs.google.com", "forms.gle"],
    student_id_pattern=r"\b\d{6}\b",
)
PAGE = PageConfig(
    id="corpus",
    connector="file",
    external_id="corpus",
    name="Corpus page",
    owner="owner@danbury.k12.ct.us",
    supervisor="boss@danbury.k12.ct.us",
)
_DS6_BY_LABEL = {label: cat for cat, label in DS6_LABELS.items()}
_DS8_BY_LABEL = {label: cat for cat, label in DS8_LABELS.items()}


@dataclass
class Tally:
    """True positives, false positives and false negatives of one rule or category."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def snapshot_of(post: dict) -> PageSnapshot:
    """A page holding just this post, written by a member of the post's author role."""
    email = AUTHORS[post["author_role"]]
    return PageSnapshot.model_validate(
        {
            "platform": "file",
            "external_id": post["id"],
            "members": [{"id": "author", "email": email, "role": "member"}],
            "posts": [
                {
                    "id": post["id"],
                    "author_id": "author",
                    "text": post["text"],
                    "links": post.get("links", []),
                }
            ],
        }
    )


def predicted(rule: str, result: RuleResult) -> dict[str, str]:
    """The categories a rule's result claims (``"yes"`` for DS3), each with what decided
    it (``pattern`` or ``classifier``)."""
    if result.status != Status.FAIL:
        return {}
    if rule == "DS3":
        return {"yes": result.evidence[0].decided_by or "pattern"}
    if rule == "DS7":
        notes = [e.note or "" for e in result.evidence]
        personal = any(n.startswith("personal") for n in notes)
        return {"personal-social" if personal else "non-district": "pattern"}
    labels = _DS6_BY_LABEL if rule == "DS6" else _DS8_BY_LABEL
    found: dict[str, str] = {}
    for item in result.evidence:
        label = next(name for name in labels if item.value.startswith(name))
        found.setdefault(labels[label], item.decided_by or "pattern")
    return found


def expected(rule: str, labels: dict) -> set[str]:
    """The categories a post is labeled with for ``rule``."""
    value = labels[rule]
    if rule == "DS3":
        return {"yes"} if value else set()
    if rule == "DS7":
        return {value} if value else set()
    return set(value)


def evaluate(
    posts: Iterable[dict], rules: RulesConfig = RULES_CONFIG
) -> tuple[dict[str, dict[str, Tally]], Counter[str]]:
    """Tallies per rule (key ``"all"``) and per category, and how many true and false
    positives each of the patterns and the classifier decided (``"DS3 tp classifier"``)."""
    text = TextMatcher(rules, DISTRICT)
    ctx = RuleContext(PAGE, DISTRICT, rules, People(DISTRICT), datetime.now(UTC), text)
    tallies: dict[str, dict[str, Tally]] = {rule: {"all": Tally()} for rule in RULES}
    deciders: Counter[str] = Counter()
    for post in posts:
        snapshot = snapshot_of(post)
        page = replace(ctx, text=text.page([post["text"]]))  # as the catalog evaluates a page
        for rule, rule_id in RULES.items():
            got = predicted(rule, catalog.get(rule_id).check(snapshot, page))
            want = expected(rule, post["labels"])
            for category in got.keys() | want:
                if category in got:
                    outcome = "tp" if category in want else "fp"
                    deciders[f"{rule} {outcome} {got[category]}"] += 1
                for key in ("all", category):
                    tally = tallies[rule].setdefault(key, Tally())
                    if category in got and category in want:
                        tally.tp += 1
                    elif category in got:
                        tally.fp += 1
                        tally.errors.append(f"FP {rule} {category} {post['id']}: {post['text']}")
                    else:
                        tally.fn += 1
                        tally.errors.append(f"FN {rule} {category} {post['id']}: {post['text']}")
    return tallies, deciders


def load(paths: Iterable[Path] = CORPUS) -> list[dict]:
    """The posts of the corpus files."""
    posts = []
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            posts += [json.loads(line) for line in handle if line.strip()]
    return posts


def print_table(tallies: dict[str, dict[str, Tally]], errors: bool = False) -> None:
    """Precision, recall and counts per rule, then per category (DS3 has none), with the
    misclassified posts under each category (DS3's under the rule)."""
    print(
        f"{'rule':<6} {'category':<16} {'precision':>9} {'recall':>7} {'tp':>5} {'fp':>5} {'fn':>5}"
    )
    for rule, by_cat in tallies.items():
        for category, t in sorted(by_cat.items(), key=lambda kv: (kv[0] != "all", kv[0])):
            if rule == "DS3" and category != "all":
                continue
            print(
                f"{rule:<6} {category:<16} {t.precision:>9.3f} {t.recall:>7.3f} "
                f"{t.tp:>5} {t.fp:>5} {t.fn:>5}"
            )
            if errors and (category != "all" or rule == "DS3"):
                for line in t.errors:
                    print("    " + line.replace("\n", " "))


def below_target(tallies: dict[str, dict[str, Tally]]) -> list[str]:
    """Rules whose precision or recall is under TARGET."""
    return [
        rule
        for rule, by_cat in tallies.items()
        if by_cat["all"].precision < TARGET or by_cat["all"].recall < TARGET
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list misclassified posts")
    parser.add_argument("--corpus", type=Path, nargs="+", default=list(CORPUS))
    parser.add_argument(
        "--holdout",
        type=Path,
        nargs="?",
        const=HOLDOUT,
        help="a held-out file instead (holdout.jsonl when none is named)",
    )
    parser.add_argument(
        "--no-classifier", action="store_true", help="the precise patterns alone, as before"
    )
    args = parser.parse_args(argv)
    rules = RULES_CONFIG
    if args.no_classifier:
        rules = RULES_CONFIG.model_copy(update={"classifier": ClassifierConfig(enabled=False)})
    tallies, deciders = evaluate(load([args.holdout] if args.holdout else args.corpus), rules)
    print_table(tallies, args.errors)
    print("decided by (true positives / false positives):")
    for rule in ("DS3", "DS6", "DS8"):
        shares = []
        for outcome in ("tp", "fp"):
            total = sum(deciders[f"{rule} {outcome} {d}"] for d in ("pattern", "classifier"))
            learned = deciders[f"{rule} {outcome} classifier"]
            shares.append(f"{outcome} {total - learned} pattern / {learned} classifier")
        print(f"  {rule}: " + ", ".join(shares))
    failing = below_target(tallies)
    if failing:
        print(f"below the {TARGET} target: {', '.join(failing)}")
        return 1
    print(f"every rule meets the {TARGET} target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
