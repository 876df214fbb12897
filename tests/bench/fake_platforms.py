"""Loopback fakes of Microsoft Graph and of the Google APIs (Directory, Groups Settings,
Gmail and the token endpoint) for the end-to-end benchmark (``bench_e2e.py``).

A :class:`District` generates N groups of M members and P posts, deterministically and on
demand: a teacher owner, the school's principal as supervisor, students and parents (about
three students to one parent); posts from the labelled corpus (``tests/corpus/``), about
one in twenty breaking a content rule, each ending with a sign-off and the club's name so
texts rarely repeat, in threads of one to three posts over the last 25 days.

:class:`FakeGraph` and :class:`FakeGoogle` answer exactly the requests the
``microsoft365`` and ``google-groups`` connectors make, with paging, shaped like the
platforms' documented responses: every body starts from the fixtures in
``tests/connectors/fixtures/`` (checked against the documentation when those connectors
were written) with the generated values put in. :class:`FakeServer` serves a fake on
127.0.0.1 (an ephemeral port, one thread per connection), holds each answer until the
set latency has passed, and counts requests by kind, HTTP client and page.

Each fake also says what the connector should ask for a page (:meth:`Fake.page_cost`):
its requests and its longest chain of dependent requests, read from the connector's
request order (the docstrings of :meth:`FakeGraph.page_cost` and
:meth:`FakeGoogle.page_cost` say how they are counted); :meth:`Fake.cost` says it for a
second run over unchanged pages, where the connectors fetch incrementally (Graph: one
``$batch`` and one delta request per channel; Google: no Gmail message read again). The
benchmark checks the counts the fake saw against them.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import random
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

HERE = Path(__file__).parent
FIXTURES = HERE.parent / "connectors" / "fixtures"
CORPUS = sorted((HERE.parent / "corpus").glob("*.jsonl"))

STAFF_DOMAIN = "danbury.k12.ct.us"
STUDENT_DOMAIN = f"students.{STAFF_DOMAIN}"
PARENT_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com")
ALLOWED_DOMAINS = ("maxpreps.com", "signupgenius.com", "docs.google.com", "forms.gle")
"""The corpus's district context (tests/corpus/README.md): its labels assume these."""
VIOLATING_EVERY = 20
"""One post in this many is drawn from the corpus's rule-breaking posts (5%)."""
THREAD_SIZES = (1, 2, 3, 1, 2, 1)
"""Posts per thread (a root and its replies), cycled: 1.67 on average."""
POSTS_WITHIN = timedelta(days=25)
"""Posts are spread evenly over this many days before now: inside every look-back window."""
CHANNELS = ("General", "Announcements")
STUDENTS_PER_PARENT = 3
PUBLIC_EVERY = 10
"""One group in this many is public and open to join: a structural rule fails there."""
UNREGISTERED_EVERY = 50
"""Discovery lists one unregistered group per this many registered ones."""
NAMESPACE = uuid.UUID("6f1c9a52-4b3e-4d7a-9c1e-2a5b8d0e7f31")

FIRST = (  # noqa: SIM905 - a list of names reads best as words
    "Ana Ben Carla Dev Elena Finn Gia Hugo Iris Jon Kai Lena Milo Nia Omar Pia Quinn Rosa "
    "Sam Tess Uri Vera Wes Xena Yara Zane"
).split()
LAST = (  # noqa: SIM905
    "Alvarez Brooks Chen Diaz Evans Fischer Garcia Hughes Ito Jensen Kowalski Lopez Morgan "
    "Nguyen Olsen Patel Quinn Reyes Silva Torres"
).split()
ACTIVITIES = (  # noqa: SIM905
    "Robotics Chess Debate Drama Yearbook Band Chorus Orchestra Esports Science Math-League "
    "Model-UN Art Photography Newspaper Cross-Country Soccer Basketball Volleyball Track "
    "Swim Tennis Key-Club Garden Coding Astronomy French Spanish Film"
).split()
SCHOOLS = (
    "Danbury High School",
    "Broadview Middle School",
    "Rogers Park Middle School",
    "Westside Middle School",
    "Henry Abbott Technical High School",
    "Alternative Center for Excellence",
    "Great Plain Elementary School",
    "Hayestown Avenue Elementary School",
    "King Street Intermediate School",
    "Park Avenue Elementary School",
    "Shelter Rock Elementary School",
    "South Street Elementary School",
)
SIGN_OFFS = (
    "Thanks, everyone.",
    "See you at practice.",
    "Questions? Reply here.",
    "Have a good weekend.",
    "Reminder sent by the club.",
    "Thanks for reading.",
    "See you Tuesday.",
    "More details soon.",
    "Thank you!",
    "Posted for the team.",
)

Kind = Literal["owner", "supervisor", "student", "parent"]


@dataclass(frozen=True)
class Person:
    """A generated member: platform ids are derived from the email address."""

    name: str
    email: str
    kind: Kind

    @property
    def graph_id(self) -> str:
        """The person's Entra ID object id (a GUID)."""
        return str(uuid.uuid5(NAMESPACE, self.email))

    @property
    def google_id(self) -> str:
        """The person's Directory API user id (21 digits)."""
        return "1088" + str(uuid.uuid5(NAMESPACE, self.email).int)[:17]

    @property
    def guest(self) -> bool:
        """Outside the district's tenant (a parent's own address)."""
        return self.kind == "parent"


@dataclass(frozen=True)
class Message:
    """A generated post: ``number`` orders the group's posts (0 is the oldest)."""

    number: int
    author: Person
    text: str
    links: tuple[str, ...]
    created: datetime

    @property
    def graph_id(self) -> str:
        """A Teams message id: its creation time in milliseconds, as Graph's ids are."""
        return str(int(self.created.timestamp() * 1000))

    def html(self) -> str:
        """The body as the Teams client posts it: paragraphs, links as anchors."""
        paragraphs = "".join(f"<p>{escape_html(p)}</p>" for p in self.text.split("\n\n"))
        anchors = "".join(
            f'<p><a href="{escape_html(u)}">{escape_html(u)}</a></p>' for u in self.links
        )
        return paragraphs + anchors


