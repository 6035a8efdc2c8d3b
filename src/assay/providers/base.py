"""The provider contract: translate a Request to one vendor's wire format and back, nothing more.

Retries, timeouts, concurrency and caching belong to :class:`assay.model.Model`; a provider makes
exactly one attempt and raises :class:`assay.errors.ProviderError` (with ``status``/``retry_after``)
when it fails.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, runtime_checkable

from assay.types import Request, Response


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


# Optional capability, not part of the Protocol (most chat APIs cannot do it): a provider that can score
# continuations sets ``supports_loglikelihood = True`` and defines
#
#     async def loglikelihood(self, request: LoglikelihoodRequest) -> Loglikelihood
#
# (one attempt, ProviderError on failure, exactly like ``generate``). The Model wrapper's
# ``loglikelihood`` adds retries, timeouts and concurrency; lmms-eval's ``multiple_choice`` tasks need it.


# Optional: ``accepts_audio: ClassVar[bool] = True`` for a provider that can send
# :class:`assay.types.AudioPart` (absent: it cannot, and audio tasks are refused before the first request).


# Optional too: ``async def warm_up(self) -> None`` loads what the first request would need (the embedded
# model's weights), called by the prepare stage so a broken model file is a configuration error (exit 2)
# before anything is sent; and ``deterministic: ClassVar[bool] = True`` for a provider that answers the same
# request the same way (its empty answers are not retried).


def supports_loglikelihood(provider: object) -> bool:
    """Whether ``provider`` can answer :class:`assay.types.LoglikelihoodRequest`."""
    return bool(getattr(provider, "supports_loglikelihood", False)) and callable(
        getattr(provider, "loglikelihood", None)
    )
