"""What a run costs: a small price table, a meter per Model (model under test, judge), a run-wide ledger
with an optional cap (``--max_cost USD``).

The ledger is consulted by the Model wrapper before every attempt (:meth:`CostMeter.reserve`): the
attempt's worst case (:func:`assay.model.bounds.worst_case`: its input bound and ``max_tokens`` at the
price) is held until its answer is billed, and an attempt whose worst case does not fit under the cap
beside everything spent and held waits for attempts in flight to settle, and with none left is not sent:
it fails with ``ProviderError(kind="budget")``, which the
runner treats as the end of paying. So 64 requests in flight, each costlier than the last, cannot take
the run past the cap: spend stays under it as long as no answer costs more than its bound. An answer
that comes back without usage is charged at its worst case (``estimated`` in the report): the cap is
honoured, never bypassed by a server that does not count.

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


class PriceBook:
    """The price table of one run, read once (the built-in table, ``ASSAY_PRICES`` on top)."""

    def __init__(self, table: Mapping[str, Price]) -> None:
        self.table = dict(table)

    @classmethod
    def of(cls, settings: Settings | None) -> PriceBook:
        return cls(price_table(settings))

    def price(self, model: str, given: Price | None = None) -> Price | None:
        """The price of ``model``: ``given`` (from --model_args), else the table (exact, then longest prefix)."""
        if given is not None:
            return Price(given.input, given.output, model, given.source)
        name = model.rsplit("/", 1)[-1]  # "models/gemini-…", "openai/gpt-4o" (gateways)
        if name in self.table:
            return self.table[name]
        matches = [m for m in self.table if name.startswith(m + "-") or name.startswith(m + "@")]
        return self.table[max(matches, key=len)] if matches else None


def price_for(model: str, settings: Settings | None = None, given: Price | None = None) -> Price | None:
    """The price of ``model`` (one lookup; a run builds its :class:`PriceBook` once instead)."""
    if given is not None:
        return Price(given.input, given.output, model, given.source)
    return PriceBook.of(settings).price(model)


# -- metering and the cap ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reservation:
    amount: float  # held in the ledger until the attempt settles (0 without a cap)
    worst: float = 0.0  # the attempt's worst-case cost: what an answer without usage is charged


#: No hold and no worst case: an attempt without a cap and without a price (one for them all).
NOTHING_HELD = Reservation(0.0)


def budget_error(message: str, provider: str | None) -> ProviderError:
    return ProviderError(message, hint="raise --max_cost, or rerun with --use_cache to pay only for what is missing",
                         kind="budget", provider=provider)


class CostLedger:
    """The run's account: every meter (model, judge) adds to it; ``max_cost`` caps it (None: no cap)."""

    def __init__(self, max_cost: float | None = None) -> None:
        self.max_cost = max_cost
        self.spent = 0.0
        self.reserved = 0.0  # the worst case of every attempt in flight
        self.exhausted = False
        self.meters: dict[str, CostMeter] = {}
        self._settled: asyncio.Event | None = None

    def meter(self, role: str, price: Price | None) -> CostMeter:
        """A meter for one Model in ``role`` (``model``, ``judge``…), counted in this ledger."""
        meter = CostMeter(price, self, role)
        self.meters[role] = meter
        return meter

    async def reserve(self, worst: float) -> bool:
        """Hold ``worst`` once it fits under the cap beside what is spent and held: while it does not, wait
        for attempts in flight to settle (they may free room); with none in flight, the cap is reached."""
        if self.max_cost is None:
            return True
        while not self.exhausted and self.spent + self.reserved + worst > self.max_cost:
            if self.reserved <= 0:
                self.exhausted = True
                break
            if self._settled is None:
                self._settled = asyncio.Event()
            await self._settled.wait()
        if self.exhausted:
            return False
        self.reserved += worst
        return True

    def release(self, amount: float) -> None:
        """An attempt settled: its hold is gone; attempts waiting for room look again."""
        self.reserved = max(0.0, self.reserved - amount)
        if self.reserved < 1e-12:
            self.reserved = 0.0
        if self._settled is not None:
            self._settled.set()
            self._settled = None

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
    answered: int = 0  # attempts billed
    estimated: int = 0  # of which answered without usage: charged at their worst case

    async def reserve(self, provider: str | None = None, worst: Usage | None = None) -> Reservation:
        """Before an attempt whose most it can cost is ``worst`` (tokens): hold that cost, or raise
        ProviderError(kind="budget") when it does not fit under the cap."""
        ledger = self.ledger
        cost = self.price.cost(worst) if self.price is not None and worst is not None else 0.0
        if ledger.max_cost is None:
            return Reservation(0.0, cost)
        if self.price is None:
            raise budget_error(f"--max_cost cannot be enforced: the {self.role} has no price", provider)
        if not await ledger.reserve(cost):
            raise budget_error(
                f"cost cap reached: ${ledger.spent:.4f} spent and ${ledger.reserved:.4f} held by requests in flight "
                f"(${ledger.spent + ledger.reserved:.4f}) of --max_cost ${ledger.max_cost:g}; the next request "
                f"could cost up to ${cost:.4f}, so no further requests are sent", provider)
        return Reservation(cost, cost)

    @property
    def capped(self) -> bool:
        """Whether every attempt must go through :meth:`reserve` first: with a cost cap (it holds the attempt's
        worst case), or for a meter whose ``reserve`` does more (the cluster's gate also holds a slot)."""
        return self.ledger.max_cost is not None

    def unheld(self, worst: Usage | None) -> Reservation:
        """:meth:`reserve` without a cap, synchronously: nothing is held, only the worst case is kept."""
        if self.price is None or worst is None:
            return NOTHING_HELD
        return Reservation(0.0, self.price.cost(worst))

    def settle(self, reservation: Reservation, usage: Usage) -> None:
        """After an answered attempt: its real cost replaces its hold (its worst case when no usage came)."""
        if usage.total_tokens == 0 and reservation.worst > 0:
            cost = reservation.worst
            self.estimated += 1
        else:
            cost = self.price.cost(usage) if self.price is not None else 0.0
        self.usd += cost
        self.usage = self.usage + usage
        self.answered += 1
        self.ledger.spent += cost
        self._release(reservation)

    def release(self, reservation: Reservation) -> None:
        """After a failed attempt (no answer: nothing billed)."""
        self._release(reservation)

    def _release(self, reservation: Reservation) -> None:
        if self.ledger.max_cost is not None:
            self.ledger.release(reservation.amount)

    def as_dict(self) -> dict[str, Any]:
        out = {
            "usd": round(self.usd, 6) if self.price is not None else None,
            "input_tokens": self.usage.input_tokens,
            "output_tokens": self.usage.output_tokens,
            **({"audio_input_tokens": self.usage.audio_input_tokens} if self.usage.audio_input_tokens else {}),
            "price": self.price.as_dict() if self.price is not None else None,
        }
        if self.estimated:
            out["estimated"] = {"answers": self.estimated,
                                "how": "no usage returned: charged at the request's worst case (input bound, "
                                       "max_tokens)"}
        return out
