"""Prints how many posts per second every rule evaluates on one core, and what the
content detectors cost a new process before the first post.

Pages of 50 posts are built from the labeled corpus (tests/corpus/, the posts the rules
were tuned on) and every rule in the catalog runs on each, as the runner does. A real run's
posts are new texts, and RE2 builds its automaton as new text needs it, so every post gets
three words, drawn at random, from about 8,000 that break no rule and that the profanity
model does not lean on: no text repeats, within a pass or across passes. Figures are CPU
time of this one process: the imports, making the detectors (phrase lists, the RE2 set, the
profanity model, the public suffix list: what a run does once), the first page, one pass
(RE2's automaton and the alternatives' regexes are built as posts need them: what
``auditor run`` does in a new process; the cold figure counts the set-up too, model load
included, as ``auditor run`` pays it once), and ``--repeat`` further passes, their best and
median (what the long-running ``auditor schedule`` does from its second night on; this
machine's speed drifts by a quarter or more from minute to minute). Two mixes are
measured: the corpus as it is, where about half the posts break a rule (the worst case: such
posts cost two to three times a clean one), and pages where one post in twenty does, more
than real club pages hold; ``--violating`` sets others (``--violating 0`` for clean posts
only).

    python tests/bench/bench_rules.py [--posts N] [--page-size N] [--repeat N]
        [--violating SHARE ...] [--by-rule] [--no-classifier]

On one core: ``taskset -c 0 python tests/bench/bench_rules.py``.

Last, the warm figure: a pass over pages whose every post was judged before (the judged-post
cache), with the verdicts in memory and read per page from a SQLite database as
``auditor run`` reads them.
"""

from __future__ import annotations

import time

START = time.process_time()  # before the project's imports: they count as set-up

import argparse  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
from dataclasses import replace  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from itertools import cycle, islice  # noqa: E402
from pathlib import Path  # noqa: E402

from auditor.config import ClassifierConfig  # noqa: E402
from auditor.people import People  # noqa: E402
from auditor.rules import catalog  # noqa: E402
from auditor.rules.base import RuleContext  # noqa: E402
from auditor.snapshot import PageSnapshot  # noqa: E402
from auditor.text.matcher import TextMatcher  # noqa: E402
from auditor.text.profanity import ProfanityModel, read_weights  # noqa: E402

sys.path.insert(0, str(Path(__file__).parents[1] / "corpus"))
# The corpus script's district, rules and page: the benchmark measures the setup it scores.
from evaluate import DISTRICT, PAGE, load  # noqa: E402
from evaluate import RULES_CONFIG as RULES  # noqa: E402

MEMBERS = [
    {"id": "staff", "email": "owner@danbury.k12.ct.us", "role": "owner"},
    {"id": "student", "email": "kid@students.danbury.k12.ct.us"},
    {"id": "parent", "email": "family@gmail.com"},
]


def neutral_words(ctx: RuleContext) -> list[str]:
    """Words of the profanity model's vocabulary (about 8,000) that make a post no more
    offensive to the model than no words at all, and that break no rule alone: appended to
    corpus posts, they make texts new without changing what the rules find."""
    model = ProfanityModel()
    baseline = model.probability("")
    vocabulary = [
        word
        for word in read_weights().vocabulary
        if word.isalpha() and 3 <= len(word) <= 12 and model.probability(word) <= baseline
    ]
    page = PageSnapshot.model_validate(
        {
            "platform": "file",
            "external_id": "words",
            "members": MEMBERS,
            "posts": [{"id": word, "text": word} for word in vocabulary],
        }
    )
    flagged = {e.ref for result in catalog.evaluate(page, ctx) for e in result.evidence}
    return [word for word in vocabulary if word not in flagged]


