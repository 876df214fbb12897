"""Prints how many posts per second every rule evaluates on one core.

Pages of 50 posts are built from the labeled corpus (tests/corpus/posts.jsonl) and every
rule in the catalog runs on each, as the runner does; the detectors' one-time setup
(loading the profanity model) is done before timing.

    python tests/bench/bench_rules.py [--posts 20000] [--page-size 50]
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from itertools import cycle, islice
from pathlib import Path

from auditor.config import DistrictConfig, PageConfig, RulesConfig
from auditor.people import People
from auditor.rules import catalog
from auditor.rules.base import RuleContext
from auditor.snapshot import PageSnapshot

CORPUS = Path(__file__).parents[1] / "corpus" / "posts.jsonl"
DISTRICT = DistrictConfig(
    web_domains=["danbury.k12.ct.us"],
    staff_email_domains=["danbury.k12.ct.us"],
    student_email_domains=["students.danbury.k12.ct.us"],
)
RULES = RulesConfig(
    allowed_domains=["maxpreps.com", "signupgenius.com", "docs.google.com", "forms.gle"],
    student_id_pattern=r"\b\d{6}\b",
)
PAGE = PageConfig(
    id="bench",
    connector="file",
    external_id="bench",
    name="Bench",
    owner="owner@danbury.k12.ct.us",
    supervisor="boss@danbury.k12.ct.us",
)
MEMBERS = [
    {"id": "staff", "email": "owner@danbury.k12.ct.us", "role": "owner"},
    {"id": "student", "email": "kid@students.danbury.k12.ct.us"},
    {"id": "parent", "email": "family@gmail.com"},
]


def pages(total: int, size: int) -> list[PageSnapshot]:
    """``total`` corpus posts (repeated as needed) in pages of ``size``."""
    with CORPUS.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    posts = [
        {
            "id": f"p{i}",
            "author_id": row["author_role"],
            "text": row["text"],
            "links": row["links"],
        }
        for i, row in enumerate(islice(cycle(rows), total))
    ]
    return [
        PageSnapshot.model_validate(
            {
                "platform": "file",
                "external_id": f"page{n}",
                "kind": "group",
                "members": MEMBERS,
                "posts": posts[n : n + size],
            }
        )
        for n in range(0, total, size)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20000)
    parser.add_argument("--page-size", type=int, default=50)
    args = parser.parse_args()
    snapshots = pages(args.posts, args.page_size)
    ctx = RuleContext(PAGE, DISTRICT, RULES, People(DISTRICT), datetime.now(UTC))
    catalog.evaluate(snapshots[0], ctx)  # warm up: load the model and compile the lists
    start = time.process_time()
    for snapshot in snapshots:
        catalog.evaluate(snapshot, ctx)
    elapsed = time.process_time() - start
    print(
        f"{args.posts} posts in {len(snapshots)} pages, {len(catalog.RULES)} rules: "
        f"{elapsed:.2f} s CPU, {args.posts / elapsed:,.0f} posts/s on one core"
    )


if __name__ == "__main__":
    main()
