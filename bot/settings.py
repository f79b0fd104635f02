"""Settings, read once from the environment (prefix ``UNIONBOT_``) and from ``.env``.

The core's are here; a feature's own part is its module's ``settings`` (handlers.core.module),
read by :func:`load_settings` at the same time.

Every setting is typed and checked here, so a wrong value stops start-up with
one line naming it, instead of failing later in a member's conversation.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    HttpUrl,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from handlers import modules
from scheduler.jobs import check_schedules

ENV_PREFIX = "UNIONBOT_"
# The proxies every Bot API client we use can speak (socks5h: the proxy resolves the host name).
PROXY_SCHEMES = ("http", "socks5", "socks5h")
PROXY_SHAPE = "http://host:port or socks5://host:port, with user:password@ before the host if it asks for one"
SUPPORTED_LOCALES = ("zh_CN", "zh_TW", "en")


def _no_query(value: HttpUrl) -> HttpUrl:
    if value.query or value.fragment:
        raise ValueError("must be a plain URL without ?query or #fragment")
    return value


RootUrl = Annotated[HttpUrl, AfterValidator(_no_query)]

# The kinds of push a WeChat template message is configured for (README: "Template messages").
PushKind = Literal["notice", "reminder", "status", "digest"]
# What a push can put into a template's fields; the template's own keys (thing1, time2…) map onto these.
TEMPLATE_VALUES = frozenset({"title", "body", "time", "unit"})


class WeChatTemplate(BaseModel):
    """One template message applied for in the WeChat console.

    ``fields`` maps the template's keys to what we fill in, e.g.
    ``{"thing1": "title", "time2": "time"}``; WeChat names the keys, so they come
    from the console, not from us.
    """

    id: str = Field(min_length=1, max_length=128)
    fields: dict[str, str] = Field(min_length=1)

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: dict[str, str]) -> dict[str, str]:
        wrong = sorted(set(value.values()) - TEMPLATE_VALUES)
        if wrong:
            raise ValueError(
                f"template fields can be filled with {', '.join(sorted(TEMPLATE_VALUES))}, not {wrong[0]}"
            )
        return value


def quiet_hours_of(value: str) -> tuple[time, time] | None:
    """ "22:00-07:30" → (22:00, 07:30); None when it is not that shape or both ends are equal."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", value)
    if match is None:
        return None
    hours_a, minutes_a, hours_b, minutes_b = (int(part) for part in match.groups())
    if max(hours_a, hours_b) > 23 or max(minutes_a, minutes_b) > 59:
        return None
    start, end = time(hours_a, minutes_a), time(hours_b, minutes_b)
    return None if start == end else (start, end)


class SettingsError(Exception):
    """A setting has a wrong value; the message is one line naming it."""


