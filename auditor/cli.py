"""The ``auditor`` command line (reference: README.md, "Command line").

Errors a user can fix are printed as one line and mapped to the documented exit codes;
tracebacks are for bugs only (and shown with ``--log-level debug``).
"""

from __future__ import annotations

import asyncio
import atexit
import gc
import getpass
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from auditor import __version__
from auditor.config import Config
from auditor.db.engine import close_all, make_engine
from auditor.errors import AuditorError, ConfigError, ExitCode
from auditor.loading import load_config
from auditor.logs import LogFormat, setup_logging
from auditor.memory import limit_malloc_arenas
from auditor.reports.environment import strip_bidi
from auditor.results import RuleInfo
from auditor.rulebook import prepare_database

if TYPE_CHECKING:  # a run's machinery is imported by the commands that run one
    from auditor.jobs import AuditJob
    from auditor.runner import PageOutcome, ProgressFn, RunSummary

app = typer.Typer(
    help="Audit district-sponsored club and team pages against Policy 4-303.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help text is plain: "[schedule]" in a docstring stays as written
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")
attest_app = typer.Typer(
    help="Attestations: pages on platforms with no API (Facebook groups).", no_args_is_help=True
)
app.add_typer(attest_app, name="attest")
plan_app = typer.Typer(
    help="Action plans: supervisors' planned fixes, read back from their CSV.",
    no_args_is_help=True,
)
app.add_typer(plan_app, name="plan")
corpus_app = typer.Typer(
    help="The labelled corpus: people's word on findings, for retraining.", no_args_is_help=True
)
app.add_typer(corpus_app, name="corpus")

out = Console(soft_wrap=True)  # one-line messages stay one line when piped
err = Console(stderr=True, soft_wrap=True)
log = logging.getLogger("auditor")
T = TypeVar("T")

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="The district's config.toml.")]
LogLevelOpt = Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")]
LogFormatOpt = Annotated[str, typer.Option("--log-format", help="plain or json (log collectors).")]
ByOpt = Annotated[
    str | None,
    typer.Option("--by", help="Who decided (default: the OS user), when IT acts for someone."),
]
# The finding a person judges (auditor dismiss / confirm): run, page, rule and post.
PageArg = Annotated[str, typer.Argument(help="The registered page's id.")]
RuleArg = Annotated[str, typer.Argument(help="The rule's id, e.g. DS3.respectful-speech.")]
PostArg = Annotated[str, typer.Argument(help="The post's id, as the finding's evidence names it.")]


def _guard(action: Callable[[], T]) -> T:
    """Run ``action``; turn known errors into one line on stderr and their exit code."""
    try:
        return action()
    except AuditorError as exc:
        for line in str(exc).splitlines():
            err.print(f"[bold red]error:[/] {_text(line)}", highlight=False, markup=True)
        raise typer.Exit(exc.exit_code) from None
    except OSError as exc:  # a file or folder the command could not write or read
        where = f"{exc.filename}: " if exc.filename else ""
        err.print(
            f"[bold red]error:[/] {_text(where)}{_text(exc.strerror or str(exc))}",
            highlight=False,
        )
        raise typer.Exit(ExitCode.USAGE) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None


def _setup(level: str, fmt: str) -> None:
    if level.lower() not in ("debug", "info", "warning", "error"):
        raise typer.BadParameter("use debug, info, warning or error", param_hint="--log-level")
    if fmt not in ("plain", "json"):
        raise typer.BadParameter("use plain or json", param_hint="--log-format")
    fmt_checked: LogFormat = "json" if fmt == "json" else "plain"
    setup_logging(level, fmt_checked)


def _text(value: str) -> str:
    """Text from a platform, server or config, printed as written: rich markup escaped and
    bidirectional controls removed (they would reorder what is printed beside them)."""
    return escape(strip_bidi(value))


def _raise(exc: Exception) -> None:
    raise exc


def _load(path: Path) -> Config:
    return _guard(lambda: load_config(path))


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Show the version and exit.")] = False,
) -> None:
    if version:
        out.print(f"page-auditor {__version__}")
        raise typer.Exit(0)


