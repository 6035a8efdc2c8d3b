"""lmms-eval's semantics, piece by piece: filters, metrics, generation kwargs, few-shot, repeats, reasoning
tags, multiple_choice scoring (the parity suite checks them together against lmms-eval's own numbers)."""

from __future__ import annotations

import logging
import random
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from assay.env.settings import Settings
from assay.errors import TaskError
from assay.tasks import Task, TaskRegistry
from assay.tasks.scoring.filters import (
    MajorityVoteFilter,
    MultiChoiceRegexFilter,
    RegexFilter,
    TakeKFilter,
    build_pipelines,
)
from assay.tasks.scoring.lmms_metrics import anls, exact_match_hf_evaluate, median
from assay.tasks.task import RunSettings
from assay.types import GenerationParams
from tests.helpers import write


def make(settings: Settings, tmp_path: Path, body: str, utils: str = "", rows: str = "",
         run: RunSettings | None = None) -> Task:
    folder = tmp_path / "tasks"
    write(folder, "data.jsonl", rows or "".join(f'{{"q": "q{i}", "a": "{i}"}}\n' for i in range(6)))
    write(folder, "t.yaml", "task: t\ndataset_path: data.jsonl\n" + textwrap.dedent(body))
    if utils:
        write(folder, "utils.py", utils)
    return TaskRegistry.discover(settings, include_paths=[folder]).load("t", settings=settings, model_name="m",
                                                                        run=run)


# -- filters --------------------------------------------------------------------------------------------


def test_regex_filter_keeps_an_empty_match_and_falls_back_only_without_one() -> None:
    f = RegexFilter(regex_pattern=r"answer:\s*(\d*)", group_select=0)
    assert f.apply([["answer: 42", "answer:", "nothing"]], [{}]) == [["42", "", "[invalid]"]]
    last = RegexFilter(regex_pattern=r"(-?[$0-9.,]{2,})|(-?[0-9]+)", group_select=-1)
    assert last.apply([["12 then 7 then 345"]], [{}]) == [["345"]]


def test_multi_choice_regex_filter_falls_back_to_option_text_then_letter() -> None:
    f = MultiChoiceRegexFilter(regex_pattern=r"(\([A-Z]\))", ignore_case=True, ignore_punctuation=True)
    doc = {"choices": ["Paris", "Rome", "Oslo"]}
    assert f.apply([["It is (B)", "i think rome!", "Answer: C", "no idea"]], [doc]) == \
        [["(B)", "(B)", "(C)", "[invalid]"]]


def test_selection_filters() -> None:
    assert MajorityVoteFilter().apply([["a", "b", "b", "a"]], [{}]) == [["a"]]  # first seen wins a tie
    with pytest.raises(TaskError, match="needs 3 responses"):
        TakeKFilter(k=3).apply([["x", "y"]], [{}])
    pipelines = build_pipelines([{"name": "maj", "filter": [{"function": "majority_vote"},
                                                             {"function": "take_first"}]}], "t")
    assert pipelines[0].apply(["b", "a", "b"], {}) == "b"
    with pytest.raises(TaskError, match="unknown filter 'regexp'"):
        build_pipelines([{"name": "x", "filter": [{"function": "regexp"}]}], "t")


# -- metrics --------------------------------------------------------------------------------------------


def test_exact_match_is_hf_evaluate_strict_with_its_options() -> None:
    assert exact_match_hf_evaluate(predictions=["Paris."], references=["paris"])["exact_match"] == 0.0
    assert exact_match_hf_evaluate(predictions=["Paris."], references=["paris"], ignore_case=True,
                                   ignore_punctuation=True)["exact_match"] == 1.0
    assert exact_match_hf_evaluate(predictions=["$1,200"], references=["1200"],
                                   regexes_to_ignore=[",", r"\$"])["exact_match"] == 1.0
    # text never equals a number (numpy compares a str array with an int array as unequal)
    assert exact_match_hf_evaluate(predictions=["3"], references=[3])["exact_match"] == 0.0
    assert exact_match_hf_evaluate(predictions=["a"], references=["a", "b", "a", "c"])["exact_match"] == 0.5


def test_anls_and_median_keep_lmms_eval_quirks() -> None:
    assert anls(references=["Annual Report"], predictions=["annual reprot"])["anls"] == pytest.approx(1 - 2 / 13)
    assert anls(references=["abc"], predictions=["xyz"], thresh_hold=0.5)["anls"] == 0
    assert median([5, 1, 3, 2]) == 3  # the element at n // 2, unsorted