@dataclass(frozen=True)
class Group:
    """A generated club page: its people, and its posts as threads (root first)."""

    index: int
    name: str
    school: str
    public: bool
    created: datetime
    owner: Person
    supervisor: Person
    members: tuple[Person, ...]
    threads: tuple[tuple[Message, ...], ...]

    @property
    def slug(self) -> str:
        """The club's short name: its page id and its Google group's local part."""
        return f"club-{self.index:05d}"

    @property
    def email(self) -> str:
        """The group's address (Google group email, Microsoft 365 group mail)."""
        return f"{self.slug}@{STAFF_DOMAIN}"

    @property
    def graph_id(self) -> str:
        """The Microsoft 365 group's (and its team's) id."""
        return str(uuid.uuid5(NAMESPACE, self.email))

    @property
    def posts(self) -> list[Message]:
        """Every post, oldest first."""
        return sorted((m for t in self.threads for m in t), key=lambda m: m.number)


@cache
def corpus() -> tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]]:
    """The labelled corpus's posts that break no rule, and those that break one."""
    rows = [json.loads(line) for path in CORPUS for line in path.read_text().splitlines()]
    clean = tuple(r for r in rows if not any(r["labels"].values()))
    breaking = tuple(r for r in rows if any(r["labels"].values()))
    return clean, breaking


@cache
def fixture(platform: str, name: str) -> Any:
    """A fixture of ``tests/connectors/fixtures`` (parsed once; callers copy it)."""
    return json.loads((FIXTURES / platform / f"{name}.json").read_text())


def template(platform: str, name: str) -> Any:
    """A fresh copy of a fixture, to fill in."""
    return copy.deepcopy(fixture(platform, name))


