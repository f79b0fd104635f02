"""The WeChat API stand-in on 127.0.0.1 and clients pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from bot.channels.wechat.api import WeChatApi
from models.ephemeral import EphemeralStore
from tests.e2e.wechat_stub import WeChatStub

APP_ID = "wx0123456789abcdef"
SECRET = "test-secret-do-not-log"
MEMBER = "oMember0123456789abcdefghij"

MakeApi = Callable[..., WeChatApi]


@pytest.fixture
async def stub() -> AsyncIterator[WeChatStub]:
    async with WeChatStub(app_id=APP_ID, secret=SECRET) as server:
        yield server


@pytest.fixture
async def make_api(stub: WeChatStub, store: EphemeralStore) -> AsyncIterator[MakeApi]:
    """New clients on one store, as several processes would be; all closed at the end."""
    made: list[WeChatApi] = []

    def make(**overrides: object) -> WeChatApi:
        options: dict[str, object] = {"app_id": APP_ID, "secret": SECRET, "store": store, "api_url": stub.url}
        options.update(overrides)
        api = WeChatApi(**options)  # type: ignore[arg-type]
        made.append(api)
        return api

    yield make
    for api in made:
        await api.aclose()


@pytest.fixture
def api(make_api: MakeApi) -> WeChatApi:
    return make_api()