def test_metric_list_with_process_results_and_filters(settings: Settings, tmp_path: Path) -> None:
    body = """\
        doc_to_text: q
        doc_to_target: a
        filter_list:
          - name: strict
            filter: [{function: regex, regex_pattern: "#### (\\\\d+)"}, {function: take_first}]
          - name: loose
            filter: [{function: regex, regex_pattern: "(\\\\d+)", group_select: -1}, {function: take_first}]
        metric_list:
          - metric: exact_match
    """
    task = make(settings, tmp_path, body)
    assert task.metric_keys == ["exact_match,strict", "exact_match,loose"]
    scored = task.score({"q": "q1", "a": "1"}, "I think 7, no: 1")
    assert scored.scores == {"exact_match,strict": 0.0, "exact_match,loose": 1.0}
    assert scored.filtered == {"strict": ["[invalid]"], "loose": ["1"]}


# -- generation kwargs ----------------------------------------------------------------------------------


def test_generation_kwargs_translated_for_apis(settings: Settings, tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    body = """\
        doc_to_text: q
        generation_kwargs: {max_new_tokens: 8, do_sample: false, num_beams: 3, image_aspect_ratio: pad,
                            until: ["a", "b", "c", "d", "e"], reasoning_effort: low}
    """
    task = make(settings, tmp_path, body)
    with caplog.at_level(logging.WARNING):
        params = task.generation_params()
        task.generation_params()
    assert params == GenerationParams(max_tokens=8, temperature=0.0, stop=("a", "b", "c", "d"),
                                      extra=(("reasoning_effort", "low"),))
    notices = [r.getMessage() for r in caplog.records if "not sent" in r.getMessage()]
    assert notices == ["task t: generation_kwargs image_aspect_ratio, num_beams not sent (local-model settings an "
                       "API does not take)"]  # once
    assert make(settings, tmp_path / "b", "doc_to_text: q\ngeneration_kwargs: {max_new_tokens: 4}\n") \
        .generation_params().stop == ()  # no implicit until: ["\\n\\n"] (lmms-eval's API models never send it)


# -- few-shot, description, system instruction ----------------------------------------------------------


FEWSHOT = """\
    doc_to_text: "Q: {{q}}"
    doc_to_target: a
    description: "About {{q}}.\\n"
    target_delimiter: " => "
    fewshot_delimiter: " | "
    num_fewshot: 2
    fewshot_config: {sampler: SAMPLER}
    fewshot_split: train
    test_split: test
    dataset_path: json
    dataset_kwargs: {data_files: {train: train.jsonl, test: data.jsonl}}
"""


def test_fewshot_default_sampler_draws_like_lmms_eval(settings: Settings, tmp_path: Path) -> None:
    """The description is a template: rendered with the doc, its trailing newline dropped (Jinja's default,
    as in lmms-eval); then the examples, then the doc."""
    write(tmp_path / "tasks", "train.jsonl", "".join(f'{{"q": "t{i}", "a": "{i}"}}\n' for i in range(10)))
    task = make(settings, tmp_path, FEWSHOT.replace("SAMPLER", "default"),
                run=RunSettings(system_instruction="Be brief."))
    items = task.doc_items()
    rng = random.Random(1234)  # lmms-eval's sampler: one Random(1234) per task, drawn doc after doc
    for doc_id, doc in items:
        picked = rng.sample(range(10), 2)
        expected = "Be brief. | " + f"About {doc['q']}." + "".join(
            f"Q: t{i} => {i} | " for i in picked) + f"Q: {doc['q']}"
        assert task.context(doc, doc_id) == expected


def test_fewshot_first_n_and_override(settings: Settings, tmp_path: Path) -> None:
    write(tmp_path / "tasks", "train.jsonl", "".join(f'{{"q": "t{i}", "a": "{i}"}}\n' for i in range(10)))
    task = make(settings, tmp_path, FEWSHOT.replace("SAMPLER", "first_n"), run=RunSettings(num_fewshot=3))
    doc_id, doc = task.doc_items()[0]
    assert task.context(doc, doc_id) == "About q0.Q: t0 => 0 | Q: t1 => 1 | Q: t2 => 2 | Q: q0"


# -- repeats, reasoning tags -----------------------------------------------------------------------------


def test_repeats_send_fresh_samples_and_majority_vote(settings: Settings, tmp_path: Path) -> None:
    from assay.model.cache import cache_key

    body = """\
        doc_to_text: q
        doc_to_target: a
        repeats: 3
        filter_list: [{name: maj, filter: [{function: majority_vote}, {function: take_first}]}]
    """
    task = make(settings, tmp_path, body)
    work = task.work(0, {"q": "q0", "a": "0"}, task.generation_params())
    assert [r.repeat for r in work.generate] == [0, 1, 2]
    keys = {cache_key({"vendor": "v"}, r) for r in work.generate}
    assert len(keys) == 3  # each repeat is its own answer in the cache
    assert task.score({"q": "q0", "a": "0"}, ["1", "0", "0"]).scores == {"exact_match,maj": 1.0}


def test_reasoning_tags_are_stripped_before_scoring(settings: Settings, tmp_path: Path) -> None:
    body = "doc_to_text: q\ndoc_to_target: a\n"
    answer = "<think>maybe 3</think> 1"
    assert make(settings, tmp_path, body).score({"a": "1"}, answer).scores == {"exact_match": 1.0}
    off = make(settings, tmp_path / "b", body, run=RunSettings(reasoning_tags="none"))
    assert off.score({"a": "1"}, answer).scores == {"exact_match": 0.0}


# -- multiple_choice ----------------------------------------------------------------------------------


MC = """\
    output_type: multiple_choice
    doc_to_text: "{{q}}"
    doc_to_choice: ["cat", "horse", "ox"]
    doc_to_target: a
    metric_list: [{metric: acc}, {metric: acc_norm}, {metric: exact_match}]
"""


def test_multiple_choice_requests_and_scores(settings: Settings, tmp_path: Path) -> None:
    task = make(settings, tmp_path, MC, rows='{"q": "Which neighs?", "a": 1}\n')
    work = task.work(0, {"q": "Which neighs?", "a": 1}, GenerationParams())
    assert [r.continuation for r in work.loglikelihood] == [" cat", " horse", " ox"]
    assert work.loglikelihood[0].context[0].text == "Which neighs?" and not work.generate
    # losses (minus log-likelihood): horse is likeliest; by length, ox (1.5 / 2 chars) beats horse (4 / 5)
    scored = task.score({"q": "x", "a": 1}, [(3.0, False), (4.0, True), (1.5, False)])
    assert scored.scores == {"acc": 0.0, "acc_norm": 0.0, "exact_match": 1}
    assert task.score({"q": "x", "a": 1}, [(9.0, False), (1.0, True), (8.0, False)]).scores == \
        {"acc": 1.0, "acc_norm": 1.0, "exact_match": 1}


def test_multiple_choice_is_refused_before_any_request(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.fault_server import FaultServer
    from tests.helpers import run_cli

    write(run_dir / "tasks", "data.jsonl", '{"q": "Which neighs?", "a": 1}\n')
    write(run_dir / "tasks", "t.yaml", "task: t\ndataset_path: data.jsonl\n" + textwrap.dedent(MC))
    with FaultServer() as server:
        code, _, err = run_cli(capsys, "--model", "openai", "--model_args", f"model=m,base_url={server.base_url}",
                               "--tasks", "t", "--include_path", str(run_dir / "tasks"))
        assert server.count == 0
    assert code == 2 and "t is a multiple_choice task (scored by log-likelihood), which --model openai" in err


def test_task_code_exit_is_a_task_error(settings: Settings, tmp_path: Path) -> None:
    utils = "import sys\n\ndef results(doc, r):\n    sys.exit(f'video {doc[\"q\"]} missing')\n"
    task = make(settings, tmp_path, "doc_to_text: q\nprocess_results: !function utils.results\n", utils)
    with pytest.raises(TaskError, match=r"process_results called sys.exit\('video q0 missing'\)"):
        task.score({"q": "q0"}, "x")


def test_metadata_list_and_version(settings: Settings, tmp_path: Path) -> None:
    listed = make(settings, tmp_path, "doc_to_text: q\nmetadata:\n  - version: 2.0\n")
    assert listed.config.version == "Yaml"  # lmms-eval reads a version from a mapping only
    assert make(settings, tmp_path / "b", "doc_to_text: q\nmetadata: {version: 2.0}\n").config.version == 2.0




@hyp_settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=3), st.integers(-2, 2), st.floats(allow_nan=True), st.none(), st.booleans()),
       st.one_of(st.text(max_size=3), st.integers(-2, 2), st.floats(allow_nan=True), st.none(), st.booleans()))
def test_exact_match_of_one_answer_is_the_general_computation(pred: Any, ref: Any) -> None:
    """One answer against one target (lists, no option) takes a short path; tuples take the general one."""
    short = exact_match_hf_evaluate(predictions=[pred], references=[ref])
    general = exact_match_hf_evaluate(predictions=(pred,), references=(ref,))
    assert short == general and type(short["exact_match"]) is type(general["exact_match"])
