"""``check-config`` names each ``*_env`` variable that is not set; ``--strict`` and the
scheduler's start-up make that an error (a missing secret once surfaced only at send time)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditor.cli import app

EMAIL = """
[email]
from = "auditor@district.org"
username_env = "SMTP_USER_T"
password_env = "SMTP_PASS_T"
"""


def test_unset_variables_are_named_as_warnings(
    make_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTP_USER_T", "auditor")
    monkeypatch.delenv("SMTP_PASS_T", raising=False)
    result = CliRunner().invoke(
        app, ["check-config", "--config", str(make_config({"a": {}}, extra=EMAIL))]
    )
    assert result.exit_code == 0
    assert (
        "warning: " in result.output
        and "email.password_env: the environment variable SMTP_PASS_T is not set" in result.output
    )
    assert "SMTP_USER_T is not set" not in result.output


def test_strict_makes_them_errors(
    make_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMTP_USER_T", raising=False)
    monkeypatch.delenv("SMTP_PASS_T", raising=False)
    config = make_config({"a": {}}, extra=EMAIL)
    result = CliRunner().invoke(app, ["check-config", "--strict", "--config", str(config)])
    assert result.exit_code == 2
    assert result.output.count("is not set") == 2
    monkeypatch.setenv("SMTP_USER_T", "u")
    monkeypatch.setenv("SMTP_PASS_T", "p")
    assert (
        CliRunner().invoke(app, ["check-config", "--strict", "--config", str(config)]).exit_code
        == 0
    )


def test_the_scheduler_does_not_start_without_its_secrets(
    make_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMTP_PASS_T", raising=False)
    monkeypatch.setenv("SMTP_USER_T", "u")
    result = CliRunner().invoke(
        app, ["schedule", "--config", str(make_config({"a": {}}, extra=EMAIL))]
    )
    assert result.exit_code == 2
    assert "email.password_env: the environment variable SMTP_PASS_T is not set" in result.output
