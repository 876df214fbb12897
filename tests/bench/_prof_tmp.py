"""End-to-end scale benchmark: ``auditor run`` twice over N generated pages, then
``auditor report``, against a loopback fake of the platform with a set latency.

The pages (``fake_platforms.District``: M members, P posts from the labelled corpus, one
in twenty breaking a content rule) are served by a fake of Microsoft Graph or of the
Google APIs on 127.0.0.1 (``fake_platforms.FakeServer``), or written as page-snapshot
files for the ``file`` connector. A config in a temporary folder (SQLite database,
``pages.csv``, the connector pointed at the fake with ``max_concurrency`` set to the
concurrency, urgent alerts off) is run twice as it would be on two nights, the second run
over unchanged pages: ``python -m auditor run --config ... --output ...`` as a
subprocess, then ``python -m auditor report``. For each run it prints:

- wall time of ``auditor run``, split by its log lines (``--log-format json``) into
  start-up (until "run N started"), pages (until the last page is audited), discovery
  (the connector's group listing, which the run does after the pages), the rest of the
  run including its report, and process exit;
- requests the fake answered, by kind and per page (a Graph ``$batch`` shared by several
  pages counts once for each of them), the count the connector's request order predicts
  (shared batches taken as full: the fewest requests the reads fit in), the most in
  flight at once, and the connections the run opened;
- the bound: the larger of requests x latency / concurrency and the longest chain of
  dependent requests of a page x latency. Requests are counted per HTTP client of the
  connector, since each has its own ``max_concurrency`` request slots (the Google
  connector has two: Admin SDK and Gmail); the runner also fetches at most
  ``max_concurrency`` pages at a time. The chain is read from the connector's request
  order (``fake_platforms``: ``FakeGraph.page_cost`` and ``FakeGoogle.page_cost``);
  tokens, the tenant's settings and discovery are requests of the run, counted in the
  first term only. The ratio is wall time / bound; it includes start-up, rules, database
  writes and the report, which the bound leaves out;
- CPU time (``os.wait4``) and peak RSS (its ``VmHWM``, polled: a forked child's rusage
  also counts this process's memory at the fork) of the ``auditor run`` process, and the
  CPU time of this process (mostly the fake's threads: they share the machine with the
  run); the CPU floor, both CPU times over the cores this process may use: the least wall
  time they allow, so a run far above its network bound but near its CPU floor is
  CPU-bound, not waiting on requests;
- database size after the run (and its growth in the run, in kB), pages audited, pages
  where a content rule failed and pages the run did not evaluate again (their input
  unchanged: its last log line);
- wall time and peak RSS of ``auditor report``, and the largest file it wrote.

Nothing leaves 127.0.0.1: the fake listens there, and the subprocesses run without proxy
settings.

    python tests/bench/bench_e2e.py [--platform microsoft365|google-groups|file]
        [--pages N] [--members M] [--posts P] [--latency-ms MS] [--concurrency C]
        [--rule-workers W]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from fake_platforms import (
    ALLOWED_DOMAINS,
    GRAPH_BATCH,
    STAFF_DOMAIN,
    STUDENT_DOMAIN,
    District,
    Fake,
    FakeGoogle,
    FakeGraph,
    FakeServer,
    PageCost,
    Traffic,
)

FAKES: dict[str, Callable[[District], Fake]] = {
    "microsoft365": FakeGraph,
    "google-groups": FakeGoogle,
}
CONTENT_RULES = ("DS3.", "DS6.", "DS7.", "DS8.")
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")
RUN_OK = {0, 1, 3}
"""``auditor run`` exit codes that still mean a finished run: clean, failures, page errors."""
MB = 1e6
CORES = len(os.sched_getaffinity(0))  # the cores this benchmark and its runs may use


@dataclass
class Process:
    """A finished subprocess: exit code, wall time, CPU time and peak RSS."""

    code: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float


@dataclass
class Phases:
    """Seconds of ``auditor run`` between its log lines (None when a line is missing)."""

    startup: float | None
    pages: float | None
    discovery: float | None
    finish: float | None
    exit: float | None


@dataclass
class RunFigures:
    """Everything measured for one run and the report after it."""

    run: Process
    phases: Phases
    bench_cpu_s: float
    traffic: Traffic | None
    database_mb: float
    audited: int
    not_audited: int
    content_failing: int
    reused: int | None  # pages the run did not evaluate (their input was unchanged)
    report: Process
    largest: tuple[str, float]
    report_files: tuple[int, float]


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument(
        "--platform",
        choices=[*FAKES, "file"],
        default="microsoft365",
        help="the connector to run: against a fake of its platform, or on snapshot files",
    )
    parser.add_argument("--pages", type=int, default=500, help="pages (groups) (500)")
    parser.add_argument("--members", type=int, default=50, help="members per page (50)")
    parser.add_argument("--posts", type=int, default=50, help="posts per page (50)")
    parser.add_argument(
        "--latency-ms", type=float, default=50.0, help="the fake's answer time (50 ms)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=16, help="the connector's max_concurrency (16)"
    )
    parser.add_argument(
        "--rule-workers",
        type=int,
        default=None,
        help="[audit] rule_workers of the config (default: unset, the run decides)",
    )
    args = parser.parse_args()
    if min(args.pages, args.concurrency) < 1 or args.members < 2 or args.posts < 0:
        parser.error(
            "--pages and --concurrency must be positive, --members at least 2 (the owner and "
            "the supervisor), --posts at least 0"
        )
    return args


def main() -> None:
    """Set up the district, run the audit twice, print the table."""
    args = parse_args()
    district = District(args.pages, args.members, args.posts, datetime.now(UTC))
    load = os.getloadavg()[0]
    with (
        tempfile.TemporaryDirectory(prefix="auditor-bench-e2e-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        folder = Path(tmp)
        env = child_environment()
        server: FakeServer | None = None
        if args.platform == "file":
            exports = folder / "exports"
            connector: dict[str, Any] = {"type": "file", "path": str(exports)}
            ids = [district.group(i).slug for i in range(args.pages)]
            written = write_exports(district, exports)
            print(f"wrote {args.pages} snapshot files, {written / MB:.1f} MB", flush=True)
        else:
            fake = FAKES[args.platform](district)
            server = stack.enter_context(FakeServer(fake, args.latency_ms / 1000))
            connector = {"type": fake.platform, **fake.settings(server.origin)}
            ids = [fake.external_id(i) for i in range(args.pages)]
            env.update(fake.environment(folder))
        config = write_config(folder, district, connector, ids, args.concurrency, args.rule_workers)
        runs = []
        for number in range(1, int(os.environ.get("RUNS", "2")) + 1):
            print(f"run {number}...", flush=True)
            runs.append(measure(number, folder, config, env, server))
            print(progress_line(runs[-1]), flush=True)
            import shutil; shutil.copy(folder / f"run-{number}.log", f"/tmp/prof/run-{number}.log")
        print_header(args, load, server)
        print_table(runs[:2], args, server)


def child_environment() -> dict[str, str]:
    """This environment without proxy settings (so nothing is routed off 127.0.0.1)."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARIABLES}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def write_exports(district: District, folder: Path) -> int:
    """Each page as a page-snapshot file named after its external id; total bytes."""
    folder.mkdir()
    total = 0
    for index in range(district.pages):
        data = json.dumps(district.snapshot(index), ensure_ascii=False).encode()
        (folder / f"{district.group(index).slug}.json").write_bytes(data)
        total += len(data)
    return total


