"""respx mocks of Google Workspace and Microsoft Graph, answering with the JSON fixtures in
``fixtures/`` (shaped like the platforms' documented responses); shared by the contract
tests, the mapping tests and the end-to-end run."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt

FIXTURES = Path(__file__).parent / "fixtures"

GOOGLE_DIRECTORY = "https://admin.googleapis.com/admin/directory/v1"
GOOGLE_SETTINGS = "https://www.googleapis.com/groups/v1/groups"
GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"
GOOGLE_GROUP = "robotics@district.org"
GOOGLE_MEMBER_IDS = {f"1088265634312749{d * 5}" for d in "123456"}
GMAIL = "https://gmail.googleapis.com/gmail/v1"
GMAIL_SCOPE = "https://www.googleapis.com/auth/gmail.readonly"
AUDIT_MAILBOX = "groups-audit@district.org"
GMAIL_MESSAGES = f"{GMAIL}/users/{AUDIT_MAILBOX}/messages"
GOOGLE_GROUPS = {"robotics@district.org", "chess-club@district.org", "esports@district.org"}

GRAPH = "https://graph.microsoft.com/v1.0"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
GRAPH_TOKEN = f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
TEAM = "02bd9fd6-8f93-4758-87c3-1fb73740a315"
CHANNEL = "19:561fbdbbfca848a484f0a6f00ce9dbbd@thread.tacv2"
GRAPH_MEMBER_IDS = {
    "8ea0e38b-efb3-4757-924a-5f94061cf8c2",
    "5c3a1b2d-0f4e-4c6a-9b8d-7e6f5a4b3c2d",
    "b7e1c2d3-4a5b-4c6d-8e9f-0a1b2c3d4e5f",
    "c1d2e3f4-5a6b-4c7d-8e9f-a0b1c2d3e4f5",
}
GRAPH_GROUPS = {
    TEAM,
    "4f6a2b8c-1d3e-4a5b-9c7d-2e1f0a9b8c7d",
    "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
}


def load(platform: str, name: str) -> Any:
    """A fixture's parsed JSON (a fresh copy each call, so tests may edit it)."""
    return json.loads((FIXTURES / platform / f"{name}.json").read_text())


def json_response(platform: str, name: str) -> httpx.Response:
    return httpx.Response(200, json=load(platform, name))


def token_responder(platform: str) -> Callable[[httpx.Request], httpx.Response]:
    """Answers each token request with a new access token (``...-1``, ``...-2``, ...)."""
    counter = itertools.count(1)

    def answer(request: httpx.Request) -> httpx.Response:
        body = load(platform, "token")
        body["access_token"] = f"{body['access_token']}-{next(counter)}"
        return httpx.Response(200, json=body)

    return answer


def paged(
    platform: str, first: str, second: str, param: str
) -> Callable[[httpx.Request], httpx.Response]:
    """Serves ``first`` until the request carries ``param``, then ``second``."""

    def answer(request: httpx.Request) -> httpx.Response:
        name = second if param in request.url.params else first
        return json_response(platform, name)

    return answer


def gmail_token_responder() -> Callable[[httpx.Request], httpx.Response | None]:
    """Answers token requests whose JWT asks for the Gmail scope (``...GMAIL...-1``, ...);
    returns None for the others, which fall through to the Admin SDK token route."""
    counter = itertools.count(1)

    def answer(request: httpx.Request) -> httpx.Response | None:
        form = dict(httpx.QueryParams(request.content.decode()))
        claims = jwt.decode(form.get("assertion", ""), verify=False)
        if claims.get("scope") != GMAIL_SCOPE:
            return None
        body = load("google", "gmail-token")
        body["access_token"] = f"{body['access_token']}-{next(counter)}"
        return httpx.Response(200, json=body)

    return answer


def google_error(status: int, message: str, reason: str, grpc_status: str) -> httpx.Response:
    """An error answer shaped like Google's JSON error body."""
    error = {"code": status, "message": message, "status": grpc_status}
    error["errors"] = [{"message": message, "domain": "global", "reason": reason}]
    return httpx.Response(status, json={"error": error})


def gmail_message(request: httpx.Request) -> httpx.Response:
    """``users.messages.get`` from the ``gmail-message-<id>`` fixtures; 404 for others."""
    ident = request.url.path.rsplit("/", 1)[-1]
    if not (FIXTURES / "google" / f"gmail-message-{ident}.json").exists():
        return google_error(404, "Requested entity was not found.", "notFound", "NOT_FOUND")
    return json_response("google", f"gmail-message-{ident}")


