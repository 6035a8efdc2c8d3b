"""Whether the Hugging Face Hub can be reached, found out once in a few seconds, and what to do if not.

Without this, a Hub that cannot be reached costs ~25 s of huggingface_hub's retries (each warning printed
twice) before an error that may even say "dataset not found". Here one TCP connection to ``HF_ENDPOINT``
decides, within :data:`CONNECT_TIMEOUT`: when it fails, datasets already downloaded are loaded from the cache
in offline mode (what ``HF_HUB_OFFLINE=1`` does), and anything else fails at once with the real cause.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

#: Seconds one connection attempt to the Hub may take before it counts as unreachable.
CONNECT_TIMEOUT = 3.0


@functools.lru_cache(maxsize=8)
def unreachable(endpoint: str, timeout: float = CONNECT_TIMEOUT) -> str | None:
    """None when a TCP connection to ``endpoint`` opens; else why not, in a few words (asked once per
    endpoint and process: the answer is logged once, not per task)."""
    parts = urlsplit(endpoint)
    host = parts.hostname
    if not host:
        return "HF_ENDPOINT has no host"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except socket.gaierror:
        reason = f"the name {host} does not resolve"
    except ConnectionRefusedError:
        reason = "connection refused"
    except TimeoutError:
        reason = f"no answer within {timeout:g}s"
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
    log.warning("the Hugging Face Hub at %s cannot be reached (%s): datasets load from the local cache only",
                endpoint, reason)
    return reason


@contextlib.contextmanager
def offline_mode() -> Iterator[None]:
    """huggingface_hub and datasets in offline mode for the duration (their module switch, read per call):
    cached datasets load, and nothing is retried against a Hub that will not answer."""
    import datasets.config
    import huggingface_hub.constants

    saved = (huggingface_hub.constants.HF_HUB_OFFLINE, datasets.config.HF_HUB_OFFLINE)
    huggingface_hub.constants.HF_HUB_OFFLINE = True
    datasets.config.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        huggingface_hub.constants.HF_HUB_OFFLINE, datasets.config.HF_HUB_OFFLINE = saved
