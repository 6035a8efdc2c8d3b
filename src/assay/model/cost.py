"""What a run costs: a small price table, a meter per Model (model under test, judge), a run-wide ledger
with an optional cap (``--max_cost USD``).

The ledger is consulted by the Model wrapper before every attempt (:meth:`CostMeter.reserve`): an attempt
that would take the run's spend over the cap is not sent, and fails with ``ProviderError(kind="budget")``,
which the runner treats as the end of paying. The estimate of an attempt is its meter's running mean
cost per answered attempt; while nothing is known yet, one attempt at a time goes out to learn it.
Attempts in flight hold their estimate, so 64 concurrent requests cannot all slip under the cap at once;
the spend can still end above the cap by however much the in-flight answers cost beyond their estimate.

Prices are USD per million tokens. The built-in table holds list prices of common models (see
:data:`PRICES_AS_OF`); ``ASSAY_PRICES`` (a YAML or JSON file ``{model: {input: …, output: …}}``) adds or
replaces entries, and ``--model_args input_price=…,output_price=…`` prices one run's model. A model is
matched by exact name, else by the longest table name it starts with at a ``-`` boundary
(``gpt-4o-2024-08-06`` → ``gpt-4o``). Cached answers cost nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay.errors import ConfigError, ProviderError
from assay.types import Usage

if TYPE_CHECKING:
    from assay.env.settings import Settings

PRICES_AS_OF = "2025-11"
#: List prices, USD per 1M (input, output) tokens, as the vendors published them around PRICES_AS_OF.
BUILTIN_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00), "gpt-4o-mini": (0.15, 0.60), "gpt-4-turbo": (10.00, 30.00),
    "gpt-4.1": (2.00, 8.00), "gpt-4.1-mini": (0.40, 1.60), "gpt-4.1-nano": (0.10, 0.40),
    "gpt-5": (1.25, 10.00), "gpt-5-mini": (0.25, 2.00), "gpt-5-nano": (0.05, 0.40),
    "o1": (15.00, 60.00), "o3": (2.00, 8.00), "o3-mini": (1.10, 4.40), "o4-mini": (1.10, 4.40),
    "claude-opus-4": (15.00, 75.00), "claude-opus-4-5": (5.00, 25.00), "claude-sonnet-4": (3.00, 15.00),
    "claude-sonnet-4-5": (3.00, 15.00), "claude-3-7-sonnet": (3.00, 15.00), "claude-3-5-sonnet": (3.00, 15.00),
    "claude-haiku-4-5": (1.00, 5.00), "claude-3-5-haiku": (0.80, 4.00), "claude-3-haiku": (0.25, 1.25),
    "gemini-2.5-pro": (1.25, 10.00), "gemini-2.5-flash": (0.30, 2.50), "gemini-2.5-flash-lite": (0.10, 0.40),
    "gemini-2.0-flash": (0.10, 0.40), "gemini-2.0-flash-lite": (0.075, 0.30),
    "gemini-1.5-pro": (1.25, 5.00), "gemini-1.5-flash": (0.075, 0.30),
    "grok-4": (3.00, 15.00), "grok-3": (3.00, 15.00), "grok-3-mini": (0.30, 0.50),
    "grok-2-vision": (2.00, 10.00),
    "gpt-4o-audio-preview": (2.50, 10.00), "gpt-4o-mini-audio-preview": (0.15, 0.60),
}
#: What a batched request costs, as a share of the interactive price.
BATCH_RATE = 0.5
#: Where the vendor prices audio input apart: USD per 1M audio input tokens (the text prices are above).
BUILTIN_AUDIO_PRICES: dict[str, float] = {
    "gpt-4o-audio-preview": 40.00, "gpt-4o-mini-audio-preview": 10.00,
    "gemini-2.5-flash": 1.00, "gemini-2.5-flash-lite": 0.30, "gemini-2.0-flash": 0.70,
    "gemini-2.0-flash-lite": 0.075, "gemini-1.5-flash": 0.075, "gemini-1.5-pro": 1.25, "gemini-2.5-pro": 1.25,
}
#: --model_args keys that price this run's model (USD per 1M tokens).
PRICE_ARGS = ("input_price", "output_price")


@dataclass(frozen=True)
class Price:
    input: float  # USD per 1M input tokens
    output: float  # USD per 1M output tokens
    model: str = ""  # the table entry that matched
    source: str = ""
    audio_input: float | None = None  # USD per 1M audio input tokens, where priced apart (None: as text)

    def cost(self, usage: Usage) -> float:
        audio = usage.audio_input_tokens if self.audio_input is not None else 0
        text = (usage.input_tokens - audio) * self.input + usage.output_tokens * self.output
        return (text + audio * (self.audio_input or 0.0)) / 1_000_000

    def at_batch_rate(self) -> Price:
        """The price of the same tokens through the vendor's batch API (OpenAI, Azure OpenAI, Anthropic and
        Gemini all bill batched requests at half their list price)."""
        return Price(self.input * BATCH_RATE, self.output * BATCH_RATE, self.model,
                     f"{self.source}, batch rate ({BATCH_RATE:.0%})")

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.model, "input_per_mtok": self.input, "output_per_mtok": self.output,
                               "source": self.source}
        if self.audio_input is not None:
            out["audio_input_per_mtok"] = self.audio_input
        return out


def split_price_args(model_args: Mapping[str, Any]) -> tuple[Price | None, dict[str, Any]]:
    """(the price given in --model_args, the other arguments)."""
    rest = {k: v for k, v in model_args.items() if k not in PRICE_ARGS}
    given = {k: model_args[k] for k in PRICE_ARGS if k in model_args}
    if not given:
        return None, rest
    if len(given) != len(PRICE_ARGS):
        raise ConfigError("--model_args input_price and output_price go together",
                          hint="give both, in USD per million tokens, e.g. input_price=2.5,output_price=10")
    try:
        values = [float(given[k]) for k in PRICE_ARGS]
    except (TypeError, ValueError):
        raise ConfigError("--model_args input_price/output_price must be numbers (USD per million tokens)",
                          hint="e.g. input_price=2.5,output_price=10") from None
    if min(values) < 0:
        raise ConfigError("--model_args input_price/output_price cannot be negative", hint="e.g. input_price=2.5")
    return Price(values[0], values[1], source="--model_args"), rest


def price_table(settings: Settings | None) -> dict[str, Price]:
    """The built-in table with ``ASSAY_PRICES`` on top."""
    table = {m: Price(i, o, m, f"built-in table ({PRICES_AS_OF})", BUILTIN_AUDIO_PRICES.get(m))
             for m, (i, o) in BUILTIN_PRICES.items()}
    path = settings.prices if settings is not None else None
    if path is not None:
        table.update(_read_prices(Path(path)))
    return table


def _read_prices(path: Path) -> dict[str, Price]:
    import yaml

    hint = "ASSAY_PRICES names a YAML/JSON file like {gpt-4o: {input: 2.5, output: 10}} (USD per 1M tokens)"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read ASSAY_PRICES file {path}: {exc.strerror}", hint=hint) from None
    except yaml.YAMLError:
        raise ConfigError(f"ASSAY_PRICES file {path} is not valid YAML/JSON", hint=hint) from None
    if not isinstance(data, dict):
        raise ConfigError(f"ASSAY_PRICES file {path} is not a mapping of model: prices", hint=hint)
    out: dict[str, Price] = {}
    for model, entry in data.items():
        try:
            price = Price(float(entry["input"]), float(entry["output"]), str(model), f"ASSAY_PRICES {path}")
        except (TypeError, KeyError, ValueError):
            raise ConfigError(f"ASSAY_PRICES file {path}: {model!r} needs numeric input and output",
                              hint=hint) from None
        if min(price.input, price.output) < 0:
            raise ConfigError(f"ASSAY_PRICES file {path}: {model!r} has a negative price", hint=hint)
        out[str(model)] = price
    return out


def price_for(model: str, settings: Settings | None = None, given: Price | None = None) -> Price | None:
    """The price of ``model``: ``given`` (from --model_args), else the table (exact, then longest prefix)."""
    if given is not None:
        return Price(given.input, given.output, model, given.source)
    table = price_table(settings)
    name = model.rsplit("/", 1)[-1]  # "models/gemini-…", "openai/gpt-4o" (gateways)
    if name in table:
        return table[name]
    matches = [m for m in table if name.startswith(m + "-") or name.startswith(m + "@")]
    return table[max(matches, key=len)] if matches else None


# -- metering and the cap ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reservation:
    amount: float
    calibrating: bool = False


def budget_error(message: str, provider: str | None) -> ProviderError:
    return ProviderError(message, hint="raise --max_cost, or rerun with --use_cache to pay only for what is missing",
                         kind="budget", provider=provider)


class CostLedger:
    """The run's account: every meter (model, judge) adds to it; ``max_cost`` caps it (None: no cap)."""

    def __init__(self, max_cost: float | None = None) -> None:
        self.max_cost = max_cost
        self.spent = 0.0
        self.reserved = 0.0
        self.exhausted = False
        self.meters: dict[str, CostMeter] = {}

    def meter(self, role: str, price: Price | None) -> CostMeter:
        """A meter for one Model in ``role`` (``model``, ``judge``…), counted in this ledger."""
        meter = CostMeter(price, self, role)
        self.meters[role] = meter
        return meter

    def try_reserve(self, estimate: float) -> bool:
        if self.max_cost is None:
            return True
        if self.exhausted or self.spent + self.reserved + estimate > self.max_cost or self.spent >= self.max_cost:
            self.exhausted = True
            return False
        self.reserved += estimate
        return True

    def report(self) -> dict[str, Any]:
        priced = all(m.price is not None for m in self.meters.values())
        return {
            "total_usd": round(self.spent, 6) if priced else None,
            "max_cost": self.max_cost,
            "cap_reached": self.exhausted,
            **{role: meter.as_dict() for role, meter in self.meters.items()},
        }


