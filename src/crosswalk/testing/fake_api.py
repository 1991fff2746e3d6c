"""A simulated OpenAI-compatible API: a real HTTP server on loopback for tests and benchmarks.

Implements `/v1/chat/completions` (text and image content, `response_format`),
`/v1/embeddings` and `/v1/models`, with per-model profiles: lognormal latency (mean
and p95, plus time per output token), RPM and TPM limits over sliding windows that
answer 429 with OpenAI's headers, fault injection, and a time scale so a 40-minute
workload runs in seconds. All times in a profile are *simulated* seconds; the server
sleeps and windows its limits in real seconds = simulated / time_scale, and reports
real seconds in its headers (what the client actually waits).

Replies: verification verdicts from an oracle (gold labels, with an error rate) or a
deterministic lexical heuristic; embeddings deterministic per input; vision replies
from registered page fixtures. Counters are readable by tests and benchmarks.

Checked first: llmock (PyPI) serves 429s with retry-after and rpm/tpm windows, but in
real wall-clock time only (no time scale), with scripted rather than per-model
latency profiles, and it brings in fastapi and uvicorn; this server is one small aiohttp app.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import math
import random
import re
import threading
from collections import deque
from dataclasses import dataclass, field

import numpy as np
from aiohttp import web

from ..llm.limiter import estimate_tokens

DATA_URL = re.compile(r'data:image/[a-z]+;base64,([A-Za-z0-9+/=]+)')
FENCE = re.compile(r"<document_data>\s*(\{.*\})\s*</document_data>", re.S)
WORD = re.compile(r"[a-z][a-z0-9]+")


@dataclass(frozen=True)
class ModelProfile:
    """Latency and limits of one simulated model (simulated seconds)."""

    latency_mean_s: float
    latency_p95_s: float
    per_output_token_s: float = 0.0
    per_input_item_s: float = 0.0   # embeddings: extra time per input in a batch
    rpm: int = 5000
    tpm: int = 1_000_000
    output_tokens: int = 80         # typical completion length

    def sample_latency(self, rng: random.Random, output_tokens: int, items: int = 1) -> float:
        mean, p95 = self.latency_mean_s, max(self.latency_p95_s, self.latency_mean_s * 1.0001)
        # lognormal with this mean and 95th percentile: solve s²/2 − 1.645 s + ln(p95/mean) = 0
        disc = max(1.645 ** 2 - 2 * math.log(p95 / mean), 0.0)
        sigma = 1.645 - math.sqrt(disc)
        mu = math.log(mean) - sigma ** 2 / 2
        return rng.lognormvariate(mu, sigma) + output_tokens * self.per_output_token_s + items * self.per_input_item_s


@dataclass(frozen=True)
class Faults:
    """Probabilities per request."""

    server_error: float = 0.0   # 500 or 503
    reset: float = 0.0          # connection dropped without a reply
    hang: float = 0.0           # no reply until the client times out
    malformed: float = 0.0      # 200, but the message content is not valid JSON
    length: float = 0.0         # 200, finish_reason "length" and truncated content


@dataclass(frozen=True)
class Profile:
    name: str
    models: dict[str, ModelProfile]
    time_scale: float = 1.0
    faults: Faults = field(default_factory=Faults)
    hang_s: float = 3600.0


# The workload the original design measured, with a mid-tier account's limits. Fixed so that
# benchmark figures stay comparable across changes.
POC_MODELS = {
    "gpt-4.1": ModelProfile(latency_mean_s=5.0, latency_p95_s=8.5, per_output_token_s=0.0, rpm=5000, tpm=450_000),
    "gpt-4.1-mini": ModelProfile(latency_mean_s=2.5, latency_p95_s=4.5, rpm=5000, tpm=2_000_000),
    "gpt-5-nano": ModelProfile(latency_mean_s=53.0, latency_p95_s=80.0, rpm=5000, tpm=2_000_000, output_tokens=1500),
    "text-embedding-3-small": ModelProfile(latency_mean_s=0.048, latency_p95_s=0.08, per_input_item_s=0.0015,
                                           rpm=5000, tpm=1_000_000, output_tokens=0),
}
PROFILES = {
    "poc": Profile("poc", POC_MODELS, time_scale=60.0),  # one simulated minute per real second
    "fast": Profile("fast", {m: ModelProfile(0.02, 0.04, rpm=100_000, tpm=50_000_000) for m in POC_MODELS}, time_scale=1.0),
    "faults": Profile("faults", POC_MODELS, time_scale=60.0,
                      faults=Faults(server_error=0.10, reset=0.0, hang=0.02, malformed=0.02, length=0.01), hang_s=600.0),
    "tight": Profile("tight", {m: ModelProfile(0.2, 0.3, rpm=60, tpm=200_000) for m in POC_MODELS}, time_scale=20.0),
}


@dataclass
class Counters:
    requests: int = 0
    by_model: dict[str, int] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    rate_limited: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    in_flight: int = 0
    max_in_flight: int = 0
    verified_sources: list[str] = field(default_factory=list)


class FakeAPI:
    """The simulated server. `async with FakeAPI(profile) as api:` then use `api.url`."""

    def __init__(self, profile: Profile | str = "fast", *, oracle: dict[str, set[str]] | None = None,
                 oracle_error_rate: float = 0.0, seed: int = 0, api_key: str | None = None,
                 vision_fixtures: dict[str, dict] | None = None):
        self.profile = PROFILES[profile] if isinstance(profile, str) else profile
        self.oracle = oracle
        self.oracle_error_rate = oracle_error_rate
        self.api_key = api_key
        self.vision_fixtures = vision_fixtures or {}
        self.counters = Counters()
        self.seed = seed
        self._rng = random.Random(seed)
        self._windows: dict[str, deque] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle ----------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_get("/_stats", self._stats)  # not OpenAI's: the simulator's counters
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        actual = site._server.sockets[0].getsockname()[1]
        self.url = f"http://{host}:{actual}/v1"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "FakeAPI":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- helpers ------------------------------------------------------------------
    def _real(self, simulated_s: float) -> float:
        return simulated_s / self.profile.time_scale

    def _admit(self, model: str, tokens: int) -> tuple[bool, dict[str, str]]:
        """Sliding windows of one simulated minute: (admitted?, rate-limit headers)."""
        spec = self.profile.models[model]
        window = self._real(60.0)
        now = asyncio.get_running_loop().time()
        q = self._windows.setdefault(model, deque())
        while q and q[0][0] <= now - window:
            q.popleft()
        used_tokens = sum(t for _, t in q)
        ok = len(q) < spec.rpm and used_tokens + tokens <= spec.tpm
        if ok:
            q.append((now, tokens))
        reset = max((q[0][0] + window - now) if q else 0.0, 0.0)
        headers = {
            "x-ratelimit-limit-requests": str(spec.rpm), "x-ratelimit-limit-tokens": str(spec.tpm),
            "x-ratelimit-remaining-requests": str(max(spec.rpm - len(q), 0)),
            "x-ratelimit-remaining-tokens": str(max(spec.tpm - used_tokens - (tokens if ok else 0), 0)),
            "x-ratelimit-reset-requests": f"{reset:.3f}s", "x-ratelimit-reset-tokens": f"{reset:.3f}s",
        }
        if not ok:
            headers["retry-after-ms"] = str(int(reset * 1000) + 1)
            headers["retry-after"] = str(max(1, math.ceil(reset)))
        return ok, headers

    def _error(self, status: int, message: str, kind: str, headers: dict | None = None) -> web.Response:
        return web.json_response({"error": {"message": message, "type": kind}}, status=status, headers=headers)

    def _check(self, request: web.Request, body: dict) -> web.Response | None:
        if self.api_key is not None and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return self._error(401, "Incorrect API key provided.", "invalid_request_error")
        model = body.get("model")
        if model not in self.profile.models:
            return self._error(404, f"The model `{model}` does not exist.", "invalid_request_error")
        return None

    def _count(self, name: str) -> None:
        self.counters.faults[name] = self.counters.faults.get(name, 0) + 1

    async def _fault(self, request: web.Request) -> web.StreamResponse | str | None:
        f, roll = self.profile.faults, self._rng.random()
        for name, p in (("server_error", f.server_error), ("reset", f.reset), ("hang", f.hang),
                        ("malformed", f.malformed), ("length", f.length)):
            if roll < p:
                self._count(name)
                if name == "server_error":
                    return self._error(self._rng.choice([500, 503]), "The server had an error.", "server_error")
                if name == "reset":
                    request.transport.close()
                    return web.Response(status=500)
                if name == "hang":
                    await asyncio.sleep(self.profile.hang_s)
                    return self._error(504, "hung", "server_error")
                return name  # malformed / length: decided when the reply is written
            roll -= p
        return None

    # -- endpoints ----------------------------------------------------------------
    async def _stats(self, request: web.Request) -> web.Response:
        c = self.counters
        return web.json_response({"requests": c.requests, "by_model": c.by_model, "prompt_tokens": c.prompt_tokens,
                                  "completion_tokens": c.completion_tokens, "rate_limited": c.rate_limited,
                                  "faults": c.faults, "max_in_flight": c.max_in_flight,
                                  "time_scale": self.profile.time_scale})

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": m, "object": "model"} for m in self.profile.models]})

    async def _open(self, request: web.Request) -> dict | web.Response:
        """The request body, or the error reply (401, 404) to send instead."""
        body = await request.json()
        problem = self._check(request, body)
        return problem if problem is not None else body

    def _count_and_admit(self, model: str, tokens: int) -> tuple[web.Response | None, dict[str, str]]:
        """Count the request; a 429 reply when it does not fit the model's windows."""
        ok, headers = self._admit(model, tokens)
        self.counters.requests += 1
        self.counters.by_model[model] = self.counters.by_model.get(model, 0) + 1
        if ok:
            return None, headers
        self.counters.rate_limited += 1
        return self._error(429, f"Rate limit reached for {model}.", "requests", headers), headers

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await self._open(request)
        if isinstance(body, web.Response):
            return body
        model = body["model"]
        spec = self.profile.models[model]
        prompt_text = json.dumps(body.get("messages", []))
        images = prompt_text.count('"image_url"')
        prompt_tokens = estimate_tokens(prompt_text) if not images else 1200 * images + estimate_tokens(prompt_text) // 50
        refused, headers = self._count_and_admit(model, prompt_tokens + int(body.get("max_tokens") or spec.output_tokens))
        if refused is not None:
            return refused
        self.counters.in_flight += 1
        self.counters.max_in_flight = max(self.counters.max_in_flight, self.counters.in_flight)
        try:
            fault = await self._fault(request)
            if isinstance(fault, web.StreamResponse):
                return fault
            content = self._vision_reply(body) if images else self._verification_reply(body)
            completion_tokens = max(estimate_tokens(content), spec.output_tokens if images else 1)
            await asyncio.sleep(self._real(spec.sample_latency(self._rng, completion_tokens)))
        finally:
            self.counters.in_flight -= 1
        finish = "stop"
        if fault == "malformed":
            content = content[: len(content) // 2] + " {not json"
        elif fault == "length":
            content, finish = content[: len(content) // 3], "length"
        self.counters.prompt_tokens += prompt_tokens
        self.counters.completion_tokens += completion_tokens
        return web.json_response({
            "id": f"chatcmpl-{self.counters.requests}", "object": "chat.completion", "model": model,
            "choices": [{"index": 0, "finish_reason": finish, "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }, headers=headers)

    async def _embeddings(self, request: web.Request) -> web.Response:
        body = await self._open(request)
        if isinstance(body, web.Response):
            return body
        model = body["model"]
        inputs = body.get("input") or []
        inputs = [inputs] if isinstance(inputs, str) else inputs
        tokens = sum(estimate_tokens(t) for t in inputs)
        refused, headers = self._count_and_admit(model, tokens)
        if refused is not None:
            return refused
        spec = self.profile.models[model]
        await asyncio.sleep(self._real(spec.sample_latency(self._rng, 0, len(inputs))))
        self.counters.prompt_tokens += tokens
        return web.json_response({
            "object": "list", "model": model,
            "data": [{"object": "embedding", "index": i, "embedding": fake_embedding(t)} for i, t in enumerate(inputs)],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }, headers=headers)

    # -- replies --------------------------------------------------------------------
    def _verification_reply(self, body: dict) -> str:
        user = next((m["content"] for m in reversed(body.get("messages", [])) if m.get("role") == "user"), "")
        match = FENCE.search(user if isinstance(user, str) else json.dumps(user))
        if not match:
            return json.dumps({"matches": [], "variance_type": "none", "impact": "none", "confidence": 0.5,
                               "reasoning": "no document data"})
        data = json.loads(match.group(1))
        source, candidates = data["source"], data["candidates"]
        self.counters.verified_sources.append(source["id"])
        chosen = self._oracle_choice(source["id"], candidates)
        if chosen is None:
            chosen = _heuristic_choice(source["text"], candidates)
        return json.dumps({
            "matches": [{"candidate": n, "relation": "equivalent"} for n in chosen],
            "variance_type": "administrative" if chosen else "none", "impact": "low" if chosen else "none",
            "confidence": 0.9 if chosen else 0.8,
            "reasoning": "simulated verdict" + (f": candidates {chosen}" if chosen else ": no counterpart"),
        })

    def _oracle_choice(self, source_id: str, candidates: list[dict]) -> list[int] | None:
        if self.oracle is None or source_id not in self.oracle:
            return None
        right = [c["n"] for c in candidates if c["id"] in self.oracle[source_id]]
        # A wrong verdict, on purpose, for a fixed share of source items: which items is drawn from the
        # seed and the item, not from the order calls arrive in, so two verify modes (or two runs)
        # are wrong about the same items, as a real model is about the hard ones, and their F1s
        # differ only by what the modes do.
        rng = random.Random(f"{self.seed}:{source_id}")
        if rng.random() < self.oracle_error_rate:
            wrong = sorted(c["n"] for c in candidates if c["n"] not in right)
            return [rng.choice(wrong)] if wrong and right else ([] if right else wrong[:1])
        return right

    def _vision_reply(self, body: dict) -> str:
        """The fixture registered for this page image (by its base64 payload or its sha256), else no records.

        A fixture {"by_model": {model: reply}} answers per model (a weak model's broken reply, a
        stronger one's good reply); a reply that is a string is sent as it is (malformed output)."""
        match = DATA_URL.search(json.dumps(body.get("messages", [])))
        fixture = None
        if match:  # keyed by the base64 payload, or by "sha256:" + the image's digest (smaller fixture files)
            fixture = self.vision_fixtures.get(match.group(1))
            if fixture is None:
                digest = hashlib.sha256(base64.b64decode(match.group(1))).hexdigest()
                fixture = self.vision_fixtures.get(f"sha256:{digest}")
        if isinstance(fixture, dict) and "by_model" in fixture:
            fixture = fixture["by_model"].get(body.get("model"), {"records": []})
        if isinstance(fixture, str):
            return fixture
        return json.dumps(fixture if fixture is not None else {"records": []})


def _heuristic_choice(source_text: str, candidates: list[dict]) -> list[int]:
    words = set(WORD.findall(source_text.lower()))
    scored = []
    for c in candidates:
        other = set(WORD.findall(c["text"].lower()))
        scored.append((len(words & other) / max(len(words | other), 1), c["n"]))
    best = max(scored, default=(0.0, 0))
    return [best[1]] if best[0] >= 0.2 else []


def fake_embedding(text: str, dim: int = 256) -> list[float]:
    """Deterministic per input: the same text always gets the same unit vector."""
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
    v = np.random.default_rng(seed).standard_normal(dim)
    return (v / np.linalg.norm(v)).round(6).tolist()


class FakeAPIProcess:
    """`crosswalk fake-api` in its own process: on a 2-core machine the simulator then does not
    steal the client's CPU, which would otherwise show up as latency in time-scaled benchmarks."""

    def __init__(self, profile: str, *, time_scale: float | None = None, oracle: str | None = None,
                 oracle_error_rate: float = 0.0, seed: int = 0, vision_fixtures: str | None = None):
        self.args = ["fake-api", "--profile", profile, "--seed", str(seed)]
        if vision_fixtures:
            self.args += ["--vision-fixtures", vision_fixtures]
        if time_scale:
            self.args += ["--time-scale", str(time_scale)]
        if oracle:
            self.args += ["--oracle", oracle, "--oracle-error-rate", str(oracle_error_rate)]
        self.url = ""
        self._proc = None

    def __enter__(self) -> "FakeAPIProcess":
        import subprocess
        import sys

        self._proc = subprocess.Popen([sys.executable, "-m", "crosswalk", *self.args], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
        self.url = self._proc.stdout.readline().strip()
        if not self.url.startswith("http://127."):
            self._proc.kill()
            raise RuntimeError(f"fake-api did not start: {self._proc.stderr.read()[:500]}")
        return self

    def stats(self) -> dict:
        import urllib.request

        with urllib.request.urlopen(self.url.rsplit("/v1", 1)[0] + "/_stats", timeout=10) as reply:
            return json.loads(reply.read())

    def __exit__(self, *exc: object) -> None:
        self._proc.terminate()
        try:
            self._proc.wait(10)
        except Exception:
            self._proc.kill()


class FakeAPIThread:
    """The server on its own event loop in a background thread (for synchronous callers and subprocess tests)."""

    def __init__(self, api: FakeAPI):
        self.api = api
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> FakeAPI:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.api.start(), self._loop).result(10)
        return self.api

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.api.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