@app.command("check-config")
def check_config(
    config: ConfigOpt,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="An unset *_env variable is an error, not a warning."),
    ] = False,
    connect: Annotated[
        bool,
        typer.Option("--connect", help="Also try each connector's credentials and the SMTP login."),
    ] = False,
    log_level: LogLevelOpt = "warning",
    log_format: LogFormatOpt = "plain",
) -> None:
    """Validate a config file (and the files it names) without fetching anything, and name
    each *_env variable that is not set in this environment."""
    from auditor.loading import unset_secrets

    _setup(log_level, log_format)
    cfg = _load(config)
    unset = unset_secrets(cfg)
    if unset and strict:
        _guard(lambda: _raise(ConfigError(unset)))
    for line in unset:
        err.print(f"[yellow]warning:[/] {_text(line)}", highlight=False)
    if connect:
        from auditor.connections import check_connections

        failed = 0
        for check in check_connections(cfg):
            mark = "ok" if check.ok else "[red]FAILED[/]"
            out.print(f"{_text(check.what)}: {mark}: {_text(check.detail)}", highlight=False)
            failed += not check.ok
        if failed:
            raise typer.Exit(ExitCode.INCOMPLETE)
    out.print(
        f"{config}: OK — {len(cfg.pages)} page(s), {len(cfg.connectors)} connector(s), "
        f"{len(cfg.waivers)} waiver(s)",
        highlight=False,
    )


@app.command("run")
def run(
    config: ConfigOpt,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Report folder (default reports.output_dir)."),
    ] = None,
    page: Annotated[
        list[str] | None, typer.Option("--page", "-p", help="Audit only this page id (repeatable).")
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Fetch every page in full, ignoring what incremental connectors kept of "
            "the last run (they also do so every full_refresh_days).",
        ),
    ] = False,
    log_level: LogLevelOpt = "info",
    log_format: LogFormatOpt = "plain",
) -> None:
    """Audit the registered pages, store the results and write the run report."""
    _setup(log_level, log_format)
    cfg = _load(config)
    folder = output or cfg.reports.output_dir
    code = _guard(lambda: _run_and_report(cfg, folder, page or [], full=full))
    raise typer.Exit(code)


@app.command("demo")
def demo(
    output: Annotated[Path, typer.Option("--output", "-o", help="Report folder.")] = Path(
        "audit-report"
    ),
    log_level: LogLevelOpt = "warning",
    log_format: LogFormatOpt = "plain",
) -> None:
    """Audit the bundled sample district on a throwaway SQLite database (exit codes as for
    run: 3, since one sample page is broken on purpose)."""
    from auditor.sample import SAMPLE_AS_OF, SAMPLE_CONFIG

    _setup(log_level, log_format)
    cfg = _load(SAMPLE_CONFIG)
    with tempfile.TemporaryDirectory(prefix="auditor-demo-") as tmp:
        cfg.database.url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        out.print(
            f"Auditing the sample district ({len(cfg.pages)} pages, data as of "
            f"{SAMPLE_AS_OF:%Y-%m-%d}) on a temporary database. One sample page (wms-art) "
            "is broken on purpose, to show how a page that cannot be audited looks.",
            highlight=False,
        )
        code = _guard(lambda: _run_and_report(cfg, output, [], trigger="demo"))
    raise typer.Exit(code)


