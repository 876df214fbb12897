"""Defect 17 of the hardening issue: registered secrets are redacted in one place for every
log format, tracebacks included (the plain format once printed them in tracebacks)."""

from __future__ import annotations

import json
import logging

import pytest

from auditor.logs import register_secret, setup_logging

SECRET = "tok-9f8e7d6c5b4a39281706"


@pytest.mark.parametrize("fmt", ["plain", "json"])
def test_secrets_are_redacted_in_messages_and_tracebacks(
    fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    register_secret(SECRET)
    setup_logging("info", fmt)  # type: ignore[arg-type]
    log = logging.getLogger("auditor.test")
    log.warning("token is %s", SECRET)
    try:
        raise RuntimeError(f"the server refused {SECRET}")
    except RuntimeError:
        log.exception("request failed")
    err = capsys.readouterr().err
    assert SECRET not in err
    assert err.count("***") >= 2
    assert "RuntimeError: the server refused ***" in (
        err
        if fmt == "plain"
        else "".join(json.loads(line).get("exception", "") for line in err.splitlines())
    )
