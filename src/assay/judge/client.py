"""The run's judge: a second :class:`~assay.model.Model` (per judge model name) around a registry provider.

Every judge call — from assay's own judged tasks, from lmms-eval's judge client API, or from an
lmms-eval helper's direct ``requests``/``openai`` call — comes here, so it gets the Model wrapper's
retries (Retry-After first), timeout, concurrency limit, cache and usage accounting, and ends as a
:class:`~assay.judge.outcome.Verdict` or a :class:`~assay.judge.outcome.JudgeFailure`, recorded in the
current sample's judge log. It never raises for a failed judgement.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from assay.errors import AssayError, CredentialError, ProviderAuthError, ProviderError, UsageError
from assay.judge.config import JudgeConfig
from assay.judge.log import JudgeLog, current_judge_log, record
from assay.judge.messages import Prompt, to_messages
from assay.judge.outcome import FAILURE_REASONS, FailureReason, JudgeFailure, JudgeOutcome, Verdict
from assay.model import Model, ModelStats
from assay.model.retry import is_fatal
from assay.types import GenerationParams, Message, Request, Response, Usage

if TYPE_CHECKING:
    from assay.env.settings import Settings
    from assay.judge.parsers import Parser
    from assay.model import ResponseStore
    from assay.model.cost import CostLedger, CostMeter, PriceBook
    from assay.providers import ProviderFactory

log = logging.getLogger("assay.judge")
Sleep = Callable[[float], Awaitable[None]]


class Judge:
    """Judge endpoints by profile (``default``, ``viescore``); each lazily builds one Model per model name."""

    def __init__(
        self,
        settings: Settings,
        configs: Mapping[str, JudgeConfig],
        *,
        cache: ResponseStore | None = None,
        redact: Callable[[str], str] = str,
        sleep: Sleep = asyncio.sleep,
        parse_retries: int = 1,
        ledger: CostLedger | None = None,
        factories: Mapping[str, ProviderFactory] | None = None,
        prices: PriceBook | None = None,
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        #: The run's plan: each profile's provider class and the price table, resolved once in prepare.
        self._factories = dict(factories or {})
        self._prices = prices
        self.configs = dict(configs)
        self.parse_retries = parse_retries
        self._cache = cache
        self._redact = redact
        self._sleep = sleep
        self._models: dict[tuple[str, str], Model] = {}
        self.outcomes: Counter[str] = Counter()  # "verdict" and each failure reason
        #: A failure every further judgement would repeat (a refused key, a wrong address): the run stops.
        self.fatal: ProviderError | None = None
        #: Judgements task code asked for outside any sample or aggregation (doc processing, filters…).
        self.loose = JudgeLog()
        #: Requests made by this judge's copies elsewhere (a cluster's workers), added to :meth:`summary`.
        self.elsewhere = ModelStats()

    # -- models ------------------------------------------------------------------------------------

    def config(self, profile: str = "default") -> JudgeConfig:
        try:
            return self.configs[profile]
        except KeyError:
            raise UsageError(f"no `{profile}` judge is configured for this run",
                             hint="tasks may name the judges `default` and `viescore`") from None

    def model(self, profile: str = "default", requested: str | None = None) -> Model:
        """The Model for one (profile, judge model name), built on first use."""
        from assay.model.foreign import build_provider
        from assay.providers import load_provider_class

        config = self.config(profile)
        name = config.model_for(requested)
        key = (profile, name)
        if key not in self._models:
            factory = self._factories.get(profile) or load_provider_class(config.provider, self.settings)
            provider = build_provider(factory, self.settings, {**config.provider_args, "model": name})
            self._models[key] = Model(provider, config.transport, cache=self._cache, sleep=self._sleep,
                                      meter=self._meter(profile, name, config), give_up=self._unreachable)
        return self._models[key]

    def _meter(self, profile: str, name: str, config: JudgeConfig) -> CostMeter | None:
        """The judge's cost meter in the run's ledger: ``judge`` for the first judge model, then one per
        further model (``judge:viescore:gpt-4o`` …)."""
        if self.ledger is None:
            return None
        from assay.model.cost import PriceBook

        if self._prices is None:  # a judge built outside a run's plan: the table, read once
            self._prices = PriceBook.of(self.settings)
        role = "judge" if "judge" not in self.ledger.meters else f"judge:{profile}:{name}"
        return self.ledger.meter(role, self._prices.price(name, config.price))

    # -- judging -----------------------------------------------------------------------------------

    async def judge(
        self,
        prompt: Prompt,
        parser: Parser | None = None,
        *,
        system: str | None = None,
        model: str | None = None,
        params: GenerationParams | None = None,
        profile: str = "default",
        task: str = "",
        doc_id: int = 0,
    ) -> JudgeOutcome:
        """One judgement. ``parser`` None hands the raw text back (for task code that parses it itself).

        A parse failure is asked once more (``parse_retries``); an answer that reads as a refusal, or a
        provider's content-policy rejection, is ``refused``; a request still failing after the Model's
        retries is ``request_failed``."""
        sample = current_judge_log.get()
        if model is None and sample is not None:
            model = sample.requested_model  # the task's gpt_eval_model_name
        try:
            messages = to_messages(prompt, system)
            config = self.config(profile)
            judge_model = self.model(profile, model)
        except AssayError as exc:
            if isinstance(exc, CredentialError) and self.fatal is None:
                # Task code asked for a judge this run has no credential for (it was not found to judge, or
                # names a judge of its own): refused, never sent elsewhere, and the run stops saying so.
                self.fatal = ProviderAuthError(
                    f"task code called a judge, but no judge is configured for it: {exc.message}",
                    hint="give the run a judge: --judge_model …/--judge_args model=…,base_url=…, or lmms-eval's "
                         "OPENAI_API_KEY / API_TYPE=azure with AZURE_API_KEY and AZURE_ENDPOINT", kind="auth")
                log.error("%s", self._redact(self.fatal.message))
            outcome: JudgeOutcome = JudgeFailure("request_failed", self._redact(exc.message))
            return self._done(hash(str(prompt)), outcome, parser, profile)
        key = hash(messages)
        if self.fatal is not None:
            outcome = JudgeFailure(_failure_reason(self.fatal), f"not sent: the judge failed for good earlier "
                                   f"({self._redact(self.fatal.message)})", model=judge_model.model_name, attempts=0)
        elif sample is not None and sample.request_failed(key):
            # A helper's own retry loop asking again: assay's retries are spent, so do not pay for more.
            outcome = JudgeFailure("request_failed", "not sent again: this prompt's request already failed for "
                                   "good in this sample", model=judge_model.model_name, attempts=0)
        else:
            request = Request(messages, params or config.params, task=task, doc_id=doc_id)
            outcome = await self._ask(judge_model, request, parser, profile)
        return self._done(key, outcome, parser, profile)

    async def _ask(self, model: Model, request: Request, parser: Parser | None, profile: str) -> JudgeOutcome:
        usage = Usage()
        accept = None if parser is None else (lambda r: _parses(parser, r.text))
        failure: JudgeFailure | None = None
        for _ in range(1 + self.parse_retries):
            try:
                response = await model.generate(request, accept=accept)
            except ProviderError as exc:
                self._note_fatal(exc, model, profile)
                reason = _failure_reason(exc)
                return JudgeFailure(reason, self._redact(exc.message), None, usage, model.model_name, exc.attempts)
            usage = usage + response.usage
            failure = _refusal(response, usage, model.model_name)
            if failure is not None:
                return failure
            if parser is None:
                return _verdict(response, response.text, usage, model.model_name)
            # The parsers and their patterns (~2 ms to import) only once a judge has answered.
            from assay.judge.parsers import ParseError, looks_like_refusal

            try:
                return _verdict(response, parser(response.text), usage, model.model_name)
            except ParseError as exc:
                reason = "refused" if looks_like_refusal(response.text) else "parse_failed"
                failure = JudgeFailure(reason, str(exc), response.text, usage, model.model_name, response.attempts)
                if reason == "refused":
                    return failure
                log.debug("judge answer did not parse (%s); asking again", exc)
        assert failure is not None
        return failure

    def _unreachable(self, exc: BaseException) -> bool:
        """A judge that refuses connections or does not answer within its timeout, before any verdict: not
        retried (the run stops within seconds, or within the judge's timeout, with its answers kept)."""
        return (isinstance(exc, ProviderError) and exc.kind in ("connection", "timeout")
                and not self.outcomes.get("verdict"))

    def _note_fatal(self, exc: ProviderError, model: Model, profile: str) -> None:
        if self.fatal is not None:
            return
        if not (is_fatal(exc, any_success=bool(self.outcomes.get("verdict"))) or self._unreachable(exc)):
            return
        self.fatal = exc if exc.kind == "budget" else self._named(exc, model, profile)
        log.error("the judge failed for good (%s): no further judge requests are sent",
                  self._redact(self.fatal.message))

    def _named(self, exc: ProviderError, model: Model, profile: str) -> ProviderError:
        """The failure said as the judge's, with the judge's own settings in the hint (not the model's)."""
        config = self.config(profile)
        where = model.provider.identity().get("base_url")
        what = f"the judge ({config.provider}, model {model.model_name}{f', at {where}' if where else ''})"
        cls = ProviderAuthError if isinstance(exc, ProviderAuthError) else ProviderError
        named = cls(
            f"{what}: {exc.message}",
            hint=f"the judge is set by {config.origin or '--judge_model / --judge_args'}: check --judge_args "
                 "base_url=…,model=…,timeout=… (or OPENAI_API_URL / API_TYPE / AZURE_ENDPOINT for lmms-eval's "
                 "judge variables); `assay doctor` shows what the judge reads",
            kind=exc.kind, status=exc.status, provider=exc.provider, retryable=exc.retryable)
        named.attempts = exc.attempts
        return named

    def _done(self, key: int, outcome: JudgeOutcome, parser: Parser | None, profile: str) -> JudgeOutcome:
        self.outcomes["verdict" if outcome.ok else outcome.reason] += 1  # type: ignore[union-attr]
        record(key, outcome, parsed=parser is not None, profile=profile)
        return outcome

    # -- reporting ---------------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """What results record: each judge's configuration, and totals over all its models."""
        away = self.elsewhere
        requests, retries, failures, hits = away.requests, away.retries, away.failures, away.cache_hits
        usage = away.usage
        models = []
        for (profile, name), model in self._models.items():
            stats = model.stats
            requests, retries = requests + stats.requests, retries + stats.retries
            failures, hits = failures + stats.failures, hits + stats.cache_hits
            usage = usage + stats.usage
            models.append({"profile": profile, "model": name, "identity": model.provider.identity()})
        return {
            "judges": {name: config.describe() for name, config in self.configs.items()},
            "models": models,
            "judgements": self.outcomes.get("verdict", 0) + sum(self.outcomes.get(r, 0) for r in FAILURE_REASONS),
            "verdicts": self.outcomes.get("verdict", 0),
            "failures": {r: self.outcomes[r] for r in FAILURE_REASONS if self.outcomes.get(r)},
            "requests": requests, "retries": retries, "request_failures": failures, "cache_hits": hits,
            "usage": {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens},
        }

    @property
    def first_request_at(self) -> float | None:
        times = [m.stats.first_request_at for m in self._models.values() if m.stats.first_request_at is not None]
        return min(times) if times else None

    async def aclose(self) -> None:
        for model in self._models.values():
            try:
                await model.aclose()
            except Exception:  # closing one judge's session must not keep the others open
                log.debug("closing a judge model failed", exc_info=True)


def _failure_reason(exc: ProviderError) -> FailureReason:
    """Why a request failed for good, as results count it: the cost cap is not the judge's fault."""
    if exc.kind == "content_policy":
        return "refused"
    return "cost_cap" if exc.kind == "budget" else "request_failed"


def _parses(parser: Parser, text: str) -> bool:
    from assay.judge.parsers import ParseError

    try:
        parser(text)
    except ParseError:
        return False
    return True


def _refusal(response: Response, usage: Usage, model: str) -> JudgeFailure | None:
    if response.finish_reason == "content_filter":
        return JudgeFailure("refused", "the judge's answer was withheld by its content filter",
                            response.text, usage, model, response.attempts)
    return None


def _verdict(response: Response, value: Any, usage: Usage, model: str) -> Verdict:
    return Verdict(response.text, value, usage, response.model or model, response.attempts, response.cached)


def messages_key(messages: tuple[Message, ...]) -> int:
    """The identity of a prompt within one sample's log (a retry of the same prompt has the same key)."""
    return hash(messages)
