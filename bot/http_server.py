"""One HTTP server for every webhook (Telegram's and WeChat's) and for download links.

Starlette serves the routes the channels hand it; uvicorn runs it inside the
same event loop as the channels, so a webhook update goes straight onto the
Application's queue without a hop.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.file_links import FileLinks

log = logging.getLogger(__name__)

# A Telegram update is a few kilobytes; anything far larger is not from Telegram.
MAX_UPDATE_BYTES = 1024 * 1024


async def _health(request: Request) -> Response:
    return PlainTextResponse("ok")


def telegram_route(path: str, secret: str, feed: Callable[[dict[str, Any]], Awaitable[None]]) -> Route:
    """The Telegram webhook: check the secret header, queue the update, answer 200 at once.

    Answering fast matters: Telegram waits for our answer before it sends the
    next update of the same chat, and resends on errors (we de-duplicate by
    update_id downstream).
    """

    async def endpoint(request: Request) -> Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("Telegram webhook call with a wrong secret from %s", request.client)
            return PlainTextResponse("forbidden", status_code=403)
        body = await request.body()
        if len(body) > MAX_UPDATE_BYTES:
            return PlainTextResponse("too large", status_code=413)
        try:
            payload = json.loads(body)
        except ValueError:
            return PlainTextResponse("bad request", status_code=400)
        if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
            return PlainTextResponse("bad request", status_code=400)
        await feed(payload)
        return JSONResponse({"ok": True})

    return Route(path, endpoint, methods=["POST"])


FILES_PATH = "/files/{token}"


def files_route(links: FileLinks) -> Route:
    """Signed download links (bot/file_links.py): the files a WeChat chat cannot carry.

    Every refusal (forged, expired, outside the exports folder, gone) is the
    same bare 404, so a caller cannot tell a near miss from nonsense. The token
    is never logged: it is the key to the file while it lasts.
    """

    async def endpoint(request: Request) -> Response:
        download = links.open(request.path_params["token"])
        if download is None:
            return PlainTextResponse("not found", status_code=404, headers=_PRIVATE)
        log.info("download of %s from %s", download.relative, request.client.host if request.client else "?")
        return FileResponse(
            download.path,
            media_type=download.mime_type or "application/octet-stream",
            headers={**_PRIVATE, "Content-Disposition": content_disposition(download.name)},
        )

    return Route(FILES_PATH, endpoint, methods=["GET"])


_PRIVATE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def content_disposition(name: str) -> str:
    """An attachment header every browser reads: RFC 5987 for the real (Chinese) name, ASCII for the rest.

    Old clients that ignore ``filename*`` get a plain ASCII name with the same
    extension instead of mojibake.
    """
    suffix = "".join(ch for ch in PurePosixPath(name).suffix if (ch.isascii() and ch.isalnum()) or ch == ".")
    plain = "".join(ch for ch in name if ch.isascii() and (ch.isalnum() or ch in "-_. "))
    fallback = plain if plain == name and plain.strip(". ") else f"download{suffix}"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def build_http_app(routes: Sequence[Route]) -> Starlette:
    return Starlette(routes=[Route("/healthz", _health), *routes])


class EmbeddedServer(uvicorn.Server):
    """uvicorn inside our own event loop: the process, not uvicorn, owns the signals.

    uvicorn's own handlers would re-raise SIGTERM after its shutdown and kill
    the process before the channels have stopped cleanly.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def make_server(app: Starlette, host: str, port: int) -> EmbeddedServer:
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off", access_log=False)
    return EmbeddedServer(config)
