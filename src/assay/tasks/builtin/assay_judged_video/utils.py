"""Judged video tasks: open-ended QA scored like ActivityNetQA, detailed captions scored like VDC.

Scoring is ``async``: the runner awaits it on the event loop, so judge calls of many samples are in
flight at once. A failed judgement is not scored here; the runner sees it in the sample's judge log and
excludes the sample (counted by reason), whatever these functions return.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from assay.judge import Verdict, json_object, judge, score, yes_no

VIDEOS = Path(__file__).resolve().parent / "videos"

QA_SYSTEM = (
    "You grade answers to questions about short videos. You see the question, the reference answer and a "
    "model's answer. Judge meaning, not wording: synonyms and paraphrases that say the same thing are right; "
    "an answer that adds a wrong detail is wrong."
)
QA_PROMPT = (
    "Question: {question}\nReference answer: {answer}\nModel's answer: {prediction}\n\n"
    "Does the model's answer mean the same as the reference? Rate the match from 0 (unrelated or wrong) to 5 "
    '(fully right). Reply with JSON only: {{"pred": "yes" or "no", "score": 0-5}}'
)
CAPTION_SYSTEM = (
    "You check video descriptions against facts. Answer the question using only what the description says, "
    "then compare your answer with the reference answer."
)
CAPTION_PROMPT = (
    "Description: {caption}\n\nQuestion: {question}\nReference answer: {answer}\n\n"
    "First answer the question from the description alone (say \"not stated\" when it does not say). Then "
    "rate how well your answer matches the reference from 0 (wrong or not stated) to 5 (exact). Reply with "
    'JSON only: {{"answer": "...", "pred": "yes" or "no", "score": 0-5}}'
)
#: The verdict both tasks ask for: ActivityNetQA's yes/no plus a 0-5 score, strictly parsed.
VERDICT = json_object({"pred": yes_no, "score": score(0, 5)})


def video_doc_to_visual(doc: dict[str, Any]) -> list[str]:
    return [str(VIDEOS / f"{doc['clip']}.mp4")]


def video_qa_doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    return f"{kwargs.get('pre_prompt', '')}{doc['question']}{kwargs.get('post_prompt', '')}"


def video_caption_doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    return f"{kwargs.get('pre_prompt', '')}Describe this video in detail.{kwargs.get('post_prompt', '')}"


async def video_qa_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    prompt = QA_PROMPT.format(question=doc["question"], answer=doc["answer"], prediction=results[0].strip())
    outcome = await judge(prompt, VERDICT, system=QA_SYSTEM)
    if not isinstance(outcome, Verdict):
        return {}
    return {"judge_accuracy": 1.0 if outcome.value["pred"] else 0.0, "judge_score": outcome.value["score"]}


async def video_caption_process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    caption = results[0].strip()
    prompts = [CAPTION_PROMPT.format(caption=caption, question=qa["question"], answer=qa["answer"])
               for qa in doc["qa"]]
    outcomes = await asyncio.gather(*(judge(p, VERDICT, system=CAPTION_SYSTEM) for p in prompts))
    verdicts = [o.value for o in outcomes if isinstance(o, Verdict)]
    if len(verdicts) < len(outcomes):
        return {}
    return {"caption_score": sum(v["score"] for v in verdicts) / len(verdicts),
            "caption_accuracy": sum(1.0 for v in verdicts if v["pred"]) / len(verdicts)}
