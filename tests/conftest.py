"""Shared fixtures. Tests never touch the network; the shared corpus is optional."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "src" / "crosswalk" / "examples"
SHARED = Path(os.environ.get("CROSSWALK_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus" / "relius-to-ascensus"


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not present at {CORPUS}")
    return CORPUS


@pytest.fixture(scope="session")
def session_store_path(tmp_path_factory) -> Path:
    """One store for the session, so the local model embeds each text once across tests."""
    return tmp_path_factory.mktemp("store") / "store.sqlite"


@contextlib.asynccontextmanager
async def chat_server(handler):
    """A real aiohttp server on 127.0.0.1 answering /v1/chat/completions with `handler`; yields its base URL."""
    from aiohttp import web

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/v1"
    finally:
        await runner.cleanup()
