"""The HTTP server's other doors, fed arbitrary requests: Telegram's webhook and the download links.

Telegram's webhook must queue nothing without the secret header and answer anything malformed with
a 4xx, never a 500 (Telegram retries those); a download link that is not one is a bare 404.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.file_links import FileLinks
from bot.http_server import build_http_app, files_route, telegram_route
from tests.reliability.fuzzing import FUZZ, examples
from tests.reliability.test_fuzz_wechat import Portal

SECRET = "telegram-webhook-secret-0123456789"

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=10,
)
_bodies = st.one_of(
    st.binary(max_size=200),
    _json_values.map(lambda value: json.dumps(value).encode()),
    st.integers().map(lambda n: json.dumps({"update_id": n, "message": {"text": "你好"}}).encode()),
    st.sampled_from([b"", b"{", b'{"update_id": 1.5}', b'{"update_id": "1"}', b"[1]", b"\xff\xfe"]),
)


@pytest.fixture
def portal() -> Iterator[Portal]:
    running = Portal()
    yield running
    running.close()


def test_telegram_s_webhook_queues_only_what_carries_the_secret_and_never_answers_500(
    portal: Portal, tmp_path: Path
) -> None:
    queued: list[dict[str, Any]] = []

    async def feed(update: dict[str, Any]) -> None:
        queued.append(update)

    (tmp_path / "report.xlsx").write_bytes(b"PK")  # a real file, whose forged links must not open it
    links = FileLinks(key=b"k" * 32, folder=tmp_path, public_url="http://127.0.0.1")
    app = build_http_app([telegram_route("/telegram", SECRET, feed), files_route(links)])

    async def connect() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")

    http = portal.call(connect())

    @settings(FUZZ, max_examples=examples(150))
    @given(
        secret=st.one_of(st.none(), st.just(SECRET), st.text(st.characters(codec="ascii"), max_size=40)),
        body=_bodies,
        method=st.sampled_from(["POST", "POST", "GET", "PUT"]),
        token=st.text(st.characters(codec="ascii", exclude_characters="/?#%"), min_size=1, max_size=60),
    )
    def call(secret: str | None, body: bytes, method: str, token: str) -> None:
        headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
        before = len(queued)
        response = portal.call(http.request(method, "/telegram", content=body, headers=headers))
        assert response.status_code < 500, (response.status_code, response.text)
        if secret != SECRET or method != "POST":
            assert response.status_code in (403, 405), response.status_code
            assert len(queued) == before
        elif response.status_code == 200:
            assert isinstance(queued[-1].get("update_id"), int)
        download = portal.call(http.get(f"/files/{quote(token, safe='.-_~')}"))
        assert download.status_code == 404, download.status_code

    try:
        call()
    finally:
        portal.call(http.aclose())
    assert queued, "no well-formed update with the secret was ever queued"