@dataclass
class CostMeter:
    """What one Model's answers cost, at its price, counted in a ledger (and held to its cap)."""

    price: Price | None
    ledger: CostLedger = field(default_factory=CostLedger)
    role: str = "model"
    usd: float = 0.0
    usage: Usage = field(default_factory=Usage)
    answered: int = 0  # attempts whose cost is known
    _calibrating: bool = field(default=False, init=False, repr=False)
    _calibrated: asyncio.Event | None = field(default=None, init=False, repr=False)

    async def reserve(self, provider: str | None = None) -> Reservation:
        """Before an attempt: hold its estimated cost, or raise ProviderError(kind="budget")."""
        ledger = self.ledger
        if ledger.max_cost is None:
            return Reservation(0.0)
        if self.price is None:
            raise budget_error(f"--max_cost cannot be enforced: the {self.role} has no price", provider)
        while self.answered == 0 and self._calibrating:  # one attempt at a time until a cost is known
            if self._calibrated is None:
                self._calibrated = asyncio.Event()
            await self._calibrated.wait()
        calibrating = self.answered == 0
        estimate = self.usd / self.answered if self.answered else 0.0
        if not ledger.try_reserve(estimate):
            raise budget_error(f"cost cap reached: ${ledger.spent:.4f} spent of --max_cost ${ledger.max_cost:g}; "
                               "no further requests are sent", provider)
        self._calibrating = self._calibrating or calibrating
        return Reservation(estimate, calibrating)

    def settle(self, reservation: Reservation, usage: Usage) -> None:
        """After an answered attempt: its real cost replaces its estimate."""
        cost = self.price.cost(usage) if self.price is not None else 0.0
        self.usd += cost
        self.usage = self.usage + usage
        self.answered += 1
        self.ledger.spent += cost
        self._release(reservation)

    def release(self, reservation: Reservation) -> None:
        """After a failed attempt (no usage reported: nothing billed)."""
        self._release(reservation)

    def _release(self, reservation: Reservation) -> None:
        if self.ledger.max_cost is not None:
            self.ledger.reserved = max(0.0, self.ledger.reserved - reservation.amount)
        if reservation.calibrating:
            self._calibrating = False
            if self._calibrated is not None:
                self._calibrated.set()
                self._calibrated = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "usd": round(self.usd, 6) if self.price is not None else None,
            "input_tokens": self.usage.input_tokens,
            "output_tokens": self.usage.output_tokens,
            **({"audio_input_tokens": self.usage.audio_input_tokens} if self.usage.audio_input_tokens else {}),
            "price": self.price.as_dict() if self.price is not None else None,
        }