def escape_html(text: str) -> str:
    """``text`` safe inside HTML text and attribute values."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


class District:
    """``pages`` generated groups of ``members`` members (at least 2: the owner and the
    supervisor) and ``posts`` posts each; a group is built when first asked for (the last
    few hundred are kept), the same every time."""

    def __init__(self, pages: int, members: int, posts: int, now: datetime) -> None:
        """The district as of ``now`` (post dates count back from it)."""
        self.pages = pages
        self.members = members
        self.posts = posts
        self.now = now
        self.group = lru_cache(maxsize=512)(self._build)

    def _build(self, index: int) -> Group:
        """Group ``index``: people first, then posts by people of the corpus author's kind."""
        rng = random.Random(index)
        school = SCHOOLS[index % len(SCHOOLS)]
        activity = ACTIVITIES[rng.randrange(len(ACTIVITIES))].replace("-", " ")
        owner = Person(*self._staff(rng, f"{index:05d}"), "owner")
        supervisor = Person(
            f"Principal of {school}",
            f"principal.{SCHOOLS.index(school):02d}@{STAFF_DOMAIN}",
            "supervisor",
        )
        people = [owner, supervisor]
        for n in range(self.members - 2):
            kind: Kind = (
                "parent" if n % (STUDENTS_PER_PARENT + 1) == STUDENTS_PER_PARENT else "student"
            )
            first, last = rng.choice(FIRST), rng.choice(LAST)
            domain = STUDENT_DOMAIN if kind == "student" else rng.choice(PARENT_DOMAINS)
            email = f"{first}.{last}{index:05d}{n:04d}@{domain}".lower()
            people.append(Person(f"{first} {last[0]}.", email, kind))
        name = f"{school.split()[0]} {activity} Club {index:05d}"
        by_kind = {
            "staff": [owner, supervisor],
            "student": [p for p in people if p.kind == "student"] or [owner],
            "parent": [p for p in people if p.kind == "parent"] or [owner],
        }
        clean, breaking = corpus()
        messages = []
        for number in range(self.posts):
            overall = index * self.posts + number
            row = rng.choice(breaking if overall % VIOLATING_EVERY == 0 else clean)
            author = rng.choice(by_kind[row["author_role"]])
            text = f"{row['text']}\n\n{rng.choice(SIGN_OFFS)} {name}"
            created = (
                self.now
                - POSTS_WITHIN * (self.posts - number) / self.posts
                - timedelta(seconds=index)
            )
            messages.append(Message(number, author, text, tuple(row["links"]), created))
        threads = []
        sizes = iter(THREAD_SIZES * (self.posts // len(THREAD_SIZES) + 1))
        while messages:
            size = next(sizes)
            threads.append(tuple(messages[:size]))
            messages = messages[size:]
        return Group(
            index=index,
            name=name,
            school=school,
            public=index % PUBLIC_EVERY == 0,
            created=datetime(2026, 8, 20, 14, tzinfo=UTC) - timedelta(days=index % 300),
            owner=owner,
            supervisor=supervisor,
            members=tuple(people),
            threads=tuple(threads),
        )

    @staticmethod
    def _staff(rng: random.Random, suffix: str) -> tuple[str, str]:
        """A teacher's name and district address."""
        first, last = rng.choice(FIRST), rng.choice(LAST)
        return f"{first} {last}", f"{first}.{last}{suffix}@{STAFF_DOMAIN}".lower()

    def page_row(self, index: int, external_id: str, connector: str) -> dict[str, str]:
        """The group's row of the benchmark's ``pages.csv`` (approved before its creation)."""
        g = self.group(index)
        return {
            "id": g.slug,
            "connector": connector,
            "external_id": external_id,
            "name": g.name,
            "kind": "club",
            "school": g.school,
            "owner": g.owner.email,
            "supervisor": g.supervisor.email,
            "approved_by": g.supervisor.email,
            "approved_on": (g.created.date() - timedelta(days=10)).isoformat(),
        }

    def snapshot(self, index: int) -> dict[str, Any]:
        """The group as a ``page-snapshot/1`` export (what the ``file`` connector reads),
        shaped like the ``microsoft365`` connector's snapshot of the same group."""
        g = self.group(index)
        roles = {"owner": "owner", "supervisor": "moderator"}
        return {
            "format": "page-snapshot/1",
            "platform": "microsoft365",
            "external_id": g.slug,
            "name": g.name,
            "url": f"https://teams.microsoft.com/l/team/{g.graph_id}",
            "description": f"{g.name} at {g.school}",
            "kind": "group",
            "created_at": g.created.isoformat(),
            "fetched_at": self.now.isoformat(),
            "settings": {
                "visibility": "public" if g.public else "closed",
                "join_policy": "open" if g.public else "request",
                "post_moderation": None,
                "invite_links": [],
                "external_members_allowed": True,
            },
            "members": [
                {
                    "id": p.email,
                    "name": p.name,
                    "email": p.email,
                    "role": roles.get(p.kind, "member"),
                    "state": "active",
                }
                for p in g.members
            ],
            "posts": [
                {
                    "id": m.graph_id,
                    "author_id": m.author.email,
                    "created_at": m.created.isoformat(),
                    "text": m.text,
                    "links": list(m.links),
                    "parent_id": thread[0].graph_id if m is not thread[0] else None,
                }
                for thread in g.threads
                for m in thread
            ],
            "moderation": None,
            "unavailable": {"moderation": "the export has no moderator activity"},
        }


@dataclass(frozen=True)
class Request:
    """One HTTP request as the fake sees it: path segments decoded, query and form flat."""

    method: str
    segments: tuple[str, ...]
    query: dict[str, str]
    form: dict[str, str]
    origin: str
    json: Any = None  # a JSON body (Graph's $batch)


@dataclass(frozen=True)
class Answer:
    """What the fake answers: ``kind`` names the request for the counts, ``client`` the
    connector's HTTP client that sent it, ``page`` the group it concerns."""

    kind: str
    body: Any
    status: int = 200
    client: str = "api"
    page: int | None = None
    shared: frozenset[int] = frozenset()  # a Graph $batch: every group it carried reads of
    raw: str | None = None  # the body already serialised (then ``body`` is not)


@dataclass(frozen=True)
class PageCost:
    """What the connector asks for one page: requests of its own, the longest chain of
    them that must follow one another (each needs the one before it to have been
    answered), and ``reads`` sent in batches shared with other pages (Graph's ``$batch``:
    up to :data:`GRAPH_BATCH` reads of any pages in one request; each round of reads is a
    link of the chain)."""

    requests: int
    chain: int
    reads: int = 0


class Fake(ABC):
    """A platform answering its connector's requests for a :class:`District`."""

    platform: str
    clients: tuple[str, ...]
    """The connector's HTTP clients, each with its own ``max_concurrency`` request slots."""
    run_note: str
    """What :meth:`run_requests` counts, in a few words."""

    def __init__(self, district: District) -> None:
        """A fake serving ``district``'s groups (and, to discovery, some unregistered ones)."""
        self.district = district
        self.listed = district.pages + district.pages // UNREGISTERED_EVERY

    @abstractmethod
    def external_id(self, index: int) -> str:
        """The page's ``external_id`` on this platform."""

    @abstractmethod
    def answer(self, request: Request) -> Answer:
        """The answer to one request; an unknown route is a 404 of kind ``unknown``."""

    @abstractmethod
    def settings(self, origin: str) -> dict[str, Any]:
        """The connector's settings pointing it at the fake served at ``origin``."""

    @abstractmethod
    def environment(self, folder: Path) -> dict[str, str]:
        """The environment variables the connector reads (fake secrets, made in ``folder``)."""

    @abstractmethod
    def page_cost(self, index: int) -> PageCost:
        """The requests and dependent chain the connector needs for page ``index``."""

    @abstractmethod
    def run_requests(self) -> int:
        """Requests made once per run, not for any one page (tokens, tenant, discovery)."""

    def cost(self, index: int, run: int) -> PageCost:
        """:meth:`page_cost` on run ``run``: the first reads everything; later runs, over
        pages unchanged since, read what the connector's sync state does not hold."""
        return self.page_cost(index)


def pages_of(count: int, size: int) -> int:
    """Requests to list ``count`` items ``size`` at a time (an empty list is one request)."""
    return max(1, math.ceil(count / size))


def offset_token(offset: int) -> str:
    """An opaque paging token that encodes where the next page starts."""
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def token_offset(token: str | None) -> int:
    """The offset a paging token of :func:`offset_token` encodes (0 for none)."""
    if not token:
        return 0
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    return int(raw.removeprefix("offset:"))


# --- Microsoft Graph -----------------------------------------------------------------

GRAPH_PATH = "graph/v1.0"
GRAPH_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
GRAPH_DIRECTORY_PAGE = 999
"""Largest ``$top`` of directory listings (members, owners, groups)."""
GRAPH_MESSAGES_PAGE = 50
"""Largest ``$top`` of channel messages and replies."""
GRAPH_BATCH = 20
"""Largest number of requests in one ``POST /$batch``."""
REPEATED = frozenset({"group", "owners", "members", "group-settings", "team", "channels"})
"""The Graph reads a page asks again on every run (its delta round aside)."""
MESSAGES_LIMIT = 100
"""The connector's default ``max_messages_per_channel``."""


class FakeGraph(Fake):
    """Microsoft Graph v1.0 and the Entra ID token endpoint, for the ``microsoft365``
    connector: every generated group is a private (one in ten: public) team with two
    channels; a third of the groups forbid guests themselves, the rest leave it to the
    tenant, which allows them."""

    platform = "microsoft365"
    clients = ("api",)
    run_note = "token, tenant settings, discovery"

    def __init__(self, district: District) -> None:
        """Graph for ``district``: group ids map back to group numbers."""
        super().__init__(district)
        self._index = {self._id(i): i for i in range(self.listed)}
        self._items: dict[str, tuple[Answer, str]] = {}  # see :meth:`_item`

    @staticmethod
    def _id(index: int) -> str:
        """The Graph id of group ``index`` (registered or not)."""
        return str(uuid.uuid5(NAMESPACE, f"club-{index:05d}@{STAFF_DOMAIN}"))

    def external_id(self, index: int) -> str:
        return self._id(index)

    def settings(self, origin: str) -> dict[str, Any]:
        return {
            "tenant_id": GRAPH_TENANT,
            "client_id": "6731de76-14a6-49ae-97bc-6eba6914391e",
            "client_secret_env": "BENCH_M365_CLIENT_SECRET",
            "base_url": f"{origin}/{GRAPH_PATH}",
            "token_url": f"{origin}/login/{{tenant_id}}/oauth2/v2.0/token",
        }

    def environment(self, folder: Path) -> dict[str, str]:
        return {"BENCH_M365_CLIENT_SECRET": "bench-client-secret-not-real"}

    def channels(self, g: Group) -> list[tuple[str, str, list[tuple[Message, ...]]]]:
        """The team's channels: id, name and threads (General gets the odd ones)."""
        out = []
        for n, name in enumerate(CHANNELS):
            cid = f"19:{uuid.uuid5(NAMESPACE, f'{g.email}/{name}').hex}@thread.tacv2"
            out.append((cid, name, list(g.threads[n :: len(CHANNELS)])))
        return out

    def page_cost(self, index: int) -> PageCost:
        """Requests of a first ``fetch_page_incremental`` (no sync state), in its order;
        every one waits for the one before (the connector awaits each in turn), so the
        chain is all of them: a round of six reads in the shared ``$batch`` calls (the
        group, owners and members (999 a page: one page here), the group's settings, the
        team, its channels); a round of each channel's first delta request (the threads
        changed in the look-back window, 50 a page, with their replies inline:
        ``$expand=replies``, no thread here has over 1,000; the system message that the
        team was created is older than the window); then each channel's further delta
        pages, requests of its own. The tenant's settings are read once per run."""
        g = self.district.group(index)
        channels = self.channels(g)
        more = sum(pages_of(len(t), GRAPH_MESSAGES_PAGE) - 1 for _, _, t in channels)
        return PageCost(more, 2 + more, 6 + len(channels))

    def cost(self, index: int, run: int) -> PageCost:
        """Run 1: :meth:`page_cost`. Later runs over unchanged pages: the same two rounds
        of reads, the channels' delta requests finding nothing changed."""
        if run == 1:
            return self.page_cost(index)
        return PageCost(0, 2, 6 + len(CHANNELS))

    def run_requests(self) -> int:
        """The token, the tenant's group settings, and discovery's listing of the groups."""
        return 2 + pages_of(self.listed, GRAPH_DIRECTORY_PAGE)

    def answer(self, request: Request) -> Answer:
        s = request.segments
        if request.method == "POST" and s[:1] == ("login",) and s[-1] == "token":
            return Answer("token", template("microsoft365", "token"))
        if request.method == "POST" and s == (*GRAPH_PATH.split("/"), "$batch"):
            return self._batch(request)
        if request.method != "GET" or tuple(s[:2]) != tuple(GRAPH_PATH.split("/")):
            return graph_error("unknown", request)
        path = s[2:]
        if path == ("groups",):
            return self._discovery(request)
        if path == ("groupSettings",):
            return Answer("tenant-settings", template("microsoft365", "tenant-settings"))
        index = self._index.get(path[1]) if len(path) > 1 else None
        if index is None or index >= self.district.pages:
            return graph_error("unknown", request)
        g = self.district.group(index)
        route = (path[0], *path[2:3])
        if route == ("groups",) and len(path) == 2:
            return Answer("group", self._group(g), page=index)
        if route == ("groups", "owners"):
            return Answer("owners", self._people(request, [g.owner]), page=index)
        if route == ("groups", "members"):
            return Answer("members", self._people(request, list(g.members)), page=index)
        if route == ("groups", "settings"):
            return Answer("group-settings", self._group_settings(g), page=index)
        if route == ("teams",) and len(path) == 2:
            return Answer("team", self._team(g), page=index)
        if route == ("teams", "channels"):
            return self._channel_route(request, g, path[3:])
        return graph_error("unknown", request, index)

    def _batch(self, request: Request) -> Answer:
        """``POST /$batch``: each of its (at most 20) requests answered as if sent alone,
        the answers in ``responses`` (``id``, ``status``, ``headers``, ``body``), in
        reverse order (Graph promises none); a batch of more than 20 is a 400."""
        asked = request.json.get("requests") if isinstance(request.json, dict) else None
        if not isinstance(asked, list) or not 0 < len(asked) <= 20:
            body = {"error": {"code": "BadRequest", "message": "1 to 20 requests a batch"}}
            return Answer("batch", body, status=400)
        out = []
        pages = set()
        for item in asked:
            got, text = self._item(item["method"], item["url"], request.origin)
            pages.add(got.page)
            out.append(
                f'{{"id":{json.dumps(item["id"])},"status":{got.status},'
                f'"headers":{{"Content-Type":"application/json"}},"body":{text}}}'
            )
        shared = frozenset(p for p in pages if p is not None)
        raw = '{"responses":[' + ",".join(reversed(out)) + "]}"
        return Answer("batch", None, shared=shared, raw=raw)

    def _item(self, method: str, url: str, origin: str) -> tuple[Answer, str]:
        """One request of a batch answered as if sent alone, and its body serialised.
        The district never changes, so the answers a page's every run asks again (its
        group's reads, and a delta link finding nothing) are kept serialised: the fake's
        own work is not what the benchmark measures."""
        if (kept := self._items.get(url)) is not None:
            return kept
        parts = urlsplit(url)
        segments = (
            *GRAPH_PATH.split("/"),
            *(unquote(x) for x in parts.path.strip("/").split("/")),
        )
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        got = self.answer(Request(method, segments, query, {}, origin))
        text = json.dumps(got.body)
        again = got.kind in REPEATED or (got.kind == "delta" and "$deltatoken" in query)
        if again and got.status == 200:
            self._items[url] = (got, text)
        return got, text

    def _discovery(self, request: Request) -> Answer:
        """``GET /groups?$filter=groupTypes/any(c:c eq 'Unified')``: every group, paged."""
        top = min(int(request.query.get("$top", 100)), GRAPH_DIRECTORY_PAGE)
        start = token_offset(request.query.get("$skiptoken"))
        items = []
        for index in range(start, min(start + top, self.listed)):
            email = f"club-{index:05d}@{STAFF_DOMAIN}"
            items.append(
                {
                    "id": self._id(index),
                    "displayName": f"Club {index:05d}",
                    "mail": email,
                    "visibility": "Private",
                }
            )
        body = template("microsoft365", "groups-2")
        body["value"] = items
        if start + top < self.listed:
            body["@odata.nextLink"] = next_link(request, "$skiptoken", start + top)
        return Answer("groups-list", body)

    def _group(self, g: Group) -> dict[str, Any]:
        """``GET /groups/{id}``."""
        body = template("microsoft365", "group")
        body.update(
            id=g.graph_id,
            displayName=g.name,
            description=f"{g.name} at {g.school}",
            visibility="Public" if g.public else "Private",
            mail=g.email,
            createdDateTime=g.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            resourceProvisioningOptions=["Team"],
        )
        return body

    def _people(self, request: Request, people: list[Person]) -> dict[str, Any]:
        """A page of ``/owners`` or ``/members`` (``$top``, then ``$skiptoken``)."""
        top = min(int(request.query.get("$top", 100)), GRAPH_DIRECTORY_PAGE)
        start = token_offset(request.query.get("$skiptoken"))
        body = template("microsoft365", "owners")
        body["value"] = [graph_user(p) for p in people[start : start + top]]
        if start + top < len(people):
            body["@odata.nextLink"] = next_link(request, "$skiptoken", start + top)
        return body

    def _group_settings(self, g: Group) -> dict[str, Any]:
        """``GET /groups/{id}/settings``: a third of the groups forbid guests themselves."""
        body = template("microsoft365", "group-settings")
        if g.index % 3:
            body["value"] = []
        return body

    def _team(self, g: Group) -> dict[str, Any]:
        """``GET /teams/{id}``."""
        body = template("microsoft365", "team")
        body.update(
            id=g.graph_id,
            displayName=g.name,
            description=f"{g.name} at {g.school}",
            visibility="public" if g.public else "private",
            webUrl=f"https://teams.microsoft.com/l/team/19%3a{g.graph_id.replace('-', '')}"
            f"%40thread.tacv2/conversations?groupId={g.graph_id}&tenantId={GRAPH_TENANT}",
        )
        return body

    def _channel_route(self, request: Request, g: Group, rest: tuple[str, ...]) -> Answer:
        """``/channels``, ``/channels/{cid}/messages`` and ``.../messages/{mid}/replies``."""
        channels = self.channels(g)
        if not rest:
            body = template("microsoft365", "channels")
            item = body["value"][0]
            body["value"] = [
                {**item, "id": cid, "displayName": name, "description": f"{name} channel"}
                for cid, name, _ in channels
            ]
            body["@odata.count"] = len(channels)
            return Answer("channels", body, page=g.index)
        found = [(n, c) for n, c in enumerate(channels) if c[0] == rest[0]]
        if not found or rest[1:2] != ("messages",):
            return graph_error("unknown", request, g.index)
        number, (cid, _, threads) = found[0]
        if rest[2:] == ("delta",):
            return self._delta(request, g, cid, threads, number)
        if len(rest) == 2:
            expand = request.query.get("$expand") == "replies"  # replies inline, as Graph does
            tops: list[dict[str, Any]] = [
                graph_message(g, cid, t[0], None)
                | (
                    {"replies": [graph_message(g, cid, m, t[0].graph_id) for m in reversed(t[1:])]}
                    if expand
                    else {}
                )
                for t in reversed(threads)
            ]
            if number == 0:
                tops.append(system_message(g, cid))
            return Answer("messages", graph_page(request, tops), page=g.index)
        roots = {t[0].graph_id: t for t in threads}
        if len(rest) != 4 or rest[3] != "replies" or rest[2] not in roots:
            return graph_error("unknown", request, g.index)
        thread = roots[rest[2]]
        replies = [graph_message(g, cid, m, thread[0].graph_id) for m in reversed(thread[1:])]
        return Answer("replies", graph_page(request, replies), page=g.index)

    def _delta(
        self,
        request: Request,
        g: Group,
        cid: str,
        threads: list[tuple[Message, ...]],
        number: int,
    ) -> Answer:
        """``GET .../messages/delta``: without a ``$deltatoken``, the reply chains changed
        after its ``$filter=lastModifiedDateTime gt ...`` (replies inline with
        ``$expand=replies``), 50 a page with ``$skiptoken``, the last page with an
        ``@odata.deltaLink``; with one, what changed since (nothing: the district does not
        change), with the same link."""
        link = f"{request.origin}/{GRAPH_PATH}/teams/{g.graph_id}/channels/{quote(cid, safe='@:')}"
        link += f"/messages/delta?$deltatoken={offset_token(len(threads))}"
        if "$deltatoken" in request.query:
            return Answer("delta", {"value": [], "@odata.deltaLink": link}, page=g.index)
        since = request.query.get("$filter", "").removeprefix("lastModifiedDateTime gt ")
        cutoff = datetime.fromisoformat(since.replace("Z", "+00:00")) if since else None
        expand = request.query.get("$expand") == "replies"
        tops = [
            graph_message(g, cid, t[0], None)
            | (
                {"replies": [graph_message(g, cid, m, t[0].graph_id) for m in reversed(t[1:])]}
                if expand
                else {}
            )
            for t in reversed(threads)
            if cutoff is None or max(m.created for m in t) > cutoff
        ]
        if number == 0 and (cutoff is None or g.created > cutoff):
            tops.append(system_message(g, cid))
        body = graph_page(request, tops)
        if "@odata.nextLink" not in body:
            body["@odata.deltaLink"] = link
        return Answer("delta", body, page=g.index)


def graph_user(p: Person) -> dict[str, Any]:
    """A directory object for ``p``: a guest has its ``#EXT#`` user principal name."""
    # A shallow copy: the fixture's nested values are only ever read (serialised).
    item = dict(fixture("microsoft365", "members-2")["value"][1 if p.guest else 0])
    upn = f"{p.email.replace('@', '_')}#EXT#@district.onmicrosoft.com" if p.guest else p.email
    item.update(id=p.graph_id, displayName=p.name, mail=p.email, userPrincipalName=upn)
    return item


def graph_message(g: Group, cid: str, m: Message, parent: str | None) -> dict[str, Any]:
    """A ``chatMessage``: roots as the Teams client posts them (HTML), replies as text."""
    if parent is None:
        item = copy.deepcopy(fixture("microsoft365", "messages")["value"][0])
        item["body"] = {"contentType": "html", "content": m.html()}
        item["channelIdentity"] = {"teamId": g.graph_id, "channelId": cid}
        item["webUrl"] = (
            f"https://teams.microsoft.com/l/message/{quote(cid, safe='')}/{m.graph_id}"
            f"?groupId={g.graph_id}"
        )
        item["subject"] = None
    else:
        item = copy.deepcopy(fixture("microsoft365", "replies")["value"][0])
        text = " ".join([m.text, *m.links])
        item["body"] = {"contentType": "text", "content": text}
    stamp = m.created.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    item.update(
        id=m.graph_id,
        etag=m.graph_id,
        replyToId=parent,
        createdDateTime=stamp,
        lastModifiedDateTime=stamp,
    )
    item["from"]["user"].update(id=m.author.graph_id, displayName=m.author.name)
    return item


def system_message(g: Group, cid: str) -> dict[str, Any]:
    """The system event message "team created" that starts a team's General channel."""
    item = copy.deepcopy(fixture("microsoft365", "messages")["value"][1])
    stamp = g.created.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    ident = str(int(g.created.timestamp() * 1000))
    item.update(id=ident, etag=ident, createdDateTime=stamp, lastModifiedDateTime=stamp)
    item["eventDetail"].update(teamId=g.graph_id, teamDisplayName=g.name)
    return item


def graph_page(request: Request, items: list[dict[str, Any]]) -> dict[str, Any]:
    """A page of messages or replies (``$top`` at most 50, then ``$skiptoken``)."""
    top = min(int(request.query.get("$top", 20)), GRAPH_MESSAGES_PAGE)
    start = token_offset(request.query.get("$skiptoken"))
    body = template("microsoft365", "replies")
    body["value"] = items[start : start + top]
    body["@odata.count"] = len(body["value"])
    if start + top < len(items):
        body["@odata.nextLink"] = next_link(request, "$skiptoken", start + top)
    return body


def next_link(request: Request, param: str, offset: int) -> str:
    """The absolute URL of the next page: the same request with its paging token."""
    query = {k: v for k, v in request.query.items() if k != param}
    query[param] = offset_token(offset)
    path = "/".join(quote(s, safe="@:") for s in request.segments)
    return f"{request.origin}/{path}?{urlencode(query)}"


def graph_error(kind: str, request: Request, page: int | None = None) -> Answer:
    """Graph's 404 error body."""
    body = {
        "error": {
            "code": "Request_ResourceNotFound",
            "message": f"Resource '{'/'.join(request.segments)}' does not exist.",
            "innerError": {"date": "2026-11-20T12:00:00", "request-id": str(uuid.uuid4())},
        }
    }
    return Answer(kind, body, status=404, page=page)


# --- Google Workspace ----------------------------------------------------------------

DIRECTORY_PATH = "admin/directory/v1"
SETTINGS_PATH = "groups/v1/groups"
GMAIL_PATH = "gmail/v1"
AUDIT_MAILBOX = f"groups-audit@{STAFF_DOMAIN}"
GOOGLE_PAGE = 200
"""Largest ``maxResults`` of the Directory API's groups and members lists."""
GMAIL_PAGE = 500
"""Largest ``maxResults`` of Gmail's messages.list."""
MAX_POSTS = 500
"""The connector's default ``max_posts``."""
FOOTER = (
    "\n\n-- \nYou received this message because you are subscribed to the Google Groups "
    '"{name}" group.\nTo unsubscribe from this group and stop receiving emails from it, send '
    "an email to {local}+unsubscribe@{domain}.\n"
)


class FakeGoogle(Fake):
    """The Admin SDK Directory API, the Groups Settings API, Gmail and Google's token
    endpoint, for the ``google-groups`` connector with an audit mailbox: every generated
    group also has the audit mailbox as a member, receiving each message."""

    platform = "google-groups"
    clients = ("admin", "gmail")
    run_note = "two tokens, discovery"

    def __init__(self, district: District) -> None:
        """Google for ``district``: group addresses map back to group numbers."""
        super().__init__(district)
        self._index = {f"club-{i:05d}@{STAFF_DOMAIN}": i for i in range(district.pages)}

    def external_id(self, index: int) -> str:
        return self.district.group(index).email

    def settings(self, origin: str) -> dict[str, Any]:
        return {
            "credentials_file_env": "BENCH_GOOGLE_KEY_FILE",
            "delegated_admin": f"it-admin@{STAFF_DOMAIN}",
            "audit_mailbox": AUDIT_MAILBOX,
            "base_url": f"{origin}/{DIRECTORY_PATH}",
            "settings_url": f"{origin}/{SETTINGS_PATH}",
            "gmail_url": f"{origin}/{GMAIL_PATH}",
            "token_url": f"{origin}/token",
        }

    def environment(self, folder: Path) -> dict[str, str]:
        return {"BENCH_GOOGLE_KEY_FILE": str(service_account_key(folder / "service-account.json"))}

    def page_cost(self, index: int) -> PageCost:
        """Requests of ``fetch_page``, in its order: the group; its settings; its members
        (200 a page); the audit mailbox's membership; Gmail's list of the group's messages
        (500 a page, at most 500 read); then each message, all at once (the Gmail
        client's slots cap them). The chain is every request before the messages, plus
        one for the messages read side by side."""
        g = self.district.group(index)
        read = min(len(g.posts), MAX_POSTS)
        before = 3 + pages_of(len(g.members) + 1, GOOGLE_PAGE) + pages_of(read, GMAIL_PAGE)
        return PageCost(before + read, before + (read > 0))

    def cost(self, index: int, run: int) -> PageCost:
        """Run 1: :meth:`page_cost`. Later runs over unchanged pages: the same but the
        messages, which the connector kept from the run before."""
        first = self.page_cost(index)
        if run == 1:
            return first
        read = min(len(self.district.group(index).posts), MAX_POSTS)
        return PageCost(first.requests - read, first.chain - (read > 0))

    def run_requests(self) -> int:
        """Two tokens (the Admin SDK's, the audit mailbox's) and discovery's listing."""
        return 2 + pages_of(self.listed, GOOGLE_PAGE)

    def answer(self, request: Request) -> Answer:
        s = request.segments
        if request.method == "POST" and s == ("token",):
            return self._token(request)
        if request.method != "GET":
            return google_error(request)
        if s[:3] == tuple(DIRECTORY_PATH.split("/")):
            return self._directory(request, s[3:])
        if s[:3] == tuple(SETTINGS_PATH.split("/")) and len(s) == 4 and s[3] in self._index:
            index = self._index[s[3]]
            body = self._settings(self.district.group(index))
            return Answer("settings", body, client="admin", page=index)
        if (
            s[:2] == tuple(GMAIL_PATH.split("/"))
            and s[2:3] == ("users",)
            and s[3:4] == (AUDIT_MAILBOX,)
        ):
            return self._gmail(request, s[4:])
        return google_error(request)

    def _token(self, request: Request) -> Answer:
        """The JWT-bearer grant: a Gmail token when the assertion asks for the Gmail scope."""
        claims = jwt_claims(request.form.get("assertion", ""))
        if "gmail" in str(claims.get("scope", "")):
            return Answer("token", template("google", "gmail-token"), client="gmail")
        return Answer("token", template("google", "token"), client="admin")

    def _directory(self, request: Request, path: tuple[str, ...]) -> Answer:
        """``groups``, ``groups/{key}``, ``groups/{key}/members`` and ``.../members/{key}``."""
        if path == ("groups",):
            return self._discovery(request)
        index = self._index.get(path[1]) if path[:1] == ("groups",) and len(path) > 1 else None
        if index is None:
            return google_error(request)
        g = self.district.group(index)
        if len(path) == 2:
            return Answer("group", self._group(g), client="admin", page=index)
        if path[2:] == ("members",):
            return Answer("members", self._members(request, g), client="admin", page=index)
        if path[2:] == ("members", AUDIT_MAILBOX):
            body = template("google", "member-audit")
            body.update(id=mailbox_person().google_id, email=AUDIT_MAILBOX)
            return Answer("audit-member", body, client="admin", page=index)
        return google_error(request, index)

    def _discovery(self, request: Request) -> Answer:
        """``groups.list`` for the customer: every group, ``maxResults`` at most 200."""
        top = min(int(request.query.get("maxResults", GOOGLE_PAGE)), GOOGLE_PAGE)
        start = token_offset(request.query.get("pageToken"))
        item = fixture("google", "groups-1")["groups"][0]
        body = template("google", "groups-2")
        body["groups"] = [
            {
                **item,
                "id": f"03ep{index:011d}",
                "email": f"club-{index:05d}@{STAFF_DOMAIN}",
                "name": f"Club {index:05d}",
            }
            for index in range(start, min(start + top, self.listed))
        ]
        if start + top < self.listed:
            body["nextPageToken"] = offset_token(start + top)
        return Answer("groups-list", body, client="admin")

    def _group(self, g: Group) -> dict[str, Any]:
        """``groups.get``."""
        body = template("google", "group")
        body.update(
            id=f"03ep{g.index:011d}",
            email=g.email,
            name=g.name,
            description=f"{g.name} at {g.school}",
            directMembersCount=str(len(g.members) + 1),
            nonEditableAliases=[f"{g.email}.test-google-a.com"],
        )
        return body

    def _members(self, request: Request, g: Group) -> dict[str, Any]:
        """``members.list`` (``maxResults`` at most 200, then ``pageToken``): the people
        and the audit mailbox."""
        top = min(int(request.query.get("maxResults", GOOGLE_PAGE)), GOOGLE_PAGE)
        start = token_offset(request.query.get("pageToken"))
        roles = {"owner": "OWNER", "supervisor": "MANAGER"}
        people = [*g.members, mailbox_person()]
        item = fixture("google", "members-1")["members"][0]
        body = template("google", "members-2")
        body["members"] = [
            {**item, "id": p.google_id, "email": p.email, "role": roles.get(p.kind, "MEMBER")}
            for p in people[start : start + top]
        ]
        if start + top < len(people):
            body["nextPageToken"] = offset_token(start + top)
        return body

    def _settings(self, g: Group) -> dict[str, Any]:
        """The Groups Settings resource: invite-only and moderated, or (one group in ten)
        visible to the domain and open to requests."""
        body = template("google", "settings")
        body.update(email=g.email, name=g.name, description=f"{g.name} at {g.school}")
        if g.public:
            body.update(whoCanViewGroup="ALL_IN_DOMAIN_CAN_VIEW", whoCanJoin="CAN_REQUEST_TO_JOIN")
        return body

    def _gmail(self, request: Request, path: tuple[str, ...]) -> Answer:
        """``messages.list`` (``q=list:<group> after:<seconds>``) and ``messages.get``."""
        if path == ("messages",):
            return self._gmail_list(request)
        if len(path) == 2 and path[0] == "messages":
            found = self._message(path[1])
            if found is not None:
                g, m, thread = found
                return Answer(
                    "gmail-get", gmail_message(g, m, thread), client="gmail", page=g.index
                )
        return google_error(request, client="gmail")

    def _gmail_list(self, request: Request) -> Answer:
        """The group's messages after the query's date, newest first, ids only."""
        words = dict(w.split(":", 1) for w in request.query.get("q", "").split() if ":" in w)
        index = self._index.get(words.get("list", ""))
        if index is None:
            return google_error(request, client="gmail")
        g = self.district.group(index)
        after = datetime.fromtimestamp(int(words.get("after", 0)), UTC)
        roots = {m.number: t[0] for t in g.threads for m in t}
        found = [m for m in reversed(g.posts) if m.created > after]
        top = min(int(request.query.get("maxResults", 100)), GMAIL_PAGE)
        start = token_offset(request.query.get("pageToken"))
        body = template("google", "gmail-list-2")
        body["messages"] = [
            {"id": gmail_id(g, m), "threadId": gmail_id(g, roots[m.number])}
            for m in found[start : start + top]
        ]
        body["resultSizeEstimate"] = len(found)
        if start + top < len(found):
            body["nextPageToken"] = offset_token(start + top)
        return Answer("gmail-list", body, client="gmail", page=index)

    def _message(self, ident: str) -> tuple[Group, Message, tuple[Message, ...]] | None:
        """The group, post and thread a Gmail message id names, if any."""
        try:
            index, number = int(ident[3:10], 16), int(ident[10:], 16)
        except ValueError:
            return None
        if not ident.startswith("19a") or index >= self.district.pages:
            return None
        g = self.district.group(index)
        for thread in g.threads:
            for m in thread:
                if m.number == number:
                    return g, m, thread
        return None


def mailbox_person() -> Person:
    """The audit mailbox, a member of every group."""
    return Person("Groups Audit", AUDIT_MAILBOX, "student")


def gmail_id(g: Group, m: Message) -> str:
    """A 16-hex-digit Gmail message id that names the group and the post."""
    return f"19a{g.index:07x}{m.number:06x}"


def message_id_header(g: Group, m: Message) -> str:
    """The RFC 2822 ``Message-ID`` of a post."""
    return f"<CAbench{g.index:05d}.{m.number:04d}@mail.gmail.com>"


def gmail_message(g: Group, m: Message, thread: tuple[Message, ...]) -> dict[str, Any]:
    """``messages.get`` with ``format=full``: Google Groups' list headers, a text/plain
    body with the group's footer; a parent's mail comes "via" the group, with
    ``X-Original-From``."""
    body = template("google", "gmail-message-19a6c1d2e3f40001")
    root = thread[0]
    local = g.email.split("@")[0]
    text = "\n".join([m.text, *m.links]) + FOOTER.format(
        name=g.name, local=local, domain=STAFF_DOMAIN
    )
    headers = {h["name"]: h["value"] for h in body["payload"]["headers"]}
    headers.update(
        {
            "Delivered-To": AUDIT_MAILBOX,
            "Return-Path": f"<{local}+bncBAABBQ7XZ4HQMGQE4QW@{STAFF_DOMAIN}>",
            "Date": m.created.strftime("%a, %d %b %Y %H:%M:%S +0000"),
            "Message-ID": message_id_header(g, m),
            "Subject": ("Re: " if m is not root else "") + f"{g.name} news {root.number}",
            "From": f"{m.author.name} <{m.author.email}>",
            "To": f"{g.name} <{g.email}>",
            "Mailing-list": f"list {g.email}; contact {local}+owners@{STAFF_DOMAIN}",
            "List-ID": f"<{local}.{STAFF_DOMAIN}>",
            "X-Spam-Checked-In-Group": g.email,
            "List-Post": f"<mailto:{g.email}>",
            "List-Archive": f"<https://groups.google.com/a/{STAFF_DOMAIN}/group/{local}/>",
        }
    )
    if m.author.guest:
        headers["From"] = f"'{m.author.name}' via {g.name} <{g.email}>"
        headers["X-Original-From"] = f"{m.author.name} <{m.author.email}>"
    if m is not root:
        previous = thread[thread.index(m) - 1]
        headers["In-Reply-To"] = message_id_header(g, previous)
        headers["References"] = message_id_header(g, root)
    data = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
    body.update(
        id=gmail_id(g, m),
        threadId=gmail_id(g, root),
        snippet=m.text[:100],
        internalDate=str(int(m.created.timestamp() * 1000)),
    )
    body["payload"] = {
        "partId": "",
        "headers": [{"name": k, "value": v} for k, v in headers.items()],
        "filename": "",
        "mimeType": "text/plain",
        "body": {"size": len(text.encode()), "data": data},
    }
    return body


def jwt_claims(assertion: str) -> dict[str, Any]:
    """The claims of a JWT, unverified (the fake accepts any signature)."""
    parts = assertion.split(".")
    if len(parts) != 3:
        return {}
    try:
        return json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return {}


def google_error(request: Request, page: int | None = None, client: str = "admin") -> Answer:
    """Google's JSON error body for a 404."""
    message = f"Resource Not Found: {'/'.join(request.segments)}"
    error = {"code": 404, "message": message, "status": "NOT_FOUND"}
    error["errors"] = [{"message": message, "domain": "global", "reason": "notFound"}]
    return Answer("unknown", {"error": error}, status=404, client=client, page=page)


def service_account_key(path: Path) -> Path:
    """A throwaway service-account key file, shaped like the Cloud console's download."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    info = {
        "type": "service_account",
        "project_id": "district-auditor-bench",
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": pem.decode(),
        "client_email": "auditor@district-auditor-bench.iam.gserviceaccount.com",
        "client_id": "104857600000000000001",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path.write_text(json.dumps(info))
    return path


# --- the server ----------------------------------------------------------------------


@dataclass
class Traffic:
    """What the fake answered during one run: requests by kind, by client and by page,
    answers that were not 200, connections opened, the most requests in flight at once,
    and when the first request came and the last answer left (``time.monotonic()``)."""

    kinds: Counter[str] = field(default_factory=Counter)
    clients: Counter[str] = field(default_factory=Counter)
    pages: Counter[int] = field(default_factory=Counter)
    not_ok: int = 0
    connections: int = 0
    peak_in_flight: int = 0
    first: float | None = None
    last: float | None = None

    @property
    def requests(self) -> int:
        """Every request answered."""
        return sum(self.kinds.values())


class Recorder:
    """Counts requests as the server's threads answer them (thread-safe)."""

    def __init__(self) -> None:
        """An empty record."""
        self._lock = threading.Lock()
        self._traffic = Traffic()
        self._in_flight = 0

    def connected(self) -> None:
        """A client opened a connection."""
        with self._lock:
            self._traffic.connections += 1

    def begin(self) -> None:
        """A request arrived."""
        with self._lock:
            self._in_flight += 1
            t = self._traffic
            t.peak_in_flight = max(t.peak_in_flight, self._in_flight)
            if t.first is None:
                t.first = time.monotonic()

    def end(self, answer: Answer) -> None:
        """Its answer was sent."""
        with self._lock:
            self._in_flight -= 1
            t = self._traffic
            t.kinds[answer.kind] += 1
            t.clients[answer.client] += 1
            if answer.page is not None:
                t.pages[answer.page] += 1
            for page in answer.shared:  # a shared batch counts once for each page in it
                t.pages[page] += 1
            t.not_ok += answer.status != 200
            t.last = time.monotonic()

    def take(self) -> Traffic:
        """The traffic so far; the record starts again empty."""
        with self._lock:
            taken, self._traffic = self._traffic, Traffic()
            return taken


class FakeServer:
    """Serves a :class:`Fake` on 127.0.0.1 (an ephemeral port), one thread per connection,
    each answer held until ``latency_s`` has passed since its request arrived."""

    def __init__(self, fake: Fake, latency_s: float) -> None:
        """Start serving in a background thread."""
        self.fake = fake
        self.latency_s = latency_s
        self.recorder = Recorder()
        self._httpd = Listener(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        """Stop serving and close the listening socket."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _handler(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    """The request handler class bound to ``server``."""

    class Handler(BaseHTTPRequestHandler):
        """Answers one connection's requests (HTTP/1.1 keep-alive, as httpx uses it)."""

        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else each answer's body waits for the headers' ACK

        def setup(self) -> None:
            """A new connection: counted."""
            super().setup()
            server.recorder.connected()

        def do_GET(self) -> None:
            """A GET."""
            self._serve("GET")

        def do_POST(self) -> None:
            """A POST (token requests, Graph's $batch)."""
            self._serve("POST")

        def _serve(self, method: str) -> None:
            """Answer after the latency; count the request."""
            arrived = time.monotonic()
            server.recorder.begin()
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            is_json = "json" in (self.headers.get("Content-Type") or "")
            form = dict(parse_qsl(raw)) if raw and not is_json else {}
            parts = urlsplit(self.path)
            segments = tuple(unquote(s) for s in parts.path.strip("/").split("/"))
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            body = json.loads(raw) if raw and is_json else None
            request = Request(method, segments, query, form, server.origin, body)
            answer = server.fake.answer(request)
            payload = (answer.raw or json.dumps(answer.body)).encode()
            time.sleep(max(0.0, server.latency_s - (time.monotonic() - arrived)))
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            server.recorder.end(answer)

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: the recorder counts requests."""

    Handler.server_version = "bench-fake/1"
    return Handler


class Listener(ThreadingHTTPServer):
    """The HTTP server, with a backlog that holds every connection the connector opens at
    once (the default of 5 would drop some, and the client would wait a second to retry)."""

    request_queue_size = 1024
