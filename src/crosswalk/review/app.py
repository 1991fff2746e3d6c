"""`crosswalk review OUT`: a local web app over a finished run (aiohttp, 127.0.0.1 only).

Security, for a tool that shows confidential plan documents in a browser that also visits
other sites:
- it listens on 127.0.0.1 and answers only requests whose Host is 127.0.0.1 or localhost on
  its port (a DNS-rebinding page cannot reach it under another name);
- a random per-session token (`secrets.token_urlsafe`) is in the URL the command prints; every
  request must carry it (`?token=` for the page, its scripts and downloads; the
  `X-Crosswalk-Token` header for the API), compared in constant time. A page on another site
  cannot read it, and cannot send the header without a CORS preflight, which is never granted;
  a POST also needs `Sec-Fetch-Site` and `Origin`, when the browser sends them, to be ours;
- the page builds every element with `textContent` (no HTML from document text) under a CSP
  that allows only this server's own script and style, and never sends the token on (no Referer);
- the browser names items by id only; no file path is taken from it (imports are uploads).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
import tempfile
from importlib import resources
from pathlib import Path

from aiohttp import web

from ..decisions import load_decisions
from ..errors import CrosswalkError
from .session import ReviewSession

TOKEN_HEADER = "X-Crosswalk-Token"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
MAX_UPLOAD = 50 * 1024 * 1024


def _static(name: str) -> str:
    return resources.files("crosswalk.review").joinpath("static", name).read_text(encoding="utf-8")


def make_app(session: ReviewSession, token: str) -> web.Application:
    """The app for one session; `token` must be carried by every request."""
    app = web.Application(middlewares=[_guard], client_max_size=MAX_UPLOAD)
    app["session"], app["token"], app["lock"] = session, token, asyncio.Lock()
    app.router.add_get("/", _page)
    app.router.add_get("/static/{name}", _asset)
    app.router.add_get("/api/state", _state)
    app.router.add_get("/api/queue", _queue)
    app.router.add_get("/api/item", _item)
    app.router.add_get("/api/search", _search)
    app.router.add_post("/api/decide", _decide)
    app.router.add_post("/api/undo", _undo)
    app.router.add_post("/api/recompute", _recompute)
    app.router.add_post("/api/import", _import)
    app.router.add_get("/export/decisions.csv", _export_csv)
    app.router.add_get("/export/workbook.xlsx", _export_workbook)
    return app


@web.middleware
async def _guard(request: web.Request, handler):
    app = request.app
    host = (request.host or "").rsplit(":", 1)[0]
    if host not in ("127.0.0.1", "localhost"):
        return _error(403, "wrong host")
    given = request.headers.get(TOKEN_HEADER) or request.query.get("token", "")
    if not hmac.compare_digest(given.encode(), app["token"].encode()):
        return _error(403, "missing or wrong session token: open the URL `crosswalk review` printed")
    if request.method != "GET":
        site = request.headers.get("Sec-Fetch-Site")
        origin = request.headers.get("Origin")
        if (site and site not in ("same-origin", "none")) or (origin and origin != f"{request.scheme}://{request.host}"):
            return _error(403, "cross-site request refused")
        if TOKEN_HEADER not in request.headers:
            return _error(403, f"the API needs the {TOKEN_HEADER} header")
    try:
        response = await handler(request)
    except CrosswalkError as exc:
        response = _error(400, str(exc))
    response.headers.update(SECURITY_HEADERS)
    return response


def _error(status: int, message: str) -> web.Response:
    response = web.json_response({"error": message}, status=status)
    response.headers.update(SECURITY_HEADERS)
    return response


def _kind(request: web.Request, value: str | None = None) -> str:
    kind = value or request.query.get("kind", "")
    if kind not in request.app["session"].states:
        raise web.HTTPBadRequest(text=json.dumps({"error": f"no {kind!r} crosswalk in this run"}),
                                 content_type="application/json")
    return kind


async def _page(request: web.Request) -> web.Response:
    token = request.app["token"]  # URL-safe base64: safe inside the attribute below
    html = _static("review.html").replace("{{TOKEN}}", token)
    return web.Response(text=html, content_type="text/html")


async def _asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    types = {"review.js": "application/javascript", "review.css": "text/css"}
    if name not in types:  # a fixed list: nothing else on disk is reachable
        raise web.HTTPNotFound()
    return web.Response(text=_static(name), content_type=types[name])


async def _state(request: web.Request) -> web.Response:
    session: ReviewSession = request.app["session"]
    run = session.run.record
    return web.json_response({"run_id": run.get("run_id"), "out": session.run.out.name,
                              "kinds": list(session.states), "progress": session.progress(),
                              "inputs": {k: (v or {}).get("path") for k, v in run.get("inputs", {}).items()}})


async def _queue(request: web.Request) -> web.Response:
    return web.json_response(request.app["session"].queue(_kind(request)))


async def _item(request: web.Request) -> web.Response:
    session: ReviewSession = request.app["session"]
    return web.json_response(session.item(_kind(request), request.query.get("id", "")))


async def _search(request: web.Request) -> web.Response:
    return web.json_response(request.app["session"].search(_kind(request), request.query.get("q", "")[:200]))


async def _body(request: web.Request) -> dict:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest(text='{"error": "the body is not JSON"}', content_type="application/json") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text='{"error": "the body is not an object"}', content_type="application/json")
    return body


async def _decide(request: web.Request) -> web.Response:
    session: ReviewSession = request.app["session"]
    body = await _body(request)
    kind = _kind(request, body.get("kind"))
    target = body.get("target_id") or None
    async with request.app["lock"]:
        session.decide(kind, str(body.get("source_id", "")), str(target) if target else None, str(body.get("note", ""))[:4000])
    return web.json_response({"ok": True, "progress": session.progress()})


async def _undo(request: web.Request) -> web.Response:
    session: ReviewSession = request.app["session"]
    body = await _body(request)
    kind = _kind(request, body.get("kind"))
    async with request.app["lock"]:
        session.undo(kind, str(body.get("source_id", "")))
    return web.json_response({"ok": True, "progress": session.progress()})


async def _recompute(request: web.Request) -> web.Response:
    session: ReviewSession = request.app["session"]
    async with request.app["lock"]:
        summary = await session.recompute()
    return web.json_response({"ok": True, "summary": summary})


async def _import(request: web.Request) -> web.Response:
    """Decisions from an uploaded decisions CSV or filled workbook (its bytes: never a path)."""
    session: ReviewSession = request.app["session"]
    data = await request.read()
    suffix = ".xlsx" if data[:2] == b"PK" else ".csv"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        decisions = load_decisions(path)
    imported = 0
    async with request.app["lock"]:
        for d in decisions.by_source.values():
            kind = session.kind_of(d.source_id)
            if kind is not None:
                session.decide(kind, d.source_id, d.target_id, d.note)
                imported += 1
    return web.json_response({"ok": True, "imported": imported, "progress": session.progress()})


async def _export_csv(request: web.Request) -> web.Response:
    return web.Response(text=request.app["session"].decisions_csv(), content_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="decisions.csv"'})


async def _export_workbook(request: web.Request) -> web.Response:
    session: ReviewSession = request.app["session"]
    async with request.app["lock"]:
        await session.recompute()
    data = (session.run.out / "workbook.xlsx").read_bytes()
    return web.Response(body=data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": 'attachment; filename="workbook.xlsx"'})


async def serve(session: ReviewSession, port: int = 0, on_ready=None) -> None:
    """Serve until cancelled; `on_ready(url)` is called once the port is bound."""
    token = secrets.token_urlsafe(24)
    runner = web.AppRunner(make_app(session, token), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    try:
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]
        if on_ready:
            on_ready(f"http://127.0.0.1:{bound}/?token={token}")
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
