"""A mocked Google Workspace for running the ``google-groups`` connector without Google:
for scripts (e.g. the one producing the sample district's snapshot) and tests.

Use it as::

    with respx.mock() as router:
        mock_google_groups(router)
        os.environ.update(ENV)
        connector = GoogleGroupsConnector("workspace", GoogleGroupsSettings(**SETTINGS))
        snapshot = await connector.fetch_page(PAGES[0])

The page is the DHS Robotics club (robotics@district.org): teacher owner Olivia Owner
(owner@district.org), supervisor Sam Supervisor (boss@district.org, a manager), students
Ana B. and Ben C. (students.district.org), a parent (parent.d@gmail.com) and the audit
mailbox. Its seven posts of November 2026 (read through the audit mailbox's Gmail) include
the coach's personal Instagram link (DS7) and a student's cell number (DS6); an eighth
message found by the search belongs to another list and is left out.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import respx
from mock_platforms import (
    AUDIT_MAILBOX,
    GMAIL,
    GOOGLE_DIRECTORY,
    GOOGLE_GROUP,
    GOOGLE_SETTINGS,
    GOOGLE_TOKEN,
    mock_google,
    write_service_account_key,
)

from auditor.connectors.base import PageRef

KEY_FILE = write_service_account_key(
    Path(tempfile.mkdtemp(prefix="page-auditor-google-mock-")) / "service-account.json"
)
"""A throwaway service-account key (the mocked token endpoint accepts any signature)."""

ENV: dict[str, str] = {"GOOGLE_SA_KEY_FILE": str(KEY_FILE)}
"""Environment the connector reads: the variable naming the key file."""

SETTINGS: dict[str, str] = {
    "credentials_file_env": "GOOGLE_SA_KEY_FILE",
    "delegated_admin": "it-admin@district.org",
    "audit_mailbox": AUDIT_MAILBOX,
    "base_url": GOOGLE_DIRECTORY,
    "settings_url": GOOGLE_SETTINGS,
    "gmail_url": GMAIL,
    "token_url": GOOGLE_TOKEN,
}
"""The ``[[connectors]]`` settings (besides ``name`` and ``type = "google-groups"``)."""

PAGES: list[PageRef] = [PageRef("robotics", GOOGLE_GROUP, "DHS Robotics")]
"""The pages the mock answers for."""

OWNER = "owner@district.org"
SUPERVISOR = "boss@district.org"


def mock_google_groups(router: respx.MockRouter) -> None:
    """Register the named routes answering like Google does for :data:`PAGES`: token
    endpoint (Admin SDK and Gmail tokens apart), Directory, Groups Settings and Gmail."""
    mock_google(router)
