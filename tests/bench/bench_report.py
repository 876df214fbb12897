"""Benchmark: render the report of a 5,000-page run (with earlier runs for history: one by
default, eleven for full trend charts and rule history strips) from a temporary SQLite
database and print load/render times and output sizes; then render it again, each page's
report pieces now stored (``reports.pieces``).

Run: ``python tests/bench/bench_report.py [--pages 5000] [--schools 60] [--runs 2]``
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reports"))

from report_seed import PageSpec, add_pages, add_run

from auditor.db.engine import make_engine, upgrade
from auditor.db.store import refresh_statistics
from auditor.reports.outline import RunOutline, open_run
from auditor.reports.run_report import write_report
from auditor.results import Evidence, RuleResult, Severity, Status
from auditor.rules import catalog

PLATFORMS = ["google-groups", "microsoft365", "discord", "groupme", "canvas", "facebook"]


def results_for(rng: random.Random, fail_rate: float) -> list[RuleResult]:
    """One result per catalog rule; a share of them fail with a little evidence."""
    out = []
    for rule in catalog.all_rules():
        if rule.id == "DS9.misrepresentation":
            out.append(
                RuleResult(
                    rule=rule.id,
                    status=Status.MANUAL,
                    severity=rule.severity,
                    message="Read recent posts and the page description.",
                )
            )
            continue
        failing = rng.random() < fail_rate
        out.append(
            RuleResult(
                rule=rule.id,
                status=Status.FAIL if failing else Status.PASS,
                severity=rule.severity if failing else Severity.LOW,
                message=f"{rule.title}: {'not met' if failing else 'met'} on this page.",
                evidence=[Evidence(kind="setting", ref="visibility", value="public")]
                if failing
                else [],
            )
        )
    return out


def timed_reads() -> list[float]:
    """Add up the time spent reading pages in full (``RunOutline.load``) from now on."""
    spent = [0.0]
    load = RunOutline.load

    def timed(self: RunOutline, lines: Any, changes: bool = True) -> Any:
        start = time.perf_counter()
        try:
            return load(self, lines, changes)
        finally:
            spent[0] += time.perf_counter() - start

    RunOutline.load = timed  # type: ignore[method-assign]
    return spent


def memory(field: str) -> float:
    """This process's ``VmRSS`` or ``VmHWM`` (peak) from /proc, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)


def reset_peak() -> bool:
    """Reset the process's peak RSS (Linux ``clear_refs``), so that VmHWM measures what
    follows; False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--schools", type=int, default=60)
    parser.add_argument("--runs", type=int, default=2, help="runs in the database (12: full)")
    args = parser.parse_args()
    rng = random.Random(42)
    with tempfile.TemporaryDirectory(prefix="auditor-bench-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        pages = [
            PageSpec(
                id=f"page-{i:05d}",
                name=f"Club {i:05d}",
                school=f"School {i % args.schools:03d}",
                owner=f"teacher{i}@district.org",
                supervisor=f"principal{i % args.schools}@district.org",
            )
            for i in range(args.pages)
        ]
        start = datetime(2026, 11, 1, 2, tzinfo=UTC)
        add_pages(engine, pages, start)
        platforms = {p.id: PLATFORMS[i % len(PLATFORMS)] for i, p in enumerate(pages)}
        names = {p.id: p.name for p in pages}
        t0 = time.perf_counter()
        for day in range(args.runs):
            outcomes = {
                p.id: "connector timed out" if rng.random() < 0.01 else results_for(rng, 0.08)
                for p in pages
            }
            run_id = add_run(engine, start + timedelta(days=day), outcomes, platforms, names=names)
        refresh_statistics(engine)  # as every real run does when it finishes
        seeded = time.perf_counter() - t0
        gc.collect()
        peak_reset = reset_peak()
        before = memory("VmRSS")
        cpu = time.process_time()
        t1 = time.perf_counter()
        view = open_run(engine, run_id)  # as `auditor report` and a run do
        loaded = time.perf_counter() - t1
        reads = timed_reads()
        out = Path(tmp) / "report"
        t2 = time.perf_counter()
        write_report(view, out)
        rendered = time.perf_counter() - t2
        peak = memory("VmHWM")
        cpu = time.process_time() - cpu
        files = [f for f in out.rglob("*") if f.is_file()]
        details = list((out / "details").glob("*.html"))
        biggest = max(details, key=lambda f: f.stat().st_size)
        results = sum(view.totals.statuses.values())
        print(f"pages: {len(view.lines)}, results: {results}, runs in database: {args.runs}")
        print(f"seed database: {seeded:.1f} s")
        print(f"read the run's outline (a line per page): {loaded:.2f} s")
        print(f"render and write every output: {rendered:.2f} s")
        print(f"  of which reading pages in full, a batch at a time: {reads[0]:.2f} s")
        print(f"load and render: {loaded + rendered:.2f} s ({cpu:.2f} s of CPU)")
        if peak_reset:
            print(f"RSS before the load {before:.0f} MB, peak during load and render {peak:.0f} MB")
        print(f"index.html: {(out / 'index.html').stat().st_size / 1e6:.2f} MB")
        print(
            f"detail files: {len(details)}, largest {biggest.name} "
            f"{biggest.stat().st_size / 1e6:.2f} MB"
        )
        digests = list((out / "digests").glob("*.html"))
        print(
            f"digests: {len(digests)}, largest "
            f"{max(f.stat().st_size for f in digests) / 1e3:.0f} kB"
        )
        for name in ("findings.json", "findings.jsonl", "findings.jsonl.gz", "findings.csv"):
            if (out / name).exists():
                print(f"{name}: {(out / name).stat().st_size / 1e6:.2f} MB")
        parts = sorted((out / "findings").glob("*.json")) if (out / "findings").is_dir() else []
        if parts:
            big = max(parts, key=lambda f: f.stat().st_size)
            print(
                f"findings parts: {len(parts)} (.json and .csv each), largest "
                f"{big.name} {big.stat().st_size / 1e6:.2f} MB"
            )
        t3, cpu = time.perf_counter(), time.process_time()
        write_report(open_run(engine, run_id), out)  # the pieces now stored
        print(
            f"load and render again, each page's pieces stored: {time.perf_counter() - t3:.2f} s"
            f" ({time.process_time() - cpu:.2f} s of CPU)"
        )
        largest = max(files, key=lambda f: f.stat().st_size)
        print(f"largest file: {largest.relative_to(out)} {largest.stat().st_size / 1e6:.2f} MB")
        print(
            f"all outputs: {len(files)} files, {sum(f.stat().st_size for f in files) / 1e6:.1f} MB"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
