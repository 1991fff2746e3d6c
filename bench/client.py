"""The LLM client alone at the rate-limit bound: a burst of calls against the simulator in real time.

    python bench/client.py [--json] [--calls 600] [--pages 328]

Two workloads against a fresh `crosswalk fake-api --profile poc --time-scale 1` (real time:
gpt-4.1 5,000 RPM, 450,000 TPM, ~5 s latency; gpt-5-nano, the vision model, ~53 s latency):
- chat: `--calls` chat calls to gpt-4.1, each with a ~5,000-character message and max_tokens 200;
- vision: `--pages` page-image calls to gpt-5-nano (one image each, max_tokens 1,500).
For each it prints wall_s; bound_s, the sliding-window bound (the first minute's budget at once,
each further minute's a minute later, plus the model's mean latency); bound_longest_s, the same with
the longest reply this run drew instead of the mean (no client can beat that floor on this draw);
their ratios; requests, rate_limited (429s), failed, and the client's CPU seconds. Figures are
printed, never asserted; the simulator runs in its own process so it does not steal the client's CPU.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import random
import sys
import time

from common import parse_args  # noqa: E402  (sets up the path and offline mode)

from crosswalk.testing.fake_api import PROFILES, FakeAPIProcess  # noqa: E402
from crosswalk.llm.provider import make_client  # noqa: E402
from crosswalk.settings import load_settings  # noqa: E402

PROFILE = PROFILES["poc"]
CHAT_MODEL, VISION_MODEL = "gpt-4.1", "gpt-5-nano"
PNG = base64.b64encode(bytes.fromhex(  # a 1x1 white PNG: the simulator counts images, not pixels
    "89504e470d0a1a0a0000000d4948445200000001000000010800000000"
    "3a7e9b550000000a49444154789c6360000000020001e221bc330000000049454e44ae426082")).decode()


def chat_messages(n: int, rng: random.Random) -> list[dict]:
    words = ["plan", "participant", "employer", "contribution", "vesting", "distribution", "shall", "the", "of"]
    text = " ".join(rng.choice(words) for _ in range(800))[:5000]
    return [{"role": "user", "content": f"call {n}: {text}"}]


def vision_messages(n: int) -> list[dict]:
    return [{"role": "user", "content": [{"type": "text", "text": f"Transcribe page {n}."},
                                         {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}]}]


def window_bound_s(amount: float, per_minute: float, latency_s: float) -> float:
    windows = max(1, math.ceil(amount / per_minute))
    return (windows - 1) * 60.0 + latency_s


async def workload(url: str, model: str, messages: list[list[dict]], max_tokens: int) -> dict:
    settings = load_settings({"llm_base_url": url, "verifier": "llm"})
    failed = 0
    cpu0, t0 = time.process_time(), time.perf_counter()
    async with make_client(settings) as client:
        async def one(m: list[dict]) -> None:
            nonlocal failed
            try:
                await client.chat(model, m, max_tokens=max_tokens, operation=model)
            except Exception:  # counted, not raised: the benchmark reports failures
                failed += 1
        await asyncio.gather(*(one(m) for m in messages))
        wall = time.perf_counter() - t0
        usage = client.usage[model]
        limiter = client.limiter(model)
    cpu = time.process_time() - cpu0
    spec = PROFILE.models[model]
    # what the simulator counts against TPM: the prompt estimate plus max_tokens, per admitted call
    counted = usage.prompt_tokens + max_tokens * usage.succeeded
    bound = max(window_bound_s(counted, spec.tpm, spec.latency_mean_s),
                window_bound_s(usage.succeeded, spec.rpm, spec.latency_mean_s))
    longest = max(window_bound_s(counted, spec.tpm, usage.max_latency_s),
                  window_bound_s(usage.succeeded, spec.rpm, usage.max_latency_s))
    return {"model": model, "calls": len(messages), "wall_s": round(wall, 1), "bound_s": round(bound, 1),
            "ratio": round(wall / bound, 3), "bound_longest_s": round(longest, 1),
            "ratio_longest": round(wall / longest, 3), "requests": usage.calls, "rate_limited": usage.rate_limited,
            "failed": failed, "cpu_s": round(cpu, 2), "tokens_counted": counted,
            "max_in_flight": limiter.stats.max_in_flight, "longest_reply_s": round(usage.max_latency_s, 1)}


def main() -> int:
    args = parse_args(__doc__, ("--calls", {"type": int, "default": 600}), ("--pages", {"type": int, "default": 328}))
    rng = random.Random(0)
    results = []
    for model, messages, max_tokens in ((CHAT_MODEL, [chat_messages(n, rng) for n in range(args.calls)], 200),
                                        (VISION_MODEL, [vision_messages(n) for n in range(args.pages)], 1500)):
        with FakeAPIProcess("poc", time_scale=1.0) as api:  # a fresh server: empty windows
            results.append(asyncio.run(workload(api.url, model, messages, max_tokens)))
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{'model':12} {'calls':>5} {'wall s':>7} {'bound s':>7} {'ratio':>6} {'bound(longest) s':>16} {'ratio':>6} "
          f"{'requests':>8} {'429s':>5} {'failed':>6} {'cpu s':>6} {'in flight':>9}")
    for r in results:
        print(f"{r['model']:12} {r['calls']:>5} {r['wall_s']:>7.1f} {r['bound_s']:>7.1f} {r['ratio']:>6.2f} "
              f"{r['bound_longest_s']:>16.1f} {r['ratio_longest']:>6.2f} {r['requests']:>8} {r['rate_limited']:>5} "
              f"{r['failed']:>6} {r['cpu_s']:>6.2f} {r['max_in_flight']:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
