"""Defect 3 of the hardening issue: a secret pasted into a ``*_env`` key is refused
without being echoed, and no message quotes a variable's name back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditor.cli import app

PASTED = "Q7xK9mR2vL8pW3nZ5tY1"


@pytest.mark.parametrize(
    "pasted", [PASTED, "ghpabcdefghijklmnopqrstuvwxyz0123", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"]
)
def test_a_secret_in_an_env_key_is_refused_and_never_echoed(
    make_config: Callable[..., Path], pasted: str
) -> None:
    config = make_config(
        {"a": {}}, extra=f'\n[email]\nusername_env = "SMTP_USER"\npassword_env = "{pasted}"\n'
    )
    result = CliRunner().invoke(app, ["check-config", "--config", str(config)])
    assert result.exit_code == 2
    assert "email.password_env: " in result.output
    assert "not the secret itself" in result.output
    assert pasted not in result.output


@pytest.mark.parametrize("name", ["GRAPH_CLIENT_SECRET", "smtp_password", "M365_SECRET", "TOKEN"])
def test_ordinary_variable_names_are_accepted(make_config: Callable[..., Path], name: str) -> None:
    config = make_config(
        {"a": {}}, extra=f'\n[email]\nusername_env = "SMTP_USER"\npassword_env = "{name}"\n'
    )
    result = CliRunner().invoke(app, ["check-config", "--config", str(config)])
    assert result.exit_code == 0, result.output