def _run_and_report(
    cfg: Config,
    output: Path,
    page_ids: list[str],
    now: datetime | None = None,
    trigger: str = "cli",
    full: bool = False,
) -> int:
    from auditor.jobs import audit_report_alert

    engine = make_engine(cfg.database.url)
    try:
        chosen = dict.fromkeys(page_ids)  # a page given twice is audited once
        pages = [cfg.page(pid) for pid in chosen] if page_ids else list(cfg.pages)
    except KeyError as exc:
        raise AuditorError(f"--page {exc.args[0]}: no page with that id in {cfg.source}") from None

    def job(on_page: ProgressFn | None) -> AuditJob:
        with _terminate_as_interrupt():
            return asyncio.run(
                audit_report_alert(cfg, engine, pages, output, trigger, now, on_page, full)
            )

    done = _with_progress(job, len(pages))
    _print_summary(done.summary)
    if done.report is None:
        raise AuditorError(f"the report could not be written to {output}: {done.report_error}")
    out.print(f"Report: {_text(str(done.report.resolve()))}", highlight=False, soft_wrap=True)
    if done.summary.errors:
        return ExitCode.INCOMPLETE
    return ExitCode.FAILURES if done.summary.failing else ExitCode.OK


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """While an audit runs, SIGTERM (a service manager or ``kill`` stopping it) stops it as
    Ctrl-C does: the run is marked interrupted, its finished pages are kept, its lock and
    rule workers released. Without this it ended at once, the run left "running" until
    the next run found it."""
    previous = signal.signal(signal.SIGTERM, lambda *_: signal.raise_signal(signal.SIGINT))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _with_progress(job: Callable[[ProgressFn | None], AuditJob], total: int) -> AuditJob:
    """Run ``job`` with a progress bar on a terminal, plain log lines otherwise."""
    if not err.is_terminal or not total:

        def plain(outcome: PageOutcome) -> None:
            if outcome.error:
                return  # the runner already logged it
            fails = len(outcome.failing_rules)
            log.info("page %s audited: %d failing rule(s)", outcome.page.id, fails)

        return job(plain)
    with Progress(
        TextColumn("Auditing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("pages", total=total)
        return job(lambda _: progress.advance(task))


def _print_summary(summary: RunSummary) -> None:
    table = Table(title=f"Run {summary.run_id}: {summary.status}", title_justify="left")
    table.add_column("Pages", justify="right")
    table.add_column("Audited", justify="right")
    table.add_column("With failures", justify="right")
    table.add_column("Could not be audited", justify="right")
    table.add_column("Unchanged, not evaluated again", justify="right")
    table.add_column("API requests", justify="right")
    audited = summary.pages - len(summary.errors)
    per_page = f" ({summary.requests / summary.pages:.1f} a page)" if summary.pages else ""
    table.add_row(
        str(summary.pages),
        str(audited),
        str(len(summary.failing)),
        str(len(summary.errors)),
        str(summary.reused),
        f"{summary.requests}{per_page}",
    )
    out.print(table)
    if summary.failing_by_rule:
        rules = Table("Rule", "Failing pages", title="Failures by rule", title_justify="left")
        for rule, n in sorted(summary.failing_by_rule.items(), key=lambda kv: (-kv[1], kv[0])):
            rules.add_row(Text(rule), str(n))
        out.print(rules)
    for e in summary.errors:
        out.print(f"[red]not audited[/] {_text(e.page_id)}: {_text(e.error)}", highlight=False)


@app.command("report")
def report(
    config: ConfigOpt,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Report folder (default reports.output_dir)."),
    ] = None,
    run_id: Annotated[
        int | None, typer.Option("--run", help="Run id (default: the newest run).")
    ] = None,
    log_level: LogLevelOpt = "warning",
    log_format: LogFormatOpt = "plain",
) -> None:
    """Re-render the report of a past run from the database."""
    from auditor.reports.outline import open_run
    from auditor.reports.run_report import write_report
    from auditor.reports.view import RunNotFoundError

    _setup(log_level, log_format)
    cfg = _load(config)

    def action() -> Path:
        engine = make_engine(cfg.database.url)
        prepare_database(engine, cfg.rules)
        try:
            view = open_run(engine, run_id)
        except RunNotFoundError as exc:
            raise AuditorError(f"{cfg.database.url}: {exc}") from None
        return write_report(view, output or cfg.reports.output_dir, cfg)

    index = _guard(action)
    out.print(f"Report: {_text(str(index.resolve()))}", highlight=False, soft_wrap=True)


@db_app.command("upgrade")
def db_upgrade(
    config: ConfigOpt,
    log_level: LogLevelOpt = "warning",
    log_format: LogFormatOpt = "plain",
) -> None:
    """Create or migrate the database schema to the newest revision."""
    _setup(log_level, log_format)
    cfg = _load(config)
    before, after = _guard(lambda: prepare_database(make_engine(cfg.database.url), cfg.rules))
    if before == after:
        out.print(f"database already at revision {after}")
    else:
        out.print(f"database upgraded from {before or 'empty'} to revision {after}")


@app.command("digest")
def digest(
    config: ConfigOpt,
    run_id: Annotated[
        int | None, typer.Option("--run", help="Run id (default: the newest finished run).")
    ] = None,
    send: Annotated[bool, typer.Option("--send", help="Email them (default: preview).")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="With --send: send again what was already sent.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also write each email as DIR/*.eml.")
    ] = None,
    overdue: Annotated[
        bool,
        typer.Option(
            "--overdue",
            help="Instead: each school's list of overdue items, for the addresses in its "
            "[schools] escalate_to (the scheduler sends it weekly).",
        ),
    ] = False,
    log_level: LogLevelOpt = "info",
    log_format: LogFormatOpt = "plain",
) -> None:
    """Build each supervisor's digest and the IT summary of a run; with --send, email them
    (each once per run: the delivery log skips what was sent; exit 5 if any failed)."""
    from auditor.email.digests import digest_run, preview, send_digests, write_preview
    from auditor.email.escalation import escalation_mails, send_escalations

    _setup(log_level, log_format)
    if force and not send:
        raise typer.BadParameter("only makes sense with --send", param_hint="--force")
    cfg = _load(config)

    def action() -> int:
        engine = make_engine(cfg.database.url)
        prepare_database(engine, cfg.rules)
        view = digest_run(engine, run_id)
        if not send:
            mails = escalation_mails(view, cfg) if overdue else preview(view, cfg)
            table = Table("Kind", "To", "Subject", title=f"Run {view.id}: would send")
            for mail in mails:
                table.add_row(Text(mail.kind), Text(mail.recipient), Text(strip_bidi(mail.subject)))
            out.print(table)
            for path in write_preview(mails, cfg, output) if output else []:
                out.print(f"wrote {_text(str(path))}", highlight=False)
            return ExitCode.OK
        deliver_all = send_escalations if overdue else send_digests
        outcomes = deliver_all(engine, cfg, view, force=force)
        table = Table("Kind", "To", "Outcome", "Detail", title=f"Run {view.id}: delivery")
        for o in outcomes:
            detail = o.error or o.message_id or ""  # an SMTP server's words: never markup
            table.add_row(Text(o.kind), Text(o.recipient), Text(o.status), Text(detail))
        out.print(table)
        failed = any(o.status == "failed" for o in outcomes)
        return ExitCode.UNDELIVERED if failed else ExitCode.OK

    raise typer.Exit(_guard(action))


