"""Where an unchanged second run of N snapshot-file pages spends its time and memory.

Writes N generated pages as snapshot files (as ``bench_e2e.py --platform file`` does),
runs ``auditor run`` once as a subprocess, then the second, unchanged run in this process
(``rule_workers`` as the run decides): the pages (re-used, not evaluated), then the run's
report and alerts, each piece of the report timed apart. Prints wall time and RSS (now
and peak) at the end of each phase, so that what grows with pages shows.

    python tests/bench/bench_reuse_phases.py [--pages N]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_e2e import District, child_environment, write_config, write_exports

TIMED = {
    "auditor.jobs": ("open_run", "write_report", "alert_after_run"),
    "auditor.reports.outline:RunOutline": ("load",),  # pages read in full, a batch at a time
    "auditor.reports.pieces:Cache": ("pieces",),  # stored pieces read, or rendered and stored
    "auditor.reports.run_report": (
        "section",  # the pages' sections filled in for the run
        "render_part",  # the details pages
        "write_pieces",  # index.html
    ),
    "auditor.reports.findings_files:FindingsWriter": ("add",),  # findings.json, .csv, .jsonl
    "auditor.reports.findings_files:ActionPlans": ("add",),
}  # the rest of write_report: the digests


def rss() -> str:
    """This process's resident memory now and at its peak."""
    with open("/proc/self/status", encoding="ascii") as status:
        fields = dict(line.split(":", 1) for line in status)
    now, peak = (int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))
    return f"RSS {now:.0f} MB (peak {peak:.0f} MB)"


def timed(module: Any, name: str, spent: dict[str, float], owner: str = "") -> None:
    """Replace ``module.name`` (a function, or a class's method) by a wrapper adding its
    wall time to ``spent[name]`` (``owner.name`` for a method)."""
    original: Callable[..., Any] = getattr(module, name)
    key = f"{owner}.{name}" if owner else name

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[key] = spent.get(key, 0.0) + time.perf_counter() - start

    setattr(module, name, wrapper)


def main() -> None:
    """Set up, run once, then measure the unchanged second run's phases."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=500, help="pages (500)")
    pages = parser.parse_args().pages
    with tempfile.TemporaryDirectory(prefix="auditor-bench-reuse-") as tmp:
        folder = Path(tmp)
        district = District(pages, 50, 50, datetime.now(UTC))
        write_exports(district, folder / "exports")
        ids = [district.group(i).slug for i in range(pages)]
        connector = {"type": "file", "path": str(folder / "exports")}
        config = write_config(folder, district, connector, ids, 16)
        del district, ids
        run = [sys.executable, "-m", "auditor", "run", "-c", str(config), "-o", tmp + "/r1"]
        start = time.perf_counter()
        subprocess.run(run, cwd=folder, env=child_environment(), capture_output=True)
        took = time.perf_counter() - start
        print(f"{pages} pages; run 1 (`auditor run`): {took:.1f} s", flush=True)
        measure_second(config, folder)


def measure_second(config: Path, folder: Path) -> None:
    """The second run in this process, phase by phase."""
    import importlib

    from auditor.db.engine import make_engine
    from auditor.jobs import _report_and_alert
    from auditor.loading import load_config
    from auditor.runner import Runner

    spent: dict[str, float] = {}
    for where, names in TIMED.items():
        module, _, owner = where.partition(":")
        target = importlib.import_module(module)
        for name in names:
            timed(getattr(target, owner) if owner else target, name, spent, owner)
    print(f"imports: {rss()}")
    start = time.perf_counter()
    loaded = load_config(config)
    engine = make_engine(loaded.database.url)
    print(f"config loaded: {time.perf_counter() - start:.2f} s; {rss()}")
    start = time.perf_counter()
    summary = asyncio.run(Runner(loaded, engine).run(loaded.pages))
    took = time.perf_counter() - start
    print(f"run 2 pages: {took:.2f} s, {summary.reused} of {summary.pages} re-used; {rss()}")
    logging.basicConfig(format="%(message)s", level=logging.WARNING)
    logging.getLogger("auditor.reports.pieces").setLevel(logging.INFO)  # pieces re-used
    start, cpu = time.perf_counter(), time.process_time()
    _report_and_alert(loaded, engine, summary, folder / "r2")
    took, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"run 2 report and alerts: {took:.2f} s (CPU {cpu:.2f} s); {rss()}")
    for name, seconds in spent.items():
        print(f"  {name}: {seconds:.2f} s")


if __name__ == "__main__":
    main()
