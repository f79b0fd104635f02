"""Signed download links: only our exports, only while the link lasts, never a forged or widened one."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
import pytest
import time_machine

from bot.file_links import FileLinks, link_key
from bot.http_server import build_http_app, content_disposition, files_route
from bot.settings import SettingsError, load_settings
from handlers.core.workbook import MIME_TYPE

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
KEY = link_key(b"d" * 32)
PUBLIC = "https://union.example.org"
NAME = "建议统计-2026Q4.xlsx"
CONTENT = b"PK\x03\x04 a workbook"


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "figures-1.xlsx").write_bytes(CONTENT)
    return folder


@pytest.fixture
def links(exports: Path) -> FileLinks:
    return FileLinks(key=KEY, folder=exports, public_url=PUBLIC, minutes=30)


def token_of(url: str) -> str:
    path = urlsplit(url).path
    assert path.startswith("/files/")
    return path.removeprefix("/files/")


def forge(relative: str, *, key: bytes = KEY, exports: Path) -> str:
    """A token signed with ``key`` for any path: what an attacker holding a key could make."""
    return FileLinks(key=key, folder=exports, public_url=PUBLIC).token(relative, NAME, MIME_TYPE)


async def get(links: FileLinks, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=build_http_app([files_route(links)]))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        return await http.get(path)


# -- the token ------------------------------------------------------------------------------------


def test_a_link_opens_to_the_file_with_its_name_and_type(links: FileLinks, exports: Path) -> None:
    url = links.url(exports / "figures-1.xlsx", NAME, MIME_TYPE)
    assert url is not None
    assert url.startswith(f"{PUBLIC}/files/")
    download = links.open(token_of(url))
    assert download is not None
    assert download.path == (exports / "figures-1.xlsx").resolve()
    assert (download.name, download.mime_type, download.relative) == (NAME, MIME_TYPE, "figures-1.xlsx")


def test_a_link_lasts_its_minutes_and_not_a_second_more(links: FileLinks, exports: Path) -> None:
    with time_machine.travel(NOW, tick=False) as clock:
        url = links.url(exports / "figures-1.xlsx", NAME, MIME_TYPE)
        assert url is not None
        clock.shift(timedelta(minutes=30) - timedelta(seconds=1))
        assert links.open(token_of(url)) is not None
        clock.shift(timedelta(seconds=1))
        assert links.open(token_of(url)) is None


def test_a_file_outside_the_exports_folder_gets_no_link(links: FileLinks, tmp_path: Path) -> None:
    (tmp_path / "secret.db").write_bytes(b"members")
    assert links.url(tmp_path / "secret.db", "secret.db") is None
    assert links.url(tmp_path / "exports" / ".." / "secret.db", "secret.db") is None
    assert links.url(tmp_path / "exports" / "gone.xlsx", NAME) is None


B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.mark.parametrize("where", ["payload", "signature", "spare bits", "joined"])
def test_a_tampered_token_opens_nothing(links: FileLinks, exports: Path, where: str) -> None:
    url = links.url(exports / "figures-1.xlsx", NAME, MIME_TYPE)
    assert url is not None
    body, mac = token_of(url).split(".")
    if where == "payload":  # the same file for a day instead of half an hour
        fields = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        fields[3] += 24 * 3600
        widened = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
        token = base64.urlsafe_b64encode(widened).decode().rstrip("=") + "." + mac
    elif where == "signature":
        token = body + "." + ("A" if mac[0] != "A" else "B") + mac[1:]
    elif where == "spare bits":  # 32 bytes in 43 characters: the last one's two low bits mean nothing
        token = body + "." + mac[:-1] + B64[B64.index(mac[-1]) ^ 1]
    else:
        token = body + mac
    assert links.open(token) is None


def test_a_token_signed_with_another_key_opens_nothing(links: FileLinks, exports: Path) -> None:
    assert links.open(forge("figures-1.xlsx", key=link_key(b"e" * 32), exports=exports)) is None
    assert link_key(b"d" * 32) != b"d" * 32  # links never share the data key itself


@pytest.mark.parametrize(
    "relative", ["../secret.db", "/etc/passwd", "sub/../../secret.db", "..", "", "a\\..\\secret.db"]
)
def test_even_a_signed_path_cannot_leave_the_folder(links: FileLinks, exports: Path, relative: str) -> None:
    (exports.parent / "secret.db").write_bytes(b"members")
    assert links.open(forge(relative, exports=exports)) is None


def test_a_symbolic_link_out_of_the_folder_is_refused(
    links: FileLinks, exports: Path, tmp_path: Path
) -> None:
    (tmp_path / "secret.db").write_bytes(b"members")
    (exports / "report.xlsx").symlink_to(tmp_path / "secret.db")
    assert links.url(exports / "report.xlsx", NAME) is None
    assert links.open(forge("report.xlsx", exports=exports)) is None


def test_a_file_removed_after_signing_opens_nothing(links: FileLinks, exports: Path) -> None:
    url = links.url(exports / "figures-1.xlsx", NAME, MIME_TYPE)
    assert url is not None
    (exports / "figures-1.xlsx").unlink()
    assert links.open(token_of(url)) is None


@pytest.mark.parametrize("token", ["", ".", "a.b.c", "!!!.???", "x" * 5000, "e30.e30"])
def test_nonsense_tokens_open_nothing(links: FileLinks, token: str) -> None:
    assert links.open(token) is None


# -- the route ------------------------------------------------------------------------------------


async def test_the_route_serves_the_bytes_as_an_attachment_with_the_chinese_name(
    links: FileLinks, exports: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = links.url(exports / "figures-1.xlsx", NAME, MIME_TYPE)
    assert url is not None
    with caplog.at_level(logging.INFO, logger="bot.http_server"):
        response = await get(links, urlsplit(url).path)
    assert response.status_code == 200
    assert response.content == CONTENT
    assert response.headers["content-type"] == MIME_TYPE
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="download.xlsx"; ')
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == NAME
    assert "download of figures-1.xlsx" in caplog.text
    assert token_of(url) not in caplog.text


async def test_every_refusal_is_the_same_bare_404(links: FileLinks, exports: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.db").write_bytes(b"members")
    good = links.url(exports / "figures-1.xlsx", NAME, MIME_TYPE)
    assert good is not None
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=31)):
        expired = await get(links, urlsplit(good).path)
    escaped = await get(links, "/files/" + forge("../secret.db", exports=exports))
    last = urlsplit(good).path[-1]  # even the spare bits of the last base64 character count
    tampered = await get(links, urlsplit(good).path[:-1] + ("B" if last == "A" else "A"))
    (exports / "figures-1.xlsx").unlink()
    missing = await get(links, urlsplit(good).path)
    for response in (expired, escaped, tampered, missing):
        assert (response.status_code, response.text) == (404, "not found")
        assert "content-disposition" not in response.headers
    assert b"members" not in escaped.content


def test_an_ascii_name_is_kept_for_old_clients() -> None:
    assert content_disposition("figures 2026.xlsx") == (
        "attachment; filename=\"figures 2026.xlsx\"; filename*=UTF-8''figures%202026.xlsx"
    )
    assert content_disposition('a"b.csv').startswith('attachment; filename="download.csv"')


# -- settings -------------------------------------------------------------------------------------


def test_the_public_url_is_optional_and_https_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.public_url is None
    assert settings.file_link_minutes == 30
    assert str(load_settings(public_url="https://union.example.org/").public_url).startswith(PUBLIC)
    for wrong in ("http://union.example.org", "https://union.example.org/?a=1", "https://u.example.org/#x"):
        with pytest.raises(SettingsError, match="UNIONBOT_PUBLIC_URL"):
            load_settings(public_url=wrong)


@pytest.mark.parametrize("minutes", [0, 1441])
def test_link_minutes_stay_between_a_minute_and_a_day(minutes: int) -> None:
    with pytest.raises(SettingsError, match="UNIONBOT_FILE_LINK_MINUTES"):
        load_settings(file_link_minutes=minutes)