def mock_google(router: respx.MockRouter, prefix: str = "") -> None:
    """Token endpoint (Admin SDK and Gmail tokens apart), group, settings, two pages of
    members, two pages of groups, the audit mailbox's membership and its Gmail messages
    (two pages of the list, then each message); route names start with ``prefix``."""
    g = "google"
    router.post(url__regex=f"^{re.escape(GOOGLE_TOKEN)}$", name=f"{prefix}gmail-token").mock(
        side_effect=gmail_token_responder()
    )
    router.post(GOOGLE_TOKEN, name=f"{prefix}token").mock(side_effect=token_responder(g))
    router.get(f"{GOOGLE_DIRECTORY}/groups/{GOOGLE_GROUP}", name=f"{prefix}group").mock(
        side_effect=lambda r: json_response(g, "group")
    )
    router.get(f"{GOOGLE_SETTINGS}/{GOOGLE_GROUP}", name=f"{prefix}settings").mock(
        side_effect=lambda r: json_response(g, "settings")
    )
    router.get(f"{GOOGLE_DIRECTORY}/groups/{GOOGLE_GROUP}/members", name=f"{prefix}members").mock(
        side_effect=paged(g, "members-1", "members-2", "pageToken")
    )
    router.get(f"{GOOGLE_DIRECTORY}/groups", name=f"{prefix}groups").mock(
        side_effect=paged(g, "groups-1", "groups-2", "pageToken")
    )
    router.get(
        f"{GOOGLE_DIRECTORY}/groups/{GOOGLE_GROUP}/members/{AUDIT_MAILBOX}",
        name=f"{prefix}audit-member",
    ).mock(side_effect=lambda r: json_response(g, "member-audit"))
    router.get(GMAIL_MESSAGES, name=f"{prefix}gmail-list").mock(
        side_effect=paged(g, "gmail-list-1", "gmail-list-2", "pageToken")
    )
    router.get(url__regex=f"^{re.escape(GMAIL_MESSAGES)}/[^/?]+", name=f"{prefix}gmail-get").mock(
        side_effect=gmail_message
    )


def mock_microsoft(router: respx.MockRouter, prefix: str = "") -> None:
    """Token endpoint and every Graph call the connector makes for :data:`TEAM`;
    route names start with ``prefix``."""
    m = "microsoft365"
    router.post(GRAPH_TOKEN, name=f"{prefix}token").mock(side_effect=token_responder(m))
    fixed = {
        "group": f"groups/{TEAM}",
        "owners": f"groups/{TEAM}/owners",
        "group-settings": f"groups/{TEAM}/settings",
        "tenant-settings": "groupSettings",
        "team": f"teams/{TEAM}",
        "channels": f"teams/{TEAM}/channels",
        "messages": f"teams/{TEAM}/channels/{CHANNEL}/messages",
        "replies": f"teams/{TEAM}/channels/{CHANNEL}/messages/1773400000001/replies",
    }
    for name, path in fixed.items():
        router.get(f"{GRAPH}/{path}", name=prefix + name).mock(
            side_effect=lambda r, name=name: json_response(m, name)
        )
    router.get(f"{GRAPH}/groups/{TEAM}/members", name=f"{prefix}members").mock(
        side_effect=paged(m, "members-1", "members-2", "$skiptoken")
    )
    router.get(f"{GRAPH}/groups", name=f"{prefix}groups").mock(
        side_effect=paged(m, "groups-1", "groups-2", "$skiptoken")
    )
    messages = f"{GRAPH}/teams/{TEAM}/channels/{CHANNEL}/messages"
    router.get(f"{messages}/delta", name=f"{prefix}delta").mock(
        side_effect=graph_delta(router, prefix + "messages", f"{messages}/delta")
    )
    router.post(f"{GRAPH}/$batch", name=f"{prefix}batch").mock(side_effect=graph_batch(router))


DELTA_TOKEN = "d2VsbC1rbm93bi1kZWx0YS10b2tlbg"


def graph_delta(
    router: respx.MockRouter, listing: str, url: str
) -> Callable[[httpx.Request], httpx.Response]:
    """``…/messages/delta`` as Graph answers it: without a ``$deltatoken``, the reply
    chains of the route named ``listing`` (whatever it answers now), then an
    ``@odata.deltaLink``; with one, nothing changed (an empty page and a new link).
    Tests put changes in by replacing this route's side effect."""

    def answer(request: httpx.Request) -> httpx.Response:
        link = f"{url}?$deltatoken={DELTA_TOKEN}"
        if "$deltatoken" in request.url.params:
            return httpx.Response(200, json={"value": [], "@odata.deltaLink": link})
        body = router.routes[listing].side_effect(request).json()
        body.pop("@odata.nextLink", None)
        body["@odata.deltaLink"] = link
        return httpx.Response(200, json=body)

    return answer


def graph_batch(router: respx.MockRouter) -> Callable[[httpx.Request], httpx.Response]:
    """``POST /$batch`` as Graph answers it: each request sent to the route that answers
    it alone (so a test's fault on that route shows inside the batch), the answers as
    ``responses`` with ``id``, ``status``, ``headers`` and ``body``, in reverse order
    (Graph promises none)."""

    def answer(request: httpx.Request) -> httpx.Response:
        out = []
        for item in json.loads(request.content)["requests"]:
            sub = httpx.Request(item["method"], f"{GRAPH}{item['url']}", headers=request.headers)
            try:
                got = router.handler(sub)
            except respx.models.AllMockedAssertionError:
                got = httpx.Response(404, json={"error": {"code": "NotFound", "message": "none"}})
            try:
                body = got.json()
            except ValueError:
                body = None
            headers = {k: v for k, v in got.headers.items() if k.lower() == "retry-after"}
            out.append(
                {"id": item["id"], "status": got.status_code, "headers": headers, "body": body}
            )
        return httpx.Response(200, json={"responses": out[::-1]})

    return answer


@cache
def _private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_key_pem() -> bytes:
    """The public half of the test service account's key (to verify its JWTs)."""
    return (
        _private_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def write_service_account_key(path: Path) -> Path:
    """A service-account key file shaped like the one the Cloud console downloads."""
    pem = _private_key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    info = {
        "type": "service_account",
        "project_id": "district-auditor",
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": pem.decode(),
        "client_email": "auditor@district-auditor.iam.gserviceaccount.com",
        "client_id": "104857600000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": GOOGLE_TOKEN,
    }
    path.write_text(json.dumps(info))
    return path
