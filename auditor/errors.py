"""Errors that reach the user as one readable line, and the exit codes they map to."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit statuses (reference: README.md, "Exit codes")."""

    OK = 0
    FAILURES = 1
    USAGE = 2
    INCOMPLETE = 3
    LOCKED = 4
    UNDELIVERED = 5  # `digest --send`: some emails could not be delivered (retried next time)


class AuditorError(Exception):
    """An error with a message meant for the person running the auditor."""

    exit_code: ExitCode = ExitCode.USAGE


class ConfigError(AuditorError):
    """The configuration (or a file it names) is wrong; each line names file and key."""

    def __init__(self, lines: list[str] | str) -> None:
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        super().__init__("\n".join(self.lines))


class RunLockedError(AuditorError):
    """Another audit holds the run lock on this database."""

    exit_code = ExitCode.LOCKED


class LeaseLost(RunLockedError):
    """This audit's run lock expired during a stall and another audit took it over."""
