"""An SMTP session (smtplib): plain, STARTTLS or implicit TLS, login with credentials read
from the environment variables that ``[email]`` names, and a verdict on each failure:
transient (4xx, dropped connection: worth retrying) or permanent (5xx, bad certificate)."""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from email.message import EmailMessage
from types import TracebackType

from auditor.config import Config, EmailConfig
from auditor.errors import ConfigError
from auditor.logs import redact, register_secret

log = logging.getLogger(__name__)

TIMEOUT_S = 30.0


class SmtpUnavailable(Exception):
    """The server could not be reached, or refused the session itself (TLS, login)."""

    def __init__(self, message: str, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


def sender(config: Config) -> str:
    """The From address; sending without one is a configuration error naming the key."""
    if config.email.from_ is None:
        raise ConfigError(f"{config.source}: email.from: not set, so no email can be sent")
    return config.email.from_


def credentials(config: Config) -> tuple[str, str] | None:
    """(username, password) from the variables named by ``*_env``, registered as secrets so
    that no log line shows them; None when no login is configured."""
    cfg = config.email
    if cfg.username_env is None and cfg.password_env is None:
        return None
    values: list[str] = []
    for key, name in (("username_env", cfg.username_env), ("password_env", cfg.password_env)):
        if name is None:
            raise ConfigError(
                f"{config.source}: email.{key}: not set (give both username_env and password_env)"
            )
        value = os.environ.get(name)
        if not value:
            raise ConfigError(
                f"{config.source}: email.{key}: the environment variable it names is not set"
            )
        values.append(value)
    register_secret(values[1])
    return values[0], values[1]


def describe(exc: BaseException) -> str:
    """A one-line, secret-free account of an SMTP failure."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        parts = [f"{code} {_text(msg)}" for code, msg in exc.recipients.values()]
        text = "recipient refused: " + "; ".join(parts)
    elif isinstance(exc, smtplib.SMTPResponseException):
        text = f"{exc.smtp_code} {_text(exc.smtp_error)}"
    else:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return redact(text)


def is_transient(exc: BaseException) -> bool:
    """Whether trying again later may succeed: 4xx replies and dropped connections."""
    if isinstance(exc, SmtpUnavailable):
        return exc.transient
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, ssl.SSLError | smtplib.SMTPNotSupportedError):
        return False
    return isinstance(exc, smtplib.SMTPServerDisconnected | OSError)


class SmtpSession:
    """One connection, opened on first use and reopened after the server drops it."""

    def __init__(self, cfg: EmailConfig, login: tuple[str, str] | None) -> None:
        self.cfg = cfg
        self.login = login
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        """Connect (TLS as configured, certificate verified) and log in."""
        cfg = self.cfg
        context = ssl.create_default_context()
        smtp: smtplib.SMTP | None = None
        try:
            if cfg.tls:
                smtp = smtplib.SMTP_SSL(
                    cfg.smtp_host, cfg.smtp_port, timeout=TIMEOUT_S, context=context
                )
            else:
                smtp = smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=TIMEOUT_S)
                if cfg.starttls:
                    smtp.starttls(context=context)
            if self.login is not None:
                smtp.login(*self.login)
        except (OSError, smtplib.SMTPException) as exc:
            if smtp is not None:
                _quietly_close(smtp)
            where = f"{cfg.smtp_host}:{cfg.smtp_port}"
            raise SmtpUnavailable(
                f"SMTP server {where}: {describe(exc)}", is_transient(exc)
            ) from exc
        return smtp

    def open(self) -> None:
        """Connect and log in now (``check-config --connect``) rather than at the first send."""
        if self._smtp is None:
            self._smtp = self._connect()

    def send(self, msg: EmailMessage) -> None:
        """Send ``msg`` to its To address; raise the server's refusal or a connection error."""
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(msg)
        except (smtplib.SMTPServerDisconnected, OSError):
            self.close()
            raise

    def close(self) -> None:
        """Say QUIT (ignoring a server that is already gone)."""
        if self._smtp is not None:
            _quietly_close(self._smtp)
            self._smtp = None


def _quietly_close(smtp: smtplib.SMTP) -> None:
    """QUIT, or just drop the socket when the server is gone."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _text(value: bytes | str) -> str:
    """A server reply as text."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
