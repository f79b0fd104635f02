"""Keeping secrets and what members type out of every log line, ours and the libraries'.

With ``UNIONBOT_LOG_LEVEL=DEBUG`` python-telegram-bot logs its Bot API URL, which
carries the token (``…/bot<TOKEN>``), every request's parameters and every
update it receives, the text a member typed included (the 工号 and phone digits
at binding, an invite code); a 401 puts the token into the traceback even at
INFO. Turning those loggers down would hide what DEBUG is for, so instead every
record is cleaned before any handler sees it:

- the configured secrets (the Telegram token, the webhook secrets, the WeChat
  token, AppSecret and EncodingAESKey, the data key, the passwords in the
  database, Redis and proxy URLs) wherever they appear, URL-encoded too;
- whatever has their shape although we were not told of it: a Bot API token,
  the password in any ``scheme://user:password@`` URL, an ``access_token=``
  query parameter;
- the text of every message, both ways: the values of ``text``, ``caption``
  and ``phone_number`` in an update or a request's parameters, however they
  are printed (a dict, JSON, a Telegram object's repr), and the ``<Content>``
  of a WeChat message. Spotting only the sensitive words (four digits, a code)
  in free text cannot be done reliably, so the whole text goes.

Why a record factory rather than a filter on a logger or a handler: a logger's
filter does not see the records of its children (``telegram.ext`` logs under
its own names), and a handler's misses every handler added later (a log file,
pytest's capture). The factory makes every record, of every logger, before
any handler; the records it hands out are already clean, their message
formatted and the traceback rendered and cleaned with it.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.settings import Settings

MASK = "***"
# A configured secret shorter than this is not masked word for word (it would cut up every
# log line that holds those letters); in a URL it is masked all the same, by its position.
MIN_SECRET = 4

# A Bot API token: the bot's id, a colon, 35 characters (we allow some slack either way).
_TOKEN = re.compile(r"\b\d{4,}:[A-Za-z0-9_-]{20,}")
# The password in a URL's user information: postgresql://user:password@host, redis://:pw@host.
_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@'\"]*:)[^\s@/'\"]+@")
_ACCESS_TOKEN = re.compile(r"(access_token=)[^&\s'\"]+")
# A quoted string as repr() and JSON print it, escapes included.
_QUOTED = r"(?:'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\")"
# A member's words: a text, a caption, a shared phone number. As a dict or JSON key ('text': '…',
# "text":"…") or a Telegram object's repr (text='…').
_MESSAGE_TEXT = re.compile(r"""((?:['"])?\b(?:text|caption|phone_number)\b(?:['"])?\s*[:=]\s*)""" + _QUOTED)
# A WeChat message's text, in the XML it arrives in.
_WECHAT_CONTENT = re.compile(r"(<Content>).*?(</Content>)", re.DOTALL)

_FORMATTER = logging.Formatter()


class SecretFilter(logging.Filter):
    """Cleans a log record in place (see the module); lets every record through."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets: tuple[str, ...] = ()
        self._literal: re.Pattern[str] | None = None
        self.set_secrets(secrets)

    def set_secrets(self, secrets: Iterable[str]) -> None:
        """The secrets to mask word for word, as given and URL-encoded."""
        forms: set[str] = set()
        for secret in secrets:
            if len(secret) >= MIN_SECRET:
                forms.update({secret, quote(secret, safe="")})
        self.secrets = tuple(sorted(forms, key=len, reverse=True))
        self._literal = re.compile("|".join(map(re.escape, self.secrets))) if self.secrets else None

    def redact(self, text: str) -> str:
        """``text`` with every secret and every member's message text masked."""
        if self._literal is not None:
            text = self._literal.sub(MASK, text)
        text = _TOKEN.sub(MASK, text)
        text = _URL_PASSWORD.sub(rf"\g<1>{MASK}@", text)
        text = _ACCESS_TOKEN.sub(rf"\g<1>{MASK}", text)
        text = _MESSAGE_TEXT.sub(rf"\g<1>'{MASK}'", text)
        return _WECHAT_CONTENT.sub(rf"\g<1>{MASK}\g<2>", text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: keep both, cleaned
            message = f"{record.msg!s} {record.args!r}"
        record.msg = self.redact(message)
        record.args = ()
        if record.exc_info and not record.exc_text:
            # The formatters use this rendering rather than render the traceback again.
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def _password(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return make_url(url).password if "://" in url else None
    except (ArgumentError, ValueError):
        return urlsplit(url).password


def secrets_of(settings: Settings) -> list[str]:
    """Every secret the settings hold, as it could appear in a log line."""
    found: list[str | None] = [
        settings.telegram_token,
        settings.telegram_token.partition(":")[2] if settings.telegram_token else None,
        settings.telegram_webhook_secret,
        settings.webhook_secret if settings.telegram_token else None,
        settings.wechat_token,
        settings.wechat_app_secret,
        settings.wechat_aes_key,
        settings.data_key,
        _password(settings.database_url),
        _password(settings.redis_url),
        urlsplit(settings.telegram_proxy).password if settings.telegram_proxy else None,
    ]
    key_file = settings.data_dir / "data.key"
    if settings.data_key is None and key_file.is_file():  # read, never created here
        found.append(key_file.read_text().strip())
    return [secret for secret in found if secret]


_installed: SecretFilter | None = None


def install(settings: Settings) -> SecretFilter:
    """Clean every log record of this process from now on; again, with these settings' secrets.

    Called once at start (``configure_logging``); calling it again only changes the secrets.
    """
    global _installed
    if _installed is None:
        cleaner = SecretFilter()
        make_record: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

        def clean_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make_record(*args, **kwargs)
            cleaner.filter(record)
            return record

        logging.setLogRecordFactory(clean_record)
        _installed = cleaner
    _installed.set_secrets(secrets_of(settings))
    if not getattr(sys.excepthook, _OURS, False):
        sys.excepthook = _log_uncaught(sys.excepthook)
    if not getattr(threading.excepthook, _OURS, False):
        threading.excepthook = _log_uncaught_in_thread
    return _installed


_OURS = "unionbot_log_safety"
_log = logging.getLogger("unionbot")


def _log_uncaught(
    previous: Callable[[type[BaseException], BaseException, TracebackType | None], Any],
) -> Callable[[type[BaseException], BaseException, TracebackType | None], None]:
    """Uncaught exceptions through logging too, so their tracebacks are cleaned like every record.

    A 401 at start-up (a wrong or revoked token) ends ``run`` with
    python-telegram-bot's ``InvalidToken``, whose message quotes the token;
    Python would print it to stderr as it is.
    """

    def hook(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, error, trace)
            return
        _log.critical("uncaught %s: the process stops", kind.__name__, exc_info=(kind, error, trace))

    setattr(hook, _OURS, True)
    return hook


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None or issubclass(args.exc_type, SystemExit):
        return
    name = args.thread.name if args.thread is not None else "?"
    _log.error(
        "uncaught %s in thread %s",
        args.exc_type.__name__,
        name,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )


setattr(_log_uncaught_in_thread, _OURS, True)