@app.command("schedule")
def schedule(
    config: ConfigOpt,
    log_level: LogLevelOpt = "info",
    log_format: LogFormatOpt = "plain",
) -> None:
    """Run the audit and send the digests on the [schedule] cron strings until SIGTERM.
    It starts only when every *_env variable the config names is set (check-config --strict),
    so that a missing secret shows at start-up, not at 2 a.m."""
    from auditor.loading import unset_secrets
    from auditor.scheduler import AuditScheduler

    _setup(log_level, log_format)
    cfg = _load(config)

    def action() -> None:
        unset = unset_secrets(cfg)
        if unset:
            raise ConfigError(unset)
        scheduler = AuditScheduler(cfg, make_engine(cfg.database.url))
        asyncio.run(scheduler.serve())

    _guard(action)


@app.command("discover")
def discover(
    config: ConfigOpt,
    log_level: LogLevelOpt = "warning",
    log_format: LogFormatOpt = "plain",
) -> None:
    """List groups the connectors can see that are not registered as pages (DS 1).

    A table on a terminal; piped, one tab-separated line per group (connector, platform,
    external id, name, URL). Exit status 0, or 3 when a connector could not list its groups.
    """
    from auditor.discovery import find_unregistered

    _setup(log_level, log_format)
    cfg = _load(config)
    found = _guard(lambda: asyncio.run(find_unregistered(cfg)))
    table = Table(
        "Connector", "Platform", "External id", "Name", "URL",
        title="Groups not registered as pages (DS 1: set up without approval?)",
        title_justify="left",
    )  # fmt: skip
    rows = [
        (i.connector, i.platform, i.group.external_id, i.group.name, i.group.url or "")
        for i in found.unregistered
    ]
    for cells in rows:
        table.add_row(*(Text(strip_bidi(c)) for c in cells))  # platform text is never rich markup
    if not found.searched:
        out.print("No configured connector can list its groups.")
    elif rows and not out.is_terminal:  # piped: one tab-separated line per group
        for cells in rows:
            out.out("\t".join(c.replace("\t", " ") for c in cells), highlight=False)
    elif rows:
        out.print(table)
    else:
        out.print(f"Every group visible to {', '.join(found.searched)} is registered.")
    for line in found.errors:
        err.print(f"[bold red]error:[/] {_text(line)}", highlight=False, markup=True)
    raise typer.Exit(ExitCode.INCOMPLETE if found.errors else ExitCode.OK)