class Settings(BaseSettings):
    """The bot's configuration. README.md lists each with its default."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Path("data")
    database_url: str = ""
    redis_url: str | None = None

    telegram_token: str | None = None
    telegram_api_url: RootUrl = HttpUrl("https://api.telegram.org")
    telegram_bot_username: str | None = None
    telegram_webhook_url: RootUrl | None = None
    telegram_webhook_secret: str | None = None
    # Every Bot API request (the channel's and the delivery worker's) goes through this proxy:
    # http://host:port (HTTP CONNECT) or socks5://host:port, with user:password@ when it asks for one.
    # Telegram cannot be reached from mainland China without one.
    telegram_proxy: str | None = None

    wechat_token: str | None = None
    wechat_app_id: str | None = None
    wechat_app_secret: str | None = None
    wechat_aes_key: str | None = None
    wechat_api_url: RootUrl = HttpUrl("https://api.weixin.qq.com")
    wechat_templates: dict[PushKind, WeChatTemplate] = Field(default_factory=dict)
    # WeChat gives up on our answer after 5 s; past this budget the reply goes as a customer-service message.
    wechat_reply_seconds: float = Field(default=4.0, gt=0, le=4.5)

    # Processes the conversation core runs in; 0: one, or one per CPU (up to 4) with PostgreSQL and Redis.
    core_processes: int = Field(default=0, ge=0, le=32)

    # Telegram's speed limits: messages a second for the whole bot, and seconds between two to one chat.
    # The delivery worker keeps them for all workers together (through Redis); each channel process
    # keeps them for its replies. Telegram allows about 30 a second; a bot with paid broadcasts up to 1,000.
    telegram_push_per_second: float = Field(default=30, gt=0, le=1000)
    telegram_push_chat_interval: float = Field(default=1.0, ge=0, le=60)
    # Seconds a push waits for Telegram's answer once sent. Without one in time the push is uncertain
    # (it may have arrived, docs/LIBRARIES.md: TimedOut), so longer means fewer uncertain pushes when
    # Telegram is slow, at the price of a request slot held that long.
    telegram_push_read_timeout: float = Field(default=15.0, gt=0, le=300)
    wechat_push_per_second: float = Field(default=20, gt=0, le=1000)
    # What a 服务号 may send a day (the WeChat console shows the account's own quota); a notice's
    # preview warns when it would go over.
    wechat_template_daily_quota: int = Field(default=100_000, ge=0)
    # Pushes that are not urgent wait for the morning; "" turns quiet hours off.
    quiet_hours: str = "22:00-07:30"
    # A push the channel may have accepted just as a worker died: resend (a possible duplicate) or not.
    resend_uncertain: bool = False
    delivery_batch: int = Field(default=200, ge=1, le=5000)
    delivery_in_flight: int = Field(default=16, ge=1, le=256)
    # Seconds without a heartbeat (renewed every third of it, in Redis) after which a worker counts as
    # dead and the others take back its pushes. Shorter notices a lost worker sooner; too short, and a
    # worker slowed down (a long pause of its machine) is taken for dead and its pushes on their way
    # turn uncertain although it records them a moment later.
    delivery_heartbeat_ttl: int = Field(default=20, ge=1, le=600)

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=1, le=65535)
    # Where members' phones reach that server; set, a file reply on WeChat becomes a signed download link.
    public_url: RootUrl | None = None
    file_link_minutes: int = Field(default=30, ge=1, le=24 * 60)

    timezone: str = "Asia/Shanghai"
    default_locale: str = "zh_CN"
    data_key: str | None = None
    # Keys values were sealed with before UNIONBOT_DATA_KEY, comma-separated: opened, never sealed with
    # (`python -m bot keys rotate` re-seals everything under the current key; then remove them).
    data_key_old: str | None = None

    dialog_timeout_minutes: int = Field(default=30, ge=1, le=24 * 60)

    # Scheduled jobs (scheduler/: reminders, the monthly call) in `run` and `run --only worker`. Several
    # processes may run them: one computes each run (scheduler/lease.py); false keeps a process out of it.
    scheduler: bool = True
    # When each job runs, by job id, as JSON: {"collect_call": "0 9 2W * *", "collect_again": "off"}.
    # Crontab in the union's time zone; 1W…23W, LW, L2W… in the day field are working days of the month.
    job_schedules: dict[str, str] = Field(default_factory=dict)
    # How late a run the process could not start on time (a busy or suspended machine) still starts.
    job_misfire_hours: float = Field(default=6, gt=0, le=72)
    bind_max_attempts: int = Field(default=3, ge=1, le=20)
    bind_cooldown_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # Bindings per account (and per member) within the window before the next must wait it out.
    bind_max_binds: int = Field(default=5, ge=1, le=100)
    bind_binds_window_hours: int = Field(default=24, ge=1, le=30 * 24)
    invite_ttl_days: int = Field(default=7, ge=1, le=365)
    # `members import` with a 角色 column: keep roles on other units the column does not name.
    roster_keep_other_grants: bool = False
    log_level: str = "INFO"
    # The admin's holidays and make-up days (`python -m bot calendar import`), used ahead of the
    # chinesecalendar package for the years it has; unset: holidays.csv in the data folder.
    holidays_file: Path | None = None

    _policies: dict[type, object] = PrivateAttr(default_factory=dict)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value:
            return value
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(
                "not a database URL; e.g. sqlite:///data/unionbot.db or postgresql://host/db"
            ) from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError("only sqlite:/// and postgresql:// databases are supported")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value or None

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; e.g. Asia/Shanghai") from None
        return value

    @field_validator("default_locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("telegram_webhook_url")
    @classmethod
    def _webhook_url(cls, value: HttpUrl | None) -> HttpUrl | None:
        if value is not None and value.scheme != "https" and value.host not in ("127.0.0.1", "localhost"):
            raise ValueError("Telegram only delivers webhooks to https:// URLs")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: HttpUrl | None) -> HttpUrl | None:
        if value is not None and value.scheme != "https":
            raise ValueError("must be an https:// URL: download links carry the union's files")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
            raise ValueError("1 to 256 characters: letters, digits, _ and - (Telegram's rule)")
        return value or None

    @field_validator("telegram_proxy")
    @classmethod
    def _telegram_proxy(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.scheme.lower() not in PROXY_SCHEMES or not parts.hostname or port is None:
            raise ValueError(PROXY_SHAPE)
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(PROXY_SHAPE)
        return value

    @field_validator("telegram_bot_username")
    @classmethod
    def _bot_username(cls, value: str | None) -> str | None:
        return value.strip().removeprefix("@") if value else None

    @field_validator("wechat_aes_key")
    @classmethod
    def _aes_key(cls, value: str | None) -> str | None:
        if value and len(value) != 43:
            raise ValueError("the EncodingAESKey from the WeChat console has 43 characters")
        return value or None

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        value = value.strip()
        if value and quiet_hours_of(value) is None:
            raise ValueError("HH:MM-HH:MM, e.g. 22:00-07:30, or empty for none")
        return value

    @field_validator("data_key")
    @classmethod
    def _data_key(cls, value: str | None) -> str | None:
        if value:
            _decode_key(value)
        return value or None

    @field_validator("data_key_old")
    @classmethod
    def _data_key_old(cls, value: str | None) -> str | None:
        for part in (value or "").split(","):
            if part.strip():
                _decode_key(part.strip())
        return value or None

    @field_validator("holidays_file", mode="before")
    @classmethod
    def _holidays_file(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @model_validator(mode="after")
    def _core_processes(self) -> Settings:
        # Binding cooldowns and the like live in the store: in-process, several processes would each count.
        if self.core_processes > 1 and (
            self.redis_url is None or self.effective_database_url.startswith("sqlite")
        ):
            raise ValueError(
                f"{ENV_PREFIX}CORE_PROCESSES: more than 1 needs PostgreSQL and {ENV_PREFIX}REDIS_URL"
            )
        return self

    @model_validator(mode="after")
    def _job_schedules(self) -> Settings:
        try:
            check_schedules(self.job_schedules, modules.REGISTRY.jobs, self.zone)
        except ValueError as error:
            raise ValueError(f"{ENV_PREFIX}JOB_SCHEDULES: {error}") from None
        return self

    @model_validator(mode="after")
    def _wechat_complete(self) -> Settings:
        # Without the AppID and secret the webhook could answer but never push or reply late.
        if self.wechat_token:
            for name in ("wechat_app_id", "wechat_app_secret"):
                if not getattr(self, name):
                    raise ValueError(f"{ENV_PREFIX}{name.upper()}: needed with {ENV_PREFIX}WECHAT_TOKEN")
        return self

    @property
    def core_process_count(self) -> int:
        """How many core processes: several need a database and a store they can share."""
        if self.core_processes:
            return self.core_processes
        shared = self.effective_database_url.startswith("postgresql") and self.redis_url is not None
        return min(os.cpu_count() or 1, 4) if shared else 1

    @property
    def quiet_window(self) -> tuple[time, time] | None:
        """Quiet hours as (start, end) wall-clock times in ``zone``; None: none."""
        return quiet_hours_of(self.quiet_hours) if self.quiet_hours else None

    @property
    def policies(self) -> Mapping[type, object]:
        """Each feature module's policy, by its type, from the module's part of the settings."""
        return self._policies

    @property
    def effective_database_url(self) -> str:
        """The configured database, or the embedded SQLite file under the data folder."""
        return self.database_url or f"sqlite:///{self.data_dir / 'unionbot.db'}"

    @property
    def holidays_path(self) -> Path:
        """The admin's holiday calendar: the setting, or holidays.csv in the data folder."""
        return self.holidays_file or self.data_dir / "holidays.csv"

    @property
    def log_path(self) -> Path:
        """Where the terminal chat writes its log, so that no log line lands in the conversation."""
        return self.data_dir / "unionbot.log"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def api_root(self, url: HttpUrl) -> str:
        return str(url).rstrip("/")

    @property
    def webhook_secret(self) -> str:
        """The secret Telegram echoes in every webhook call.

        Derived from the token when not set, so every process behind the
        webhook agrees on it without more configuration.
        """
        if self.telegram_webhook_secret:
            return self.telegram_webhook_secret
        token = (self.telegram_token or "").encode()
        return hmac.new(token, b"unionbot-telegram-webhook", hashlib.sha256).hexdigest()[:48]


