"""The core in a process of its own: it answers, and a dead core process is replaced."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from bot.app import App
from bot.core_runner import ProcessCore
from bot.settings import load_settings
from handlers.core.messages import Incoming


async def test_the_core_process_answers_and_is_replaced_when_it_dies(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    app = App(settings)
    app.prepare()
    core = ProcessCore(settings, app.catalogues)
    try:
        await core.start()
        [reply] = await core.answer(Incoming("console", "visitor", text="帮助"))
        assert "使用前请先绑定会员身份" in reply.text
        for pid in list(core._pool._processes or {}):
            os.kill(pid, signal.SIGKILL)
        [apology] = await core.answer(Incoming("console", "visitor", text="帮助"))
        assert "抱歉，出了点问题（编号 core-" in apology.text
        [again] = await core.answer(Incoming("console", "visitor", text="帮助"))
        assert "使用前请先绑定会员身份" in again.text
        assert core.cpu_seconds() > 0
    finally:
        await core.close()