@app.command("init")
def init(
    folder: Annotated[Path, typer.Argument(help="Where to write them.")] = Path("."),
) -> None:
    """Write a commented starter config.toml, an empty pages.csv and an exports/ folder."""
    from auditor.starter import write_starter

    written = _guard(lambda: write_starter(folder))
    for path in written:
        out.print(f"wrote {_text(str(path))}", highlight=False)
    out.print(
        f"Next: register your pages in {_text(str(written[1]))}, then "
        f"auditor check-config --config {_text(str(written[0]))}",
        highlight=False,
    )


@app.command("purge")
def purge(
    config: ConfigOpt,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be removed; remove nothing.")
    ] = False,
    log_level: LogLevelOpt = "warning",
    log_format: LogFormatOpt = "plain",
) -> None:
    """Remove the evidence of runs older than [retention] keep_runs_days (counts stay)."""
    from auditor.jobs import purge_old_runs

    _setup(log_level, log_format)
    cfg = _load(config)

    def act() -> tuple[int, int]:
        engine = make_engine(cfg.database.url)
        prepare_database(engine, cfg.rules)
        return purge_old_runs(cfg, engine, dry_run=dry_run)

    runs, results = _guard(act)
    verb = "would remove" if dry_run else "removed"
    days = cfg.retention.keep_runs_days
    out.print(
        f"{verb} the evidence of {runs} run(s) ({results} results) older than {days} days; "
        "their counts are kept",
        highlight=False,
    )


@app.command("check-snapshot")
def check_snapshot(
    files: Annotated[list[Path], typer.Argument(help="page-snapshot/1 JSON files.")],
) -> None:
    """Check snapshot files against the page-snapshot/1 format, one line per file."""
    from auditor.connectors.base import ConnectorError
    from auditor.connectors.file import parse_snapshot_file

    bad = 0
    for path in files:
        try:
            snapshot = parse_snapshot_file(path, path.read_bytes())
        except OSError as exc:
            err.print(f"{_text(str(path))}: cannot read: {_text(exc.strerror or str(exc))}")
        except ConnectorError as exc:
            err.print(f"{_text(str(path.parent / str(exc)))}")
        else:
            members, posts = snapshot.members, snapshot.posts
            found = f"{len(members)} member(s)" if members is not None else "no member list"
            found += f", {len(posts)} post(s)" if posts is not None else ", no posts"
            out.print(
                f"{_text(str(path))}: ok ({_text(snapshot.platform)} "
                f"{_text(snapshot.external_id)}, {found})",
                highlight=False,
            )
            continue
        bad += 1
    if bad:
        raise typer.Exit(ExitCode.USAGE)