def _decode_key(value: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(value.encode())
    except (binascii.Error, ValueError):
        raise ValueError("must be 32 random bytes in URL-safe base64 (44 characters)") from None
    if len(key) != 32:
        raise ValueError("must be 32 random bytes in URL-safe base64 (44 characters)")
    return key


def load_settings(**overrides: object) -> Settings:
    """Read and check the settings.

    Raises:
        SettingsError: one line naming the first wrong setting and why.
    """
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
        # Each feature's own part of the settings (Module.settings), read and checked now too.
        settings._policies = modules.REGISTRY.policies(settings.zone, overrides)
        return settings
    except SourceError as error:  # a structured setting that is not JSON
        field = re.search(r'field "(\w+)"', str(error))
        name = ENV_PREFIX + (field.group(1).upper() if field else "")
        raise SettingsError(f"{name}: must be JSON (see README.md)") from None
    except ValidationError as error:
        first = error.errors()[0]
        reason = str(first["msg"]).removeprefix("Value error, ")
        if not first["loc"]:  # a check across settings: its message names them
            raise SettingsError(reason) from None
        name = ENV_PREFIX + str(first["loc"][0]).upper()
        raise SettingsError(f"{name}: {reason}") from None


def _create_key_file(path: Path) -> None:
    """Write a fresh key to ``path`` unless another process got there first.

    Processes started together (``run`` and its workers) may all find no key. Each writes
    a whole file under a name of its own and links it into place; the link fails if the
    key exists, so exactly one key wins, and nobody ever reads a half-written file.
    """
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)  # the data folder: the key, the database, exports
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process's key won: use that one
            os.link(draft, path)
    finally:
        draft.unlink(missing_ok=True)


def data_key(settings: Settings) -> bytes:
    """The key for sensitive fields: the setting, or one kept in the data folder.

    The embedded default writes a fresh key with owner-only permissions on first
    use; losing it loses what it encrypted, so it is never regenerated over an
    existing file.
    """
    if settings.data_key:
        return _decode_key(settings.data_key)
    path = settings.data_dir / "data.key"
    if not path.exists():
        _create_key_file(path)
    try:
        return _decode_key(path.read_text().strip())
    except ValueError as error:
        raise SettingsError(f"{ENV_PREFIX}DATA_KEY: the key file {path} {error}") from None


def old_data_keys(settings: Settings) -> list[bytes]:
    """The keys of ``UNIONBOT_DATA_KEY_OLD``: still opened while a key rotation runs."""
    return [_decode_key(part.strip()) for part in (settings.data_key_old or "").split(",") if part.strip()]
