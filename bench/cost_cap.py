"""The cost cap under pressure: 64 requests in flight, each answer costlier than the one before.

A loopback server answers every request after 20-80 ms with usage that rises request by request (never over
the request's max_tokens). Each trial runs --max_cost's ledger over 600 requests through assay's Model
wrapper at concurrency 64 and records what was spent. Rows, measured in the same run:
  * assay: each attempt holds its worst case (input bound + max_tokens, at the price) until billed;
  * baseline, "running mean": assay before issue 16 — each attempt held the mean cost of the answers so
    far (one attempt at a time until the first cost was known), which rising costs outrun.
The promise: spend <= cap + one request's worst case, in every trial.

    python bench/cost_cap.py [--trials 20] [--concurrency 64] [--requests 600] [--cap 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import random
import statistics
import sys
from typing import Any

from aiohttp import web

MAX_TOKENS = 2000
PRICE_OUT = 1_000.0  # USD per 1M output tokens: one answer costs up to $2
PRICE_IN = 10.0


def make_app(seed: int) -> web.Application:
    counter = itertools.count()
    rng = random.Random(seed)

    async def chat(request: web.Request) -> web.Response:
        body = await request.json()
        n = next(counter)
        await asyncio.sleep(rng.uniform(0.02, 0.08))
        tokens = min(int(body.get("max_tokens") or MAX_TOKENS), 1 + 2 * n)  # costlier and costlier
        return web.json_response({
            "id": "c", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "7"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 12, "completion_tokens": tokens, "total_tokens": 12 + tokens}})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    return app


def mean_estimate_meter(ledger: Any, price: Any) -> Any:
    """The baseline: a meter that reserves the running mean cost (the pre-issue-16 policy)."""
    from assay.model.cost import CostMeter, Reservation, budget_error

    class MeanEstimate(CostMeter):
        calibrating: bool = False

        async def reserve(self, provider: str | None = None, worst: Any = None) -> Reservation:
            while self.answered == 0 and self.calibrating:
                await asyncio.sleep(0.001)
            first = self.answered == 0
            estimate = self.usd / self.answered if self.answered else 0.0
            if self.ledger.exhausted or self.ledger.spent + self.ledger.reserved + estimate > self.ledger.max_cost:
                self.ledger.exhausted = True
                raise budget_error("cost cap reached", provider)
            self.ledger.reserved += estimate
            self.calibrating = self.calibrating or first
            return Reservation(estimate, 0.0)

        def _release(self, reservation: Reservation) -> None:
            self.ledger.reserved = max(0.0, self.ledger.reserved - reservation.amount)
            self.calibrating = False

    meter = MeanEstimate(price, ledger, "model")
    ledger.meters["model"] = meter
    return meter


async def trial(policy: str, seed: int, args: argparse.Namespace) -> tuple[float, float]:
    """(spent, one request's worst case) for one trial."""
    from assay.env.settings import load_settings
    from assay.errors import ProviderError
    from assay.model import Model, ModelConfig
    from assay.model.bounds import worst_case
    from assay.model.cost import CostLedger, Price
    from assay.providers import load_provider_class
    from assay.types import GenerationParams, Message, Request

    runner = web.AppRunner(make_app(seed), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    settings = load_settings(environ={}, discover_dotenv=False)
    provider = load_provider_class("openai_compatible")(
        settings, {"model": "m", "base_url": f"http://127.0.0.1:{port}/v1", "api_key": "sk-bench-0000000000"})
    ledger = CostLedger(args.cap)
    price = Price(PRICE_IN, PRICE_OUT, "m")
    meter = ledger.meter("model", price) if policy == "assay" else mean_estimate_meter(ledger, price)
    model = Model(provider, ModelConfig(max_concurrency=args.concurrency, max_attempts=1), meter=meter)
    request = Request((Message.user("What is 3 + 4? Answer with the number."),),
                      GenerationParams(max_tokens=MAX_TOKENS))

    async def one(i: int) -> None:
        with contextlib.suppress(ProviderError):
            await model.generate(Request(request.messages, request.params, doc_id=i))

    try:
        await asyncio.gather(*(one(i) for i in range(args.requests)))
    finally:
        await model.aclose()
        await runner.cleanup()
    return ledger.spent, price.cost(worst_case(request, provider))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--cap", type=float, default=20.0)
    args = parser.parse_args()
    print(f"cap ${args.cap:g}, {args.requests} requests at concurrency {args.concurrency}, answers costlier "
          f"each time (up to max_tokens {MAX_TOKENS}), {args.trials} trials per row")
    print(f"{'policy':<36} {'spent: min':>11} {'median':>9} {'max':>9} {'cap + worst':>12} {'trials within':>14}")
    for policy, label in (("assay", "assay: worst case held per attempt"),
                          ("baseline", "baseline: running mean (before #16)")):
        spent, worst = [], 0.0
        for seed in range(args.trials):
            s, worst = asyncio.run(trial(policy, seed, args))
            spent.append(s)
        bound = args.cap + worst
        within = sum(1 for s in spent if s <= bound + 1e-9)
        print(f"{label:<36} {min(spent):>11.4f} {statistics.median(spent):>9.4f} {max(spent):>9.4f} "
              f"{bound:>12.4f} {within:>8}/{args.trials}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