@app.command("rules")
def rules(
    rule_id: Annotated[
        str | None, typer.Argument(help="Show this rule in full (e.g. DS2.closed).")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="Show severities after this config's overrides."),
    ] = None,
) -> None:
    """List the rule catalog, or show one rule in full: clause, rationale and fixes."""
    from auditor.config import RulesConfig
    from auditor.rulebook import rule_metadata

    infos = rule_metadata(_load(config).rules if config else RulesConfig())
    if rule_id is not None:
        if rule_id not in infos:
            err.print(f"error: no rule {_text(rule_id)!s} (`auditor rules` lists them)")
            raise typer.Exit(ExitCode.USAGE)
        _print_rule(infos[rule_id])
        return
    rows = [(r.id, r.severity.value, r.clause, r.title) for r in infos.values()]
    if not out.is_terminal:  # piped: one tab-separated line per rule, never wrapped
        for row in rows:
            typer.echo("\t".join(row))  # rich would expand the tabs
        return
    table = Table("Id", "Severity", "Clause", "Title", title="Rules (Policy 4-303)")
    for row in rows:
        table.add_row(*(_text(cell) for cell in row))
    out.print(table)


def _print_rule(info: RuleInfo) -> None:
    """One rule in full, as plain text (every value escaped: nothing in brackets is lost)."""
    out.print(f"[bold]{_text(info.id)}[/]: {_text(info.title)}", highlight=False)
    out.print(f"Severity: {info.severity.value}", highlight=False)
    out.print(f"Clause ({_text(info.clause)}): “{_text(info.clause_text)}”", highlight=False)
    out.print(f"Why: {_text(info.rationale)}", highlight=False)
    out.print(f"How to fix: {_text(info.remediation)}", highlight=False)
    for platform, steps in sorted(info.steps.items()):
        out.print(f"  on {_text(platform)}: {_text(steps)}", highlight=False)


@app.command("connectors")
def connectors(
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Say which rules fall back to the general fix steps on each platform.",
        ),
    ] = False,
) -> None:
    """List installed connectors and the settings each accepts."""
    from auditor.connectors.registry import available_connectors
    from auditor.rules import catalog

    installed = available_connectors()
    if check:
        ids = catalog.rule_ids()
        for type_name, cls in installed.items():
            if cls.platform is None:
                out.print(
                    f"{_text(type_name)}: reads snapshots of any platform; the steps come "
                    "from that platform's connector"
                )
                continue
            unknown = sorted(set(cls.remediation) - set(ids))
            general = [rule_id for rule_id in ids if rule_id not in cls.remediation]
            line = f"{_text(type_name)}: {len(ids) - len(general)} of {len(ids)} rules have "
            line += f"{_text(cls.platform)} steps"
            if general:
                line += "; general steps for " + ", ".join(general)
            out.print(line, highlight=False, soft_wrap=True)
            if unknown:
                err.print(f"error: {_text(type_name)}: steps for unknown rules: {unknown}")
                raise typer.Exit(ExitCode.USAGE)
        return
    for type_name, cls in installed.items():
        out.print(f"[bold]{_text(type_name)}[/] — {_text(cls.summary)}", highlight=False)
        table = Table("Setting", "Type", "Default", "Description", show_edge=False)
        for name, field in cls.Settings.model_fields.items():
            default = "(required)" if field.is_required() else repr(field.default)
            annotation = getattr(field.annotation, "__name__", str(field.annotation))
            table.add_row(
                _text(name), _text(annotation), _text(default), _text(field.description or "")
            )
        out.print(table)


