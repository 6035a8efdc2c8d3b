"""The judge task code meets during ``--dry_run``: a dry run sends nothing and pays for nothing, so a judge
call that task code makes while its documents are processed or its prompts are built fails, unsent, and is
counted; the task code goes on as it would without an answer (or fails, and says so)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assay.judge.client import Judge
from assay.judge.log import record
from assay.judge.outcome import JudgeFailure, JudgeOutcome

if TYPE_CHECKING:
    from assay.judge.messages import Prompt
    from assay.judge.parsers import Parser
    from assay.types import GenerationParams

UNSENT = "a dry run sends nothing: the judge was not asked"


class UnsentJudge(Judge):
    """The run's judge configuration whose every judgement fails without a request."""

    def __init__(self, real: Judge) -> None:
        super().__init__(real.settings, real.configs, parse_retries=0)

    async def judge(self, prompt: Prompt, parser: Parser | None = None, *, system: str | None = None,
                    model: str | None = None, params: GenerationParams | None = None, profile: str = "default",
                    task: str = "", doc_id: int = 0) -> JudgeOutcome:
        failure = JudgeFailure("request_failed", UNSENT)
        record(0, failure, parsed=parser is not None, profile=profile)
        return failure