def toml_value(value: Any) -> str:
    """``value`` written as TOML (strings as basic strings, which JSON's escapes fit)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def write_config(
    folder: Path,
    district: District,
    connector: dict[str, Any],
    external_ids: list[str],
    concurrency: int,
    rule_workers: int | None = None,
) -> Path:
    """``config.toml`` and ``pages.csv`` for the generated district, in the corpus's
    district context (its domains, allowed sites and student id pattern)."""
    with (folder / "pages.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(district.page_row(0, "", "")))
        writer.writeheader()
        for index, external_id in enumerate(external_ids):
            writer.writerow(district.page_row(index, external_id, "bench"))
    sections: dict[str, dict[str, Any]] = {
        "district": {
            "name": "Benchmark District",
            "web_domains": [STAFF_DOMAIN],
            "staff_email_domains": [STAFF_DOMAIN],
            "student_email_domains": [STUDENT_DOMAIN],
            "timezone": "America/New_York",
        },
        "database": {"url": f"sqlite:///{folder / 'auditor.db'}"},
        "reports": {"output_dir": str(folder / "report")},
        "email": {"urgent_alerts": False},
        "rules": {"allowed_domains": list(ALLOWED_DOMAINS), "student_id_pattern": r"\b\d{6}\b"},
        "registry": {"pages_csv": "pages.csv"},
    }
    if rule_workers is not None:
        sections["audit"] = {"rule_workers": rule_workers}
    lines = []
    for name, keys in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in keys.items()]
        lines.append("")
    block = {"name": "bench", **connector, "max_concurrency": concurrency}
    lines.append("[[connectors]]")
    lines += [f"{key} = {toml_value(value)}" for key, value in block.items()]
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def growth(runs: list[RunFigures]) -> list[str]:
    """How much each run grew the database (the first from empty), in kB."""
    sizes = [0.0, *(r.database_mb for r in runs)]
    return [f"{(after - before) * MB / 1000:,.0f} kB" for before, after in pairwise(sizes)]


def run_process(args: list[str], folder: Path, name: str, env: dict[str, str]) -> Process:
    """Run ``python -m auditor ARGS`` in ``folder``; stdout and stderr go to ``name.out``
    and ``name.log`` there. Its CPU time comes from ``os.wait4`` on that one child, its
    peak RSS from its own ``VmHWM`` (:class:`PeakRss`)."""
    command = [sys.executable, "-m", "auditor", *args]
    if name == os.environ.get("PROF_NAME"):
        if os.environ.get("PROF_KIND") == "cprofile":
            command = [sys.executable, "-m", "cProfile", "-o", os.environ["PROF_OUT"], "-m", "auditor", *args]
        else:
            command = ["py-spy", "record", "-r", "200", "-f", "raw", "-o", os.environ["PROF_OUT"], "--subprocesses", "--threads", "--", *command]
    start = time.perf_counter()
    with (folder / f"{name}.out").open("wb") as out, (folder / f"{name}.log").open("wb") as err:
        child = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=folder)
        peak = PeakRss(child.pid)
        peak.start()
        _, status, _usage = os.wait4(child.pid, 0)
        peak.join()
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    return Process(child.returncode, wall, _usage.ru_utime + _usage.ru_stime, peak.mb)


class PeakRss(threading.Thread):
    """The most memory a child process held, read from its ``VmHWM`` until it exits: the
    rusage of a forked child also counts the memory of this process at the fork (the
    fake's answers, at 5,000 pages), which the child never used."""

    def __init__(self, pid: int) -> None:
        """Watch process ``pid``."""
        super().__init__(daemon=True)
        self.path = Path(f"/proc/{pid}/status")
        self.mb = 0.0

    def run(self) -> None:
        """Poll every 20 ms while the process has memory (a zombie has none)."""
        while True:
            try:
                text = self.path.read_text()
            except OSError:
                return
            found = re.search(r"^VmHWM:\s+(\d+) kB", text, re.M)
            if found is None:
                return
            self.mb = max(self.mb, int(found[1]) * 1024 / MB)
            time.sleep(0.02)


def measure(
    number: int, folder: Path, config: Path, env: dict[str, str], server: FakeServer | None
) -> RunFigures:
    """Run ``auditor run`` then ``auditor report`` once, and collect the figures."""
    output = folder / f"run-{number}"
    args = ["run", "--config", str(config), "--output", str(output), "--log-format", "json"]
    bench_cpu = time.process_time()
    started = time.time()
    run = run_process(args, folder, f"run-{number}", env)
    bench_cpu = time.process_time() - bench_cpu
    if run.code not in RUN_OK:
        tail = (folder / f"run-{number}.log").read_text(errors="replace")[-3000:]
        raise SystemExit(f"auditor run exited {run.code}:\n{tail}")
    traffic = server.recorder.take() if server else None
    pages = findings_pages(output)
    audited = [p for p in pages if p["status"] == "audited"]
    content = sum(
        any(r["status"] == "fail" and r["rule"].startswith(CONTENT_RULES) for r in p["results"])
        for p in audited
    )
    report_out = folder / f"report-{number}"
    report = run_process(
        ["report", "--config", str(config), "--output", str(report_out)],
        folder,
        f"report-{number}",
        env,
    )
    if report.code != 0:
        raise SystemExit(f"auditor report exited {report.code}")
    files = [f for f in report_out.rglob("*") if f.is_file()]
    biggest = max(files, key=lambda f: f.stat().st_size)
    return RunFigures(
        run=run,
        phases=phases(folder / f"run-{number}.log", started, run.wall_s),
        bench_cpu_s=bench_cpu,
        traffic=traffic,
        database_mb=database_bytes(folder / "auditor.db") / MB,
        audited=len(audited),
        not_audited=len(pages) - len(audited),
        content_failing=content,
        reused=reused_pages(folder / f"run-{number}.log"),
        report=report,
        largest=(str(biggest.relative_to(report_out)), biggest.stat().st_size / MB),
        report_files=(len(files), sum(f.stat().st_size for f in files) / MB),
    )


def findings_pages(folder: Path) -> list[dict[str, Any]]:
    """The page records of a report's findings.json, whole or (above 1,000 pages) split
    into the part files its ``parts`` name."""
    head = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
    if "pages" in head:
        return list(head["pages"])
    return [
        page
        for part in head["parts"]
        for page in json.loads((folder / part["file"]).read_text(encoding="utf-8"))["pages"]
    ]


def database_bytes(path: Path) -> int:
    """The SQLite database's size, with its write-ahead log if one is left."""
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def reused_pages(log: Path) -> int | None:
    """The pages the run said it did not evaluate again ("run N finished: ... (R of N
    page(s) unchanged ..."), None when it did not say."""
    said = re.compile(r"run \d+ finished: \S+ \((\d+) of \d+ page")
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("{") and (found := said.match(json.loads(line).get("message", ""))):
            return int(found[1])
    return None


def phases(log: Path, started: float, wall: float) -> Phases:
    """Split the run's wall time at its JSON log lines: "run N started", the last "page
    ... audited", "discovery: ...", and "run N: report written"."""
    marks: dict[str, float] = {}
    patterns = {
        "started": re.compile(r"run \d+ started"),
        "page": re.compile(r"page \S+ (audited|could not be audited)"),
        "discovery": re.compile(r"discovery: "),
        "report": re.compile(r"run \d+: report written"),
    }
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        for name, pattern in patterns.items():
            if pattern.match(entry.get("message", "")):
                marks[name] = datetime.fromisoformat(entry["time"]).timestamp() - started

    def between(first: str | None, second: str | None) -> float | None:
        """Seconds from one mark to the next (process start and exit at the ends)."""
        a = 0.0 if first is None else marks.get(first)
        b = wall if second is None else marks.get(second)
        return None if a is None or b is None else b - a

    return Phases(
        startup=between(None, "started"),
        pages=between("started", "page"),
        discovery=between("page", "discovery"),
        finish=between("discovery" if "discovery" in marks else "page", "report"),
        exit=between("report", None),
    )


@dataclass
class Bound:
    """The bound of a run and its two terms, in seconds."""

    throughput_s: float
    chain_s: float
    busiest_client: str

    @property
    def seconds(self) -> float:
        """The larger term."""
        return max(self.throughput_s, self.chain_s)


def bound(fake: Fake, traffic: Traffic, latency_s: float, concurrency: int, run: int = 1) -> Bound:
    """requests x latency / concurrency (for the busiest client) vs the longest chain
    (of run ``run``: a second run over unchanged pages fetches incrementally)."""
    client = max(fake.clients, key=lambda c: traffic.clients[c])
    chain = max(fake.cost(i, run).chain for i in range(fake.district.pages))
    return Bound(traffic.clients[client] * latency_s / concurrency, chain * latency_s, client)


def print_header(args: argparse.Namespace, load: float, server: FakeServer | None) -> None:
    """What was measured, and on what machine."""
    where = f"loopback fake at {server.origin}" if server else "page-snapshot files"
    print()
    print(
        f"{args.platform} ({where}): {args.pages} pages x {args.members} members, "
        f"{args.posts} posts (1 in 20 breaks a content rule); concurrency {args.concurrency}"
        + (f"; latency {args.latency_ms:g} ms" if server else "")
        + ("" if args.rule_workers is None else f"; rule_workers {args.rule_workers}")
    )
    print(
        f"machine: {CORES} CPUs, load average {load:.1f} at start, niceness "
        f"{os.nice(0)}; Python {platform.python_version()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    if server:
        fake = server.fake
        costs = [fake.page_cost(i) for i in range(args.pages)]
        requests = expected_requests(costs)
        print(
            f"connector asks per page: {per_page_cost(costs)}, longest chain "
            f"{max(c.chain for c in costs)}; per run {fake.run_requests()} more "
            f"({fake.run_note}): {requests + fake.run_requests()} expected"
        )
        again = [fake.cost(i, 2) for i in range(args.pages)]
        print(
            f"on a second run over unchanged pages (incremental): {per_page_cost(again)}, "
            f"longest chain {max(c.chain for c in again)}"
        )


def expected_requests(costs: list[PageCost]) -> int:
    """The requests the pages' costs add up to: their own, and their shared reads in
    full batches of :data:`GRAPH_BATCH` (the fewest those reads can take)."""
    reads = sum(c.reads for c in costs)
    return sum(c.requests for c in costs) + math.ceil(reads / GRAPH_BATCH)


def per_page_cost(costs: list[PageCost]) -> str:
    """A page's mean requests of its own, and its reads in shared batches if any."""
    mean = sum(c.requests for c in costs) / len(costs)
    reads = sum(c.reads for c in costs) / len(costs)
    shared = f" and {reads:.1f} reads in shared $batch calls" if reads else ""
    return f"{mean:.1f} requests{shared}"


def progress_line(r: RunFigures) -> str:
    """A run's main figures on one line, printed as soon as it is done (a benchmark stopped
    before its table still shows them)."""
    requests = f", {r.traffic.requests} requests" if r.traffic else ""
    return (
        f"  auditor run {r.run.wall_s:.1f} s (pages {seconds(r.phases.pages)}){requests}, "
        f"peak RSS {r.run.peak_rss_mb:.0f} MB, database {r.database_mb:.1f} MB; auditor "
        f"report {r.report.wall_s:.1f} s, largest file {r.largest[0]} {r.largest[1]:.2f} MB"
    )


def seconds(value: float | None) -> str:
    """``12.3 s``, or a dash."""
    return "-" if value is None else f"{value:.1f} s"


def print_table(
    runs: list[RunFigures], args: argparse.Namespace, server: FakeServer | None
) -> None:
    """One row per figure, one column per run."""
    rows: list[tuple[str, list[str]]] = [
        ("wall time of `auditor run`", [seconds(r.run.wall_s) for r in runs]),
        ("  start-up (to 'run started')", [seconds(r.phases.startup) for r in runs]),
        ("  pages (to the last page audited)", [seconds(r.phases.pages) for r in runs]),
        ("  discovery (the connector lists groups)", [seconds(r.phases.discovery) for r in runs]),
        ("  then until the run's report is written", [seconds(r.phases.finish) for r in runs]),
        ("  process exit", [seconds(r.phases.exit) for r in runs]),
    ]
    if server:
        rows += traffic_rows(runs, args, server)
    rows += [
        ("CPU of `auditor run` (user+sys)", [seconds(r.run.cpu_s) for r in runs]),
        ("CPU of this process (the fake)", [seconds(r.bench_cpu_s) for r in runs]),
        (f"CPU floor: both CPUs / {CORES} cores", [seconds(cpu_floor(r)) for r in runs]),
        ("wall time / CPU floor", [ratio(r.run.wall_s, cpu_floor(r)) for r in runs]),
        ("peak RSS of `auditor run`", [f"{r.run.peak_rss_mb:.0f} MB" for r in runs]),
        ("database size after the run", [f"{r.database_mb:.1f} MB" for r in runs]),
        ("  growth in this run", growth(runs)),
        ("pages audited / not audited", [f"{r.audited} / {r.not_audited}" for r in runs]),
        ("pages failing a content rule", [str(r.content_failing) for r in runs]),
        ("  not evaluated (input unchanged)", [str(r.reused) for r in runs]),
        ("`auditor report`: wall time", [seconds(r.report.wall_s) for r in runs]),
        ("  peak RSS", [f"{r.report.peak_rss_mb:.0f} MB" for r in runs]),
        ("  largest file", [f"{r.largest[0]} {r.largest[1]:.2f} MB" for r in runs]),
        ("  files written", [f"{r.report_files[0]}, {r.report_files[1]:.1f} MB" for r in runs]),
    ]
    width = max(len(label) for label, _ in rows)
    cells = [max(len(v[i]) for _, v in rows) for i in range(len(runs))]
    cells = [max(c, 10) for c in cells]
    print()
    print(" " * width + "".join(f"  {f'run {i + 1}':>{c}}" for i, c in enumerate(cells)))
    for label, values in rows:
        print(
            f"{label:<{width}}" + "".join(f"  {v:>{c}}" for v, c in zip(values, cells, strict=True))
        )


def cpu_floor(figures: RunFigures) -> float:
    """The least wall time the run's CPU and the fake's allow on this machine's cores:
    when it is above the network bound, the run is CPU-bound, not waiting on requests."""
    return (figures.run.cpu_s + figures.bench_cpu_s) / CORES


def ratio(wall: float | None, floor: float) -> str:
    """``wall / floor`` to two places ("-" without both)."""
    return "-" if wall is None or floor <= 0 else f"{wall / floor:.2f}"


def per_page(traffic: Traffic) -> str:
    """Mean and largest number of requests the fake counted for one page."""
    counts = traffic.pages.values()
    return f"{sum(counts) / max(1, len(counts)):.1f} / {max(counts, default=0)}"


def traffic_rows(
    runs: list[RunFigures], args: argparse.Namespace, server: FakeServer
) -> list[tuple[str, list[str]]]:
    """Requests, by kind and per page, in flight, and the bound with the ratios."""
    traffic = [r.traffic for r in runs if r.traffic is not None]
    latency = args.latency_ms / 1000
    bounds = [
        bound(server.fake, t, latency, args.concurrency, run) for run, t in enumerate(traffic, 1)
    ]
    kinds = sorted({k for t in traffic for k in t.kinds}, key=lambda k: -traffic[0].kinds[k])
    fake = server.fake
    expected = [  # the second run, over unchanged pages, fetches incrementally
        expected_requests([fake.cost(i, run) for i in range(fake.district.pages)])
        + fake.run_requests()
        for run in range(1, len(traffic) + 1)
    ]
    rows = [
        ("requests", [str(t.requests) for t in traffic]),
        ("  expected from the connector's order", [str(n) for n in expected]),
    ]
    rows += [(f"  {kind}", [str(t.kinds[kind]) for t in traffic]) for kind in kinds]
    rows += [
        ("answers other than 200", [str(t.not_ok) for t in traffic]),
        ("requests per page (mean / max)", [per_page(t) for t in traffic]),
        ("most requests in flight at once", [str(t.peak_in_flight) for t in traffic]),
        ("connections opened", [str(t.connections) for t in traffic]),
        (
            "first request to last answer",
            [seconds(t.last - t.first if t.first and t.last else None) for t in traffic],
        ),
        (
            "  requests x latency / concurrency",
            [f"{b.throughput_s:.1f} s ({b.busiest_client})" for b in bounds],
        ),
        ("  longest chain x latency", [seconds(b.chain_s) for b in bounds]),
        ("bound (the larger)", [seconds(b.seconds) for b in bounds]),
        (
            "wall time / bound",
            [ratio(r.run.wall_s, b.seconds) for r, b in zip(runs, bounds, strict=True)],
        ),
        (
            "pages phase / bound",
            [ratio(r.phases.pages, b.seconds) for r, b in zip(runs, bounds, strict=True)],
        ),
    ]
    return rows


if __name__ == "__main__":
    main()