@attest_app.command("new")
def attest_new(
    page_id: Annotated[str, typer.Argument(help="The registered page's id.")],
    config: ConfigOpt,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a pre-filled attestation template for a page, for its group admin to complete."""
    from auditor.connectors.base import ConnectorError
    from auditor.connectors.facebook import (
        FacebookConnector,
        attestation_path,
        attestation_template,
    )
    from auditor.loading import connector_settings

    cfg = _load(config)

    def write() -> Path:
        try:
            page = cfg.page(page_id)
        except KeyError:
            raise AuditorError(f"{cfg.source}: no page with id {page_id!r}") from None
        conn = next(c for c in cfg.connectors if c.name == page.connector)
        if conn.type != FacebookConnector.type:
            raise AuditorError(
                f"page {page_id!r} uses the {conn.type} connector {conn.name!r}; attestations "
                f"are for pages of a {FacebookConnector.type} connector"
            )
        settings = connector_settings(cfg, conn)
        try:
            path = attestation_path(settings.folder, page.external_id)
        except ConnectorError as exc:
            raise AuditorError(str(exc)) from None
        if path.exists() and not force:
            raise AuditorError(f"{path}: already exists (--force replaces it)")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(attestation_template(page), encoding="utf-8")
        return path

    path = _guard(write)
    out.print(f"Wrote {_text(str(path))}: the group's admin fills in every blank.")


@plan_app.command("import")
def plan_import(
    file: Annotated[Path, typer.Argument(help="An action-plan CSV filled in by a supervisor.")],
    config: ConfigOpt,
    by: ByOpt = None,
    log_level: LogLevelOpt = "warning",
    log_format: LogFormatOpt = "plain",
) -> None:
    """Store the planned fix date, person responsible (fixed_by) and note (reason) of each
    filled-in row; the next report and digest show them."""
    from auditor.db.store import save_plans, sync_registry
    from auditor.feedback import judge_plan
    from auditor.plans import read_plans
    from auditor.rules.catalog import rule_ids

    _setup(log_level, log_format)
    cfg = _load(config)

    def action() -> tuple[int, int]:
        read = read_plans(file, {p.id for p in cfg.pages}, set(rule_ids()))
        engine = make_engine(cfg.database.url)
        prepare_database(engine, cfg.rules)
        sync_registry(engine, cfg)  # plans may name pages registered since the last run
        who = by or _os_user()
        judged = judge_plan(engine, file.name, read.decisions, who, datetime.now(UTC))
        return save_plans(engine, read.plans, file.name), judged

    count, judged = _guard(action)
    out.print(f"Imported {count} plan(s) from {_text(str(file))}", highlight=False)
    if judged:
        out.print(f"Recorded the word of the file's rows on {judged} post finding(s)")


def _os_user() -> str:
    """Who runs this command, as the operating system knows them."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _judge(
    config: Path, run: int, page: str, rule: str, post: str, dismissed: bool, reason: str, by: str
) -> None:
    """Record one person's word on a run's finding on one post, or print why not."""
    from auditor.feedback import Judgement, judge
    from auditor.rules.catalog import rule_ids

    cfg = _load(config)

    def action() -> int:
        if rule not in rule_ids():
            raise AuditorError(f"no rule has id {rule!r} (auditor rules lists them)")
        engine = make_engine(cfg.database.url)
        prepare_database(engine, cfg.rules)
        said = Judgement(run, page, rule, post, dismissed, reason, by)
        return judge(engine, said, datetime.now(UTC))

    _guard(action)
    what = "dismissed as not a violation" if dismissed else "confirmed as a violation"
    out.print(
        f"Post {_text(post)} on page {_text(page)}: {rule} {what} by {_text(by)}", highlight=False
    )


@app.command("dismiss")
def dismiss(
    run: Annotated[int, typer.Argument(help="The run whose finding is dismissed.")],
    page: PageArg,
    rule: RuleArg,
    post: PostArg,
    config: ConfigOpt,
    reason: Annotated[str, typer.Option("--reason", help="Why the post is not a violation.")] = "",
    by: ByOpt = None,
    undo: Annotated[
        bool, typer.Option("--undo", help="Forget what was said about this post and rule.")
    ] = False,
) -> None:
    """Record that a post is not a violation of a rule: it is not reported for that rule
    again until its text changes."""
    if undo:
        from auditor.db.feedback import remove

        cfg = _load(config)

        def forget() -> bool:
            engine = make_engine(cfg.database.url)
            prepare_database(engine, cfg.rules)
            return remove(engine, page, rule, post)

        if not _guard(forget):
            err.print(f"error: nothing was recorded for post {_text(post)} and {_text(rule)}")
            raise typer.Exit(ExitCode.USAGE)
        out.print(f"Post {_text(post)} on page {_text(page)}: {rule} judged again from now on")
        return
    if not reason.strip():
        raise typer.BadParameter("say why the post is not a violation", param_hint="--reason")
    _judge(config, run, page, rule, post, True, reason.strip(), by or _os_user())


