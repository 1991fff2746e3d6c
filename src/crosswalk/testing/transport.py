"""The simulated API without a server: an httpx transport that hands each request to a `FakeAPI`'s
handlers on the caller's event loop. For unit tests where the client's logic is under test and a
socket is not (`FakeAPI.start()` serves the same handlers over real HTTP when it is).

    api = FakeAPI("fast")
    async with LLMClient("http://simulated/v1", transport=InProcessTransport(api), ...) as client: ...
"""

from __future__ import annotations

import json

import httpx

from .fake_api import FakeAPI


class _Request:
    """What the handlers read of an aiohttp request: headers, the JSON body, and the connection
    (the simulated "reset" fault closes it)."""

    def __init__(self, headers: httpx.Headers, body: bytes):
        self.headers = headers
        self._body = body
        self.closed = False
        self.transport = self

    async def json(self):
        return json.loads(self._body or b"null")

    def close(self) -> None:
        self.closed = True


class InProcessTransport(httpx.AsyncBaseTransport):
    def __init__(self, api: FakeAPI):
        self.api = api
        self.routes = {("GET", "/v1/models"): api._models, ("POST", "/v1/chat/completions"): api._chat,
                       ("POST", "/v1/embeddings"): api._embeddings, ("GET", "/_stats"): api._stats}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        handler = self.routes.get((request.method, request.url.path))
        if handler is None:
            return httpx.Response(404, json={"error": {"message": f"no route {request.url.path}",
                                                       "type": "invalid_request_error"}})
        fake = _Request(request.headers, await request.aread())
        reply = await handler(fake)
        if fake.closed:
            raise httpx.RemoteProtocolError("the simulated server dropped the connection", request=request)
        return httpx.Response(reply.status, headers=dict(reply.headers), content=reply.body, request=request)