def pages(
    total: int,
    size: int,
    violating: float | None = None,
    words: list[str] | None = None,
    seed: int = 0,
) -> list[PageSnapshot]:
    """``total`` corpus posts (repeated as needed) in pages of ``size``. ``violating`` is
    the share of posts that break a rule (None: the corpus as it is, about half).

    A run's posts are new texts, and RE2 builds its automaton as new text needs it, so
    with ``words`` each post ends with three of them, drawn at random: no two texts repeat.
    """
    rng = random.Random(seed)
    rows = _mix(load(), total, violating, rng)
    pick = rng.choice
    posts = [
        {
            "id": f"p{i}",
            "author_id": row["author_role"],
            "text": f"{row['text']} {pick(words)} {pick(words)} {pick(words)}"
            if words
            else row["text"],
            "links": row["links"],
        }
        for i, row in enumerate(rows)
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


def _mix(rows: list[dict], total: int, violating: float | None, rng: random.Random) -> list[dict]:
    """``total`` posts of the corpus, with the share of rule-breaking ones asked for."""
    if violating is None:
        return list(islice(cycle(rows), total))
    bad = [r for r in rows if any(r["labels"].values())]
    good = [r for r in rows if not any(r["labels"].values())]
    count = round(total * violating)
    mixed = [*islice(cycle(bad), count), *islice(cycle(good), total - count)]
    rng.shuffle(mixed)
    return mixed


def main() -> None:
    """Measure and print the set-up, then each mix's passes (and each rule's share)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20000)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--violating",
        type=float,
        nargs="+",
        metavar="SHARE",
        help="shares of posts that break a rule to measure, 0 to 1 (default: the labelled "
        "corpus as it is, about half, then 0.05, closer to real pages)",
    )
    parser.add_argument(
        "--by-rule",
        action="store_true",
        help="then one more pass, timing the RE2 scan and each rule apart",
    )
    parser.add_argument("--no-classifier", action="store_true", help="the precise patterns alone")
    args = parser.parse_args()
    imported = time.process_time() - START
    rules = RULES
    if args.no_classifier:
        rules = RULES.model_copy(update={"classifier": ClassifierConfig(enabled=False)})
    start = time.process_time()
    text = TextMatcher(rules, DISTRICT)
    made = time.process_time() - start
    ctx = RuleContext(PAGE, DISTRICT, rules, People(DISTRICT), datetime.now(UTC), text)
    start = time.process_time()
    catalog.evaluate(pages(args.page_size, args.page_size)[0], ctx)
    first_page = time.process_time() - start
    print(
        f"set-up: imports {imported:.2f} s, detectors {made:.2f} s (classifier "
        f"{'off' if args.no_classifier else 'on, model loaded'}), first page of "
        f"{args.page_size} posts {first_page:.2f} s CPU"
    )
    setup = imported + made + first_page
    words = neutral_words(ctx)
    count = -(-args.posts // args.page_size)
    print(
        f"{args.posts} posts in {count} pages of {args.page_size}, "
        f"{len(catalog.all_rules())} rules:"
    )
    for number, share in enumerate(args.violating or [None, 0.05]):
        times = [
            _one_pass(pages(args.posts, args.page_size, share, words, seed), ctx)
            for seed in range(1 + args.repeat)  # new texts every pass
        ]
        line = f"  {_mix_label(share)}:"
        if not number:  # what a new process does: RE2's automaton is built as texts need it
            line += f" first pass {args.posts / times[0]:,.0f} posts/s;"
            cold = (args.posts + args.page_size) / (setup + times[0])
            line += f" cold process (set-up and first pass) {cold:,.0f} posts/s;"
        if args.repeat:
            rates = sorted(args.posts / t for t in times[1:])
            line += (
                f" passes 2-{1 + args.repeat}: best {rates[-1]:,.0f}, median "
                f"{rates[len(rates) // 2]:,.0f} posts/s on one core"
            )
        print(line)
    warm(args.posts, args.page_size, ctx, words)
    if args.by_rule:
        share = (args.violating or [None])[0]
        snapshots = pages(args.posts, args.page_size, share, words, 1 + args.repeat)
        print(f"  by rule, {_mix_label(share)}:")
        for name, seconds in _by_rule(snapshots, ctx, text).items():
            if seconds * 1e6 / args.posts >= 0.1:
                print(f"    {name:<28} {seconds * 1e6 / args.posts:6.1f} µs a post")


def _mix_label(share: float | None) -> str:
    """How a mix of posts is named in the output (None: the corpus as it is)."""
    if share is None:
        rows = load()
        bad = sum(any(row["labels"].values()) for row in rows)
        return f"the corpus as it is ({bad / len(rows):.0%} of posts break a rule)"
    return f"{share:.0%} of posts break a rule"


def _by_rule(
    snapshots: list[PageSnapshot], ctx: RuleContext, text: TextMatcher
) -> dict[str, float]:
    """CPU seconds of the RE2 scan of every post and of each rule, over all pages."""
    spent = {"RE2 scan": 0.0} | {rule.id: 0.0 for rule in catalog.all_rules()}
    for snapshot in snapshots:
        start = time.process_time()
        page = replace(ctx, text=text.page(post.text for post in snapshot.posts or []))
        spent["RE2 scan"] += time.process_time() - start
        for rule in catalog.all_rules():
            start = time.process_time()
            rule.check(snapshot, page)
            spent[rule.id] += time.process_time() - start
    return spent


def _one_pass(snapshots: list[PageSnapshot], ctx: RuleContext) -> float:
    """CPU seconds to evaluate every rule on every page."""
    start = time.process_time()
    for snapshot in snapshots:
        catalog.evaluate(snapshot, ctx)
    return time.process_time() - start


# The warm figure (judged-post cache) ---------------------------------------------------


def warm(posts: int, page_size: int, ctx: RuleContext, words: list[str]) -> None:
    """Print posts/s of a pass where every post's verdict is known: from memory (the rules
    alone), and read per page from a SQLite cache through the runner's own code."""
    import tempfile  # the warm section only

    from auditor.db.engine import make_engine, upgrade
    from auditor.feedback import RunFeedback, storable

    snapshots = pages(posts, page_size, 0.05, words, 99)
    known: dict = {}
    for snapshot in snapshots:
        known.update(catalog.evaluate_page(snapshot, ctx)[1])
    start = time.process_time()
    for snapshot in snapshots:
        catalog.evaluate_page(snapshot, replace(ctx, known=known))
    memory = time.process_time() - start
    assert ctx.text is not None
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/cache.db")
        upgrade(engine)
        feedback = RunFeedback(engine, ctx.text.version, datetime.now(UTC))
        for snapshot in snapshots:  # the first run: judged and stored, as the runner does
            known = feedback.known(ctx.page.id, snapshot)
            computed = catalog.evaluate_page(snapshot, replace(ctx, known=known))[1]
            feedback.keep({h: v for h, v in computed.items() if storable(v, ())})
        feedback.flush()
        start = time.process_time()
        for snapshot in snapshots:
            known = feedback.known(ctx.page.id, snapshot)
            catalog.evaluate_page(snapshot, replace(ctx, known=known))
        stored = time.process_time() - start
        engine.dispose()
    print(
        f"warm, every post in the judged-post cache (5% of posts break a rule): "
        f"{posts / memory:,.0f} posts/s with the verdicts in memory, {posts / stored:,.0f} "
        "posts/s read page by page from SQLite, on one core"
    )


if __name__ == "__main__":
    main()