@app.command("confirm")
def confirm(
    run: Annotated[int, typer.Argument(help="The run whose finding is confirmed.")],
    page: PageArg,
    rule: RuleArg,
    post: PostArg,
    config: ConfigOpt,
    reason: Annotated[str, typer.Option("--reason", help="A note (optional).")] = "",
    by: ByOpt = None,
) -> None:
    """Record that a post's finding is a true violation (a positive example for
    auditor corpus export); it is reported as before."""
    _judge(config, run, page, rule, post, False, reason.strip(), by or _os_user())


@app.command("dismissals")
def dismissals(
    config: ConfigOpt,
    every: Annotated[
        bool, typer.Option("--all", help="Confirmed findings too, not only dismissals.")
    ] = False,
) -> None:
    """List the posts dismissed as not a violation: who, when, why, and for which text."""
    from auditor.db.feedback import DISMISSED, all_feedback
    from auditor.db.models import PostFeedback

    cfg = _load(config)

    def rows() -> list[PostFeedback]:
        engine = make_engine(cfg.database.url)
        prepare_database(engine, cfg.rules)
        return all_feedback(engine, None if every else DISMISSED)

    found = _guard(rows)
    if not found:
        out.print("Nothing recorded.")
        return
    for row in found:  # one line each: IT greps and pipes them
        out.print(
            f"{_text(row.page_id)} {row.rule_id} post {_text(row.post_id)}: {row.decision} by "
            f"{_text(row.decided_by)} on {row.decided_at.date().isoformat()} (run {row.run_id}, "
            f"{_text(row.source)}): {_text(row.reason)} — {_text(row.excerpt)}",
            highlight=False,
        )


@corpus_app.command("export")
def corpus_export(
    config: ConfigOpt,
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="The JSON Lines file (default: stdout).")
    ] = None,
) -> None:
    """Write dismissals (negatives) and confirmed findings (positives) as labelled
    examples in the corpus format of tests/corpus/README.md, student data masked."""
    from auditor.corpus_export import ExportCount, export
    from auditor.private import FILE_MODE

    cfg = _load(config)
    domains = cfg.district.student_email_domains

    def action() -> ExportCount:
        engine = make_engine(cfg.database.url)
        prepare_database(engine, cfg.rules)
        if out_file is None:
            return export(engine, sys.stdout, domains)
        out_file.unlink(missing_ok=True)  # created anew, readable by its owner only
        fd = os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with open(fd, "w", encoding="utf-8") as handle:
            return export(engine, handle, domains)

    count = _guard(action)
    err.print(
        f"{count.negatives} negative and {count.positives} positive example(s) written"
        + (
            f"; {count.left_out} confirmed finding(s) left out: their evidence names no category"
            if count.left_out
            else ""
        ),
        highlight=False,
    )


def main() -> None:
    """Console-script entry point (the allocator set before any thread starts). At exit the
    database connections are closed, then the heap is frozen before the interpreter's last
    garbage collection, which would otherwise walk every object a run left (0.2-0.3 s; the
    outputs are closed by then, and logging flushes its handlers after)."""
    limit_malloc_arenas()
    atexit.register(gc.freeze)  # runs after every handler registered later (LIFO)...
    atexit.register(close_all)  # ...such as this: connections closed, not left to the GC
    try:
        app()
    except BrokenPipeError:  # `auditor rules | head`
        sys.stderr.close()
