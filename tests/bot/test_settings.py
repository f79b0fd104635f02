"""Settings: typed, checked, and a wrong value stops start-up with one line naming it."""

from __future__ import annotations

import multiprocessing
import stat
from datetime import time
from pathlib import Path

import pytest

from bot.cli import main
from bot.delivery.runner import worker_config
from bot.settings import SettingsError, data_key, load_settings
from models.suggestions import SuggestionPolicy


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.effective_database_url == "sqlite:///data/unionbot.db"
    assert settings.redis_url is None
    assert str(settings.telegram_api_url).startswith("https://api.telegram.org")
    assert str(settings.wechat_api_url).startswith("https://api.weixin.qq.com")
    assert settings.timezone == "Asia/Shanghai"
    assert settings.default_locale == "zh_CN"
    assert settings.telegram_token is None
    assert settings.telegram_webhook_url is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TIMEZONE", "Mars/Olympus"),
        ("HTTP_PORT", "70000"),
        ("HTTP_PORT", "eighty"),
        ("DATABASE_URL", "mysql://localhost/x"),
        ("DATABASE_URL", "not a url"),
        ("REDIS_URL", "localhost:6379"),
        ("DEFAULT_LOCALE", "fr"),
        ("DATA_KEY", "too-short"),
        ("WECHAT_AES_KEY", "abc"),
        ("TELEGRAM_API_URL", "ftp://example"),
        ("TELEGRAM_API_URL", "https://api.example/?x=1"),
        ("TELEGRAM_WEBHOOK_URL", "http://union.example.org/telegram"),
        ("TELEGRAM_WEBHOOK_SECRET", "not a secret!"),
        ("LOG_LEVEL", "LOUD"),
        ("WECHAT_TEMPLATES", "not json"),
        ("WECHAT_TEMPLATES", '{"birthday": {"id": "T1", "fields": {"thing1": "title"}}}'),
        ("WECHAT_TEMPLATES", '{"notice": {"id": "T1", "fields": {"thing1": "salary"}}}'),
        ("WECHAT_TEMPLATES", '{"notice": {"id": "T1", "fields": {}}}'),
        ("WECHAT_REPLY_SECONDS", "6"),
        ("CORE_PROCESSES", "2"),  # several need PostgreSQL and Redis
        ("QUIET_HOURS", "22-7"),
        ("QUIET_HOURS", "24:00-07:30"),
        ("QUIET_HOURS", "22:00-22:00"),
        ("TELEGRAM_PUSH_PER_SECOND", "0"),
        ("TELEGRAM_PUSH_READ_TIMEOUT", "0"),
        ("TELEGRAM_PUSH_READ_TIMEOUT", "soon"),
        ("DELIVERY_HEARTBEAT_TTL", "0"),
        ("DELIVERY_HEARTBEAT_TTL", "1.5"),  # whole seconds: what Redis expires keys by
        ("SUGGESTION_CATEGORIES", "安全生产、安全生产"),
        ("SUGGESTION_CATEGORIES", "一个非常非常非常非常非常非常长的建议类别名称"),
        ("SUGGESTION_REGISTER_DAYS", "0"),
        ("SUGGESTION_DECIDE_DAYS", "fifteen"),
    ],
)
def test_a_wrong_value_names_the_setting(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(f"UNIONBOT_{name}", value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"UNIONBOT_{name}: ")
    assert "\n" not in message


def test_delivery_timings_default_to_the_long_standing_values(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.telegram_push_read_timeout == 15.0
    assert settings.delivery_heartbeat_ttl == 20
    assert worker_config(settings).heartbeat_ttl == 20


def test_the_heartbeat_ttl_reaches_the_worker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The end-to-end tests shorten it so a killed worker is taken over within a test."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("UNIONBOT_DELIVERY_HEARTBEAT_TTL", "3")
    monkeypatch.setenv("UNIONBOT_TELEGRAM_PUSH_READ_TIMEOUT", "2.5")
    settings = load_settings()
    assert worker_config(settings).heartbeat_ttl == 3
    assert settings.telegram_push_read_timeout == 2.5


@pytest.mark.parametrize(
    ("value", "window"),
    [
        ("22:00-07:30", (time(22, 0), time(7, 30))),
        (" 12:00 - 13:30 ", (time(12, 0), time(13, 30))),
        ("", None),
    ],
)
def test_quiet_hours(monkeypatch: pytest.MonkeyPatch, value: str, window: tuple[time, time] | None) -> None:
    monkeypatch.setenv("UNIONBOT_QUIET_HOURS", value)
    assert load_settings().quiet_window == window


def test_wechat_templates_are_read_from_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "UNIONBOT_WECHAT_TEMPLATES",
        '{"notice": {"id": "T-notice", "fields": {"thing1": "title", "time2": "time"}}}',
    )
    templates = load_settings().wechat_templates
    assert templates["notice"].id == "T-notice"
    assert templates["notice"].fields == {"thing1": "title", "time2": "time"}


@pytest.mark.parametrize("missing", ["APP_ID", "APP_SECRET"])
def test_wechat_token_needs_the_app_id_and_secret(monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    monkeypatch.setenv("UNIONBOT_WECHAT_TOKEN", "token")
    for name in ("APP_ID", "APP_SECRET"):
        if name != missing:
            monkeypatch.setenv(f"UNIONBOT_WECHAT_{name}", "x")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value) == f"UNIONBOT_WECHAT_{missing}: needed with UNIONBOT_WECHAT_TOKEN"


def test_start_up_stops_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("UNIONBOT_TIMEZONE", "Nowhere/Land")
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("UNIONBOT_TIMEZONE:")
    assert len(err.splitlines()) == 1


def test_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("UNIONBOT_DEFAULT_LOCALE=en\nUNIONBOT_HTTP_PORT=9090\n")
    settings = load_settings()
    assert settings.default_locale == "en"
    assert settings.http_port == 9090


def test_embedded_data_key_is_created_once_owner_only(data_dir: Path) -> None:
    settings = load_settings(data_dir=data_dir)
    first = data_key(settings)
    path = data_dir / "data.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert data_key(settings) == first
    assert len(first) == 32


def _key_in_a_new_process(data_dir: str) -> bytes:
    return data_key(load_settings(data_dir=Path(data_dir)))


def test_processes_starting_together_share_one_key(data_dir: Path) -> None:
    """``run`` and its workers on a fresh data folder: one key wins, nobody crashes or reads half a file."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(6) as pool:
        keys = pool.map(_key_in_a_new_process, [str(data_dir)] * 12)
    assert len(set(keys)) == 1
    assert data_key(load_settings(data_dir=data_dir)) == keys[0]
    assert [path.name for path in data_dir.iterdir()] == ["data.key"]  # no drafts left behind


def test_run_without_channels_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "UNIONBOT_TELEGRAM_TOKEN" in err
    assert "UNIONBOT_WECHAT_TOKEN" in err
    assert "make demo" in err


def test_suggestion_categories_and_deadlines_come_from_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("UNIONBOT_SUGGESTION_CATEGORIES", "技术革新，安全生产、 职工生活 ")
    monkeypatch.setenv("UNIONBOT_SUGGESTION_DECIDE_DAYS", "10")
    policy = load_settings().policies[SuggestionPolicy]
    assert isinstance(policy, SuggestionPolicy)
    assert policy.categories == ("技术革新", "安全生产", "职工生活")
    assert (policy.register_days, policy.decide_days, policy.implement_days) == (3, 10, 30)
    monkeypatch.delenv("UNIONBOT_SUGGESTION_CATEGORIES")
    fresh = load_settings().policies[SuggestionPolicy]
    assert isinstance(fresh, SuggestionPolicy)
    assert fresh.categories[0] == "生产技术"
