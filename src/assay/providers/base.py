"""The provider contract: translate a Request to one vendor's wire format and back, nothing more.

Retries, timeouts, concurrency and caching belong to :class:`assay.model.Model`; a provider makes
exactly one attempt and raises :class:`assay.errors.ProviderError` (with ``status``/``retry_after``)
when it fails.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from assay.types import Loglikelihood, LoglikelihoodRequest, Request, Response

if TYPE_CHECKING:
    from assay.providers.batch import BatchWire


@runtime_checkable
class Provider(Protocol):
    name: ClassVar[str]
    #: Largest number of requests this provider can usefully run at once (None: no own limit).
    max_concurrency: ClassVar[int | None]
    #: Whether image and video parts can be sent (False: a text-only model).
    accepts_media: ClassVar[bool]

    @property
    def model_name(self) -> str:
        """The model identifier (used in output paths and the cache key)."""
        ...

    def identity(self) -> dict[str, Any]:
        """What makes two providers' answers interchangeable: vendor, base URL, model. No secrets."""
        ...

    async def generate(self, request: Request) -> Response:
        """One attempt; raises ProviderError on failure."""
        ...

    async def aclose(self) -> None: ...


# -- optional capabilities -------------------------------------------------------------------------
# Most chat APIs have none of these. A provider has one by defining its member(s); callers ask with
# ``isinstance(provider, Capability)`` (runtime-checkable: the member is present), never with ``getattr``,
# so mypy checks each use. A flag's value still decides (``accepts_audio = False`` says "no").


@runtime_checkable
class ScoresLoglikelihood(Protocol):
    """Scores continuations: log P(continuation | context), one attempt, ProviderError on failure (exactly
    like ``generate``). The Model wrapper adds retries, timeouts and concurrency; lmms-eval's
    ``multiple_choice`` tasks need it."""

    supports_loglikelihood: ClassVar[bool]

    async def loglikelihood(self, request: LoglikelihoodRequest) -> Loglikelihood: ...


@runtime_checkable
class LoglikelihoodAcceptsMedia(Protocol):
    """Its log-likelihood scoring reads images and video too (absent: text only)."""

    loglikelihood_accepts_media: ClassVar[bool]


@runtime_checkable
class AcceptsAudio(Protocol):
    """Can send :class:`assay.types.AudioPart` (absent: audio tasks are refused before the first request)."""

    accepts_audio: ClassVar[bool]


@runtime_checkable
class WarmsUp(Protocol):
    """Loads what the first request would need (the embedded model's weights); the prepare stage calls it so
    a broken model file is a configuration error (exit 2) before anything is sent."""

    async def warm_up(self) -> None: ...


@runtime_checkable
class Deterministic(Protocol):
    """Answers the same request the same way (greedy, seeded): its empty answers are not retried."""

    deterministic: ClassVar[bool]


@runtime_checkable
class SendsBatches(Protocol):
    """Has a batch API (``--batch``): ``batch_wire()`` translates to and from it
    (:class:`assay.providers.batch.BatchWire`)."""

    supports_batch: ClassVar[bool]

    def batch_wire(self) -> BatchWire: ...


def batch_wire(provider: object) -> BatchWire | None:
    """The translation to ``provider``'s batch API, or None when it has none."""
    if isinstance(provider, SendsBatches) and provider.supports_batch:
        return provider.batch_wire()
    return None


def supports_loglikelihood(provider: object) -> bool:
    """Whether ``provider`` can answer :class:`assay.types.LoglikelihoodRequest`."""
    return isinstance(provider, ScoresLoglikelihood) and bool(provider.supports_loglikelihood)


def accepts_audio(provider: object) -> bool:
    return isinstance(provider, AcceptsAudio) and bool(provider.accepts_audio)


def is_deterministic(provider: object) -> bool:
    return isinstance(provider, Deterministic) and bool(provider.deterministic)


def loglikelihood_accepts_media(provider: object) -> bool:
    return isinstance(provider, LoglikelihoodAcceptsMedia) and bool(provider.loglikelihood_accepts_media)
