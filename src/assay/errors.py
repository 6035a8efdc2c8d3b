"""One error hierarchy for everything a user can see.

Every error carries a one-line ``message`` (what is wrong) and a ``hint`` (how to fix it).
The CLI prints ``error: … / hint: …`` and exits with ``exit_code``; a traceback is shown only
at ``VERBOSITY=DEBUG``.
"""

from __future__ import annotations

from typing import Literal

#: Every kind of provider failure assay knows. A Literal so that a misspelt kind (``"rate_limt"``) is a
#: type error, not a failure silently treated as permanent; ``model/retry.py`` says for each whether a retry
#: can help and whether it stops the run.
FailureKind = Literal[
    # transient: another attempt may succeed
    "rate_limit", "overloaded", "server", "timeout", "connection", "empty", "malformed",
    # permanent: the same request fails the same way again
    "auth", "bad_request", "not_found", "content_policy", "context_length", "quota", "unsupported", "budget",
    "redirect", "client",
    # decided by the HTTP status (an unusual status with no more specific reading, or none given)
    "http", "unknown",
]


class AssayError(Exception):
    """Base of every error assay raises on purpose."""

    exit_code: int = 1
    default_hint: str = ""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint

    def __str__(self) -> str:
        return self.message


class UsageError(AssayError):
    """A command-line flag or Python API argument is wrong."""

    exit_code = 2
    default_hint = "run `assay --help` for the accepted flags"


class ConfigError(AssayError):
    """A setting, `.env` file, task YAML or model argument is malformed."""

    exit_code = 2


class TaskError(ConfigError):
    """A task cannot be found, parsed or loaded."""


class DatasetError(AssayError):
    """A task's dataset cannot be loaded."""


class OutputError(AssayError):
    """A results or samples file could not be written (read-only folder, full disk). ``path`` is the file."""

    default_hint = "free disk space or choose a writable --output_path; finished samples are kept"

    def __init__(self, message: str, hint: str | None = None, *, path: object = None) -> None:
        super().__init__(message, hint)
        self.path = path


class CredentialError(AssayError):
    """A credential the run needs is missing or was refused."""

    exit_code = 3


class ProviderError(AssayError):
    """A model provider call failed.

    ``status`` is the HTTP status when there was one; ``retry_after`` is the server's requested
    wait in seconds (from ``Retry-After`` / ``retry-after-ms``); ``kind`` is one of :data:`FailureKind`;
    ``request_id`` is the vendor's id for the failed request (``x-request-id``, ``request-id``…), the
    thing their support asks for.
    """

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        kind: FailureKind = "unknown",
        status: int | None = None,
        retry_after: float | None = None,
        provider: str | None = None,
        retryable: bool | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after
        self.provider = provider
        #: False: the same request would fail the same way again; True: the server said to retry
        #: (``x-should-retry``). Either overrides what ``kind`` and ``status`` suggest.
        self.retryable = retryable
        self.request_id = request_id
        self.attempts = 1  # set by the Model wrapper once retries are exhausted


class ProviderAuthError(ProviderError, CredentialError):
    """The provider refused the credential (401/403)."""

    exit_code = 3


class RunFailedError(AssayError):
    """The run ended and its results are written, but they cannot be trusted (status ``failed``).

    ``result`` is the :class:`assay.run.EvaluationResult` that was written, for callers of the Python API.
    """

    default_hint = "see each sample's `error` field; --max_error_rate sets how many failures a run may have"

    def __init__(self, message: str, hint: str | None = None, *, result: object = None) -> None:
        super().__init__(message, hint)
        self.result = result


class JudgeFailureRateError(RunFailedError):
    """Too many judged samples of a task had no usable verdict (over ``--max_judge_failure_rate``).

    Results and samples are written; the failed samples are excluded from the metrics and named."""

    exit_code = 4
    default_hint = ("each failed sample's `judge` field says why (request_failed, parse_failed, refused); "
                    "check the judge with --judge_model/--judge_args, or raise --max_judge_failure_rate")


class RunInterrupted(AssayError):
    """The run was stopped on request (a signal); what was finished is written. Exit 128 + signal."""

    default_hint = "rerun with --use_cache to pay only for what is missing"

    def __init__(self, message: str, hint: str | None = None, *, signum: int | None = None,
                 result: object = None) -> None:
        super().__init__(message, hint)
        self.signum = signum
        self.exit_code = 128 + signum if signum else 130
        self.result = result


class UploadError(AssayError):
    """An upload (W&B, the Hugging Face Hub) failed. The local files are untouched; ``assay push`` retries."""

    exit_code = 5


class UploadAuthError(UploadError, CredentialError):
    """The service refused the credential (401/403) or none was given."""

    exit_code = 3
