"""Database tables (SQLAlchemy 2 typed ORM): pages, runs, page audits, results, waivers,
email deliveries, per-page sync state, what each page's results were evaluated from, and
the run lock. The schema is owned by the alembic migrations."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always returns timezone-aware datetimes (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""

    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class Page(Base):
    """A registered page, as last seen in the configuration."""

    __tablename__ = "pages"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    connector: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    school: Mapped[str] = mapped_column(String(300), default="")
    owner: Mapped[str] = mapped_column(String(320))
    supervisor: Mapped[str] = mapped_column(String(320))
    approved_by: Mapped[str | None] = mapped_column(String(320))
    approved_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime]  # when the registration above was last stored changed


class Run(Base):
    """One audit run; ``status`` is running, complete, incomplete or interrupted."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), index=True)
    district: Mapped[str] = mapped_column(String(300), default="")
    trigger: Mapped[str] = mapped_column(String(40), default="cli")
    holder: Mapped[str] = mapped_column(String(300), default="")
    pages_total: Mapped[int] = mapped_column(Integer, default=0)
    rules: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # RuleInfo by id
    purged_at: Mapped[datetime | None]  # evidence removed under [retention]; counts kept

    audits: Mapped[list[PageAudit]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="PageAudit.page_id"
    )


class PageAudit(Base):
    """One page in one run: audited (with results) or error (with a message)."""

    __tablename__ = "page_audits"
    __table_args__ = (
        UniqueConstraint("run_id", "page_id"),
        Index("ix_page_audits_page_run", "page_id", "run_id"),  # a page's audits over time
        Index("ix_page_audits_same_as", "same_as"),  # audits that share another's results
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Looked up by run through the (run_id, page_id) unique index.
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    page_id: Mapped[str] = mapped_column(ForeignKey("pages.id"))
    status: Mapped[str] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    platform: Mapped[str | None] = mapped_column(String(100))
    page_name: Mapped[str] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    requests: Mapped[int | None] = mapped_column(Integer)  # HTTP requests its fetch sent
    # Digest of where the page was read and its results (store.results_hash), on audits
    # that hold their own rows. An audit equal to its page's previous one stores no rows,
    # no hash and no platform, URL or source: ``same_as`` names the audit holding them
    # (read them through :func:`results_holder`).
    results_hash: Mapped[str | None] = mapped_column(String(64))
    same_as: Mapped[int | None] = mapped_column(Integer)

    run: Mapped[Run] = relationship(back_populates="audits")
    page: Mapped[Page] = relationship()
    # The rows this audit holds: none when ``same_as`` is set (join on results_holder).
    results: Mapped[list[Result]] = relationship(
        back_populates="audit", cascade="all, delete-orphan", order_by="Result.id"
    )


def results_holder(audit: type[PageAudit] | Any) -> Any:
    """SQL expression of the page_audit id whose rows hold ``audit``'s results (itself,
    unless its results were unchanged since an earlier audit: then that audit)."""
    return func.coalesce(audit.same_as, audit.id)


class Result(Base):
    """One rule's verdict on one page in one run; evidence is stored already masked."""

    __tablename__ = "results"
    __table_args__ = (
        Index("ix_results_rule_status", "rule_id", "status"),
        Index("ix_results_audit_rule", "page_audit_id", "rule_id"),  # history of a page+rule
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    page_audit_id: Mapped[int] = mapped_column(ForeignKey("page_audits.id", ondelete="CASCADE"))
    rule_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    audit: Mapped[PageAudit] = relationship(back_populates="results")


class Waiver(Base):
    """A waiver as configured at the latest run (kept for history and reports)."""

    __tablename__ = "waivers"
    __table_args__ = (UniqueConstraint("page_id", "rule_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    page_id: Mapped[str] = mapped_column(String(200))
    rule_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    approved_by: Mapped[str] = mapped_column(String(320))
    expires: Mapped[date | None] = mapped_column(Date)


class ActionPlan(Base):
    """A supervisor's plan for fixing one rule on one page, imported from their action-plan
    CSV (``auditor plan import``); a newer import replaces it."""

    __tablename__ = "action_plans"
    __table_args__ = (UniqueConstraint("page_id", "rule_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    page_id: Mapped[str] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"))
    rule_id: Mapped[str] = mapped_column(String(64))
    planned_fix_on: Mapped[date | None] = mapped_column(Date)
    responsible: Mapped[str | None] = mapped_column(String(320))
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(500))  # the imported file's name
    imported_at: Mapped[datetime]


class SyncState(Base):
    """What a connector kept of a page's last fetch, to fetch only what changed next time
    (Graph delta links, the posts inside the look-back window): page content, so it may
    hold student data; removed with the page or when the page is no longer registered."""

    __tablename__ = "sync_states"

    page_id: Mapped[str] = mapped_column(
        ForeignKey("pages.id", ondelete="CASCADE"), primary_key=True
    )
    connector: Mapped[str] = mapped_column(String(200))  # the [[connectors]] name
    external_id: Mapped[str] = mapped_column(String(500))
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    full_fetch_at: Mapped[datetime]  # the last fetch that read the page in full
    updated_at: Mapped[datetime]


class PageInput(Base):
    """What a page's last evaluated results were evaluated from, so that a run whose page
    is provably the same re-uses them without evaluating it: the content's digest, the
    digest of everything else the results depend on (configuration, rules, roster,
    waivers, dismissals), until when the clock leaves them unchanged (None: the clock
    changes nothing), the audit holding them, and when they were evaluated."""

    __tablename__ = "page_inputs"

    page_id: Mapped[str] = mapped_column(
        ForeignKey("pages.id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[str] = mapped_column(String(80))
    context: Mapped[str] = mapped_column(String(64))
    valid_until: Mapped[datetime | None]
    audit_id: Mapped[int] = mapped_column(Integer)  # the page_audits row holding the results
    evaluated_at: Mapped[datetime]


class ReportPiece(Base):
    """A page's report pieces (its details section, findings records and CSV rows, the
    parts that do not change from run to run), rendered from the results an audit holds:
    a later report showing the same results re-uses them. ``key`` is the digest of what
    else they were rendered from (templates, code, settings, the page's registration);
    ``body`` is compressed. Removed with the evidence when the audit's run is purged."""

    __tablename__ = "report_pieces"

    audit_id: Mapped[int] = mapped_column(
        ForeignKey("page_audits.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(64))
    body: Mapped[bytes] = mapped_column(LargeBinary)


class Delivery(Base):
    """One email sent (or attempted) for a run: digest, IT summary or urgent alert."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("run_id", "kind", "recipient"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(320))
    message_id: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]


class Lock(Base):
    """A lease that lets one audit run at a time per database, across hosts."""

    __tablename__ = "locks"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(300))
    run_id: Mapped[int | None] = mapped_column(Integer)
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class DiscoveredGroup(Base):
    """A group a connector's credentials can see that no ``[[pages]]`` entry registers
    (DS 1: possibly set up without approval), found during a run."""

    __tablename__ = "discovered_groups"
    __table_args__ = (UniqueConstraint("run_id", "connector", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    connector: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(500))
    name: Mapped[str] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(Text)
    found_at: Mapped[datetime]


class PostFeedback(Base):
    """A person's word on one post's finding of one rule (``auditor dismiss``, ``auditor
    confirm``, or the action-plan CSV): ``dismissed`` as not a violation, or ``confirmed``.
    A dismissal holds while the post's text hash is unchanged. ``excerpt`` is the finding's
    evidence as stored (masked), the text ``auditor corpus export`` writes."""

    __tablename__ = "post_feedback"
    __table_args__ = (UniqueConstraint("page_id", "rule_id", "post_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    page_id: Mapped[str] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"))
    rule_id: Mapped[str] = mapped_column(String(64))
    post_id: Mapped[str] = mapped_column(String(500))
    decision: Mapped[str] = mapped_column(String(20))  # dismissed | confirmed
    text_hash: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[int] = mapped_column(Integer)  # the run whose finding was judged
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(320))
    decided_at: Mapped[datetime]
    excerpt: Mapped[str] = mapped_column(Text)
    author_role: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(500))  # "command line" or the CSV's name


class JudgedPost(Base):
    """The content detectors' verdict on one text (by hash) under one rules version: the
    judged-post cache. Texts whose verdict holds student information are never stored."""

    __tablename__ = "judged_posts"

    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    verdict: Mapped[dict[str, Any]] = mapped_column(JSON)
    last_seen: Mapped[datetime] = mapped_column(index=True)
