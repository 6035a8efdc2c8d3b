"""A loaded Task: prompts (lmms-eval call conventions), messages, targets, generation params, scoring."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from assay.env.settings import Settings
from assay.errors import TaskError
from assay.tasks import Task, TaskRegistry
from assay.types import ImagePart, Message, TextPart, VideoPart
from tests.helpers import write


def make_task(
    settings: Settings, tmp_path: Path, yaml_body: str, utils: str = "", model_name: str = "m"
) -> Task:
    folder = tmp_path / "tasks"
    write(folder, "data.jsonl", '{"q": "What?", "a": "yes", "n": 1, "opts": ["x", "y"]}\n')
    write(folder, "t.yaml", "task: t\ndataset_path: data.jsonl\n" + textwrap.dedent(yaml_body))
    if utils:
        write(folder, "utils.py", utils)
    registry = TaskRegistry.discover(settings, include_paths=[folder])
    return registry.load("t", settings=settings, model_name=model_name)


DOC: dict[str, Any] = {"q": "What?", "a": "yes", "n": 1, "opts": ["x", "y"]}


@pytest.mark.parametrize(
    ("doc_to_text", "expected"),
    [
        ("q", "What?"),  # a field of the doc
        ("'Q: {{q}} ({{ n + 1 }})'", "Q: What? (2)"),  # a Jinja2 template
        ("Describe the image.", "Describe the image."),  # literal text
    ],
)
def test_string_doc_to_text(settings: Settings, tmp_path: Path, doc_to_text: str, expected: str) -> None:
    task = make_task(settings, tmp_path, f"doc_to_text: {doc_to_text}\ndoc_to_target: a\n")
    assert task.prompt_text(DOC) == expected
    assert task.messages(DOC) == (Message("user", (TextPart(expected),)),)


def test_template_with_unknown_variable_is_a_task_error(settings: Settings, tmp_path: Path) -> None:
    task = make_task(settings, tmp_path, "doc_to_text: '{{ missing }}'\n")
    with pytest.raises(TaskError, match="task t: doc_to_text"):
        task.prompt_text(DOC)


UTILS_KWARGS = """\
def with_kwargs(doc, lmms_eval_specific_kwargs=None):
    kw = lmms_eval_specific_kwargs
    return kw["pre_prompt"] + doc["q"] + kw["post_prompt"]

def doc_only(doc):
    return "only " + doc["q"]
"""

KWARGS_YAML = """\
doc_to_text: !function utils.with_kwargs
lmms_eval_specific_kwargs:
  default:
    pre_prompt: "<"
    post_prompt: ">"
  special_model:
    post_prompt: " !"
"""


def test_lmms_eval_specific_kwargs_model_entry_over_default(settings: Settings, tmp_path: Path) -> None:
    plain = make_task(settings, tmp_path / "a", KWARGS_YAML, UTILS_KWARGS, model_name="openai")
    assert plain.prompt_text(DOC) == "<What?>"
    # lmms-eval's rule: a model's own entry replaces `default` (no merge), so pre_prompt is missing
    assert make_task(settings, tmp_path / "b", KWARGS_YAML, UTILS_KWARGS,
                     model_name="special_model").config.lmms_eval_specific_kwargs == {"post_prompt": " !"}
    # without the model's entry, `default`'s keys are merged over the whole mapping, as lmms-eval does
    assert plain.config.lmms_eval_specific_kwargs is not None
    assert plain.config.lmms_eval_specific_kwargs["pre_prompt"] == "<"


def test_one_argument_doc_to_text_gets_only_the_doc(settings: Settings, tmp_path: Path) -> None:
    task = make_task(settings, tmp_path, "doc_to_text: !function utils.doc_only\n", UTILS_KWARGS)
    assert task.prompt_text(DOC) == "only What?"


UTILS_VISUAL = """\
from PIL import Image

def visuals(doc):
    return [Image.new("RGB", (8, 8), "red"), None, "clip.mp4"]
"""


def test_visuals_come_before_text_and_videos_by_extension(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import assay.media.video

    calls: list[tuple[str, int]] = []

    def fake_video_part(path: str | Path, num_frames: int = 8) -> VideoPart:
        calls.append((str(path), num_frames))
        return VideoPart(frames=(), source=str(path))

    monkeypatch.setattr(assay.media.video, "video_part", fake_video_part)
    task = make_task(settings, tmp_path, "doc_to_visual: !function utils.visuals\ndoc_to_text: q\n", UTILS_VISUAL)
    (message,) = task.messages(DOC)
    assert message.role == "user"
    assert [type(p) for p in message.parts] == [ImagePart, VideoPart, TextPart]
    assert message.parts[-1] == TextPart("What?")
    assert calls == [("clip.mp4", 8)]


def test_unsupported_visual_is_a_task_error(settings: Settings, tmp_path: Path) -> None:
    utils = "def visuals(doc):\n    return [{'frames': [0.0], 'fps': 16000}]\n"  # neither image, video nor audio
    task = make_task(settings, tmp_path, "doc_to_visual: !function utils.visuals\ndoc_to_text: q\n", utils)
    with pytest.raises(TaskError, match="unsupported dict"):
        task.messages(DOC)


UTILS_CHAT = """\
from PIL import Image

def messages(doc, lmms_eval_specific_kwargs=None):
    return [
        {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
        {"role": "user", "content": [
            {"type": "image", "url": Image.new("RGB", (4, 4))},
            {"type": "text", "text": lmms_eval_specific_kwargs["pre_prompt"] + doc["q"]},
        ]},
    ]
"""


def test_doc_to_messages_chat_format(settings: Settings, tmp_path: Path) -> None:
    body = "doc_to_messages: !function utils.messages\nlmms_eval_specific_kwargs: {default: {pre_prompt: '> '}}\n"
    task = make_task(settings, tmp_path, body, UTILS_CHAT)
    system, user = task.messages(DOC)
    assert system == Message("system", (TextPart("Be brief."),))
    assert isinstance(user.parts[0], ImagePart) and user.parts[1] == TextPart("> What?")
    from assay.tasks.task import RunSettings

    instructed = Task(task.config, settings=settings, run=RunSettings(system_instruction="Answer in French."))
    assert instructed.messages(DOC)[0] == system  # the task's own system turn stands
    plain = "doc_to_messages: !function utils.plain\n"
    utils = "def plain(doc):\n    return [{'role': 'user', 'content': doc['q']}]\n"
    task = make_task(settings, tmp_path / "p", plain, utils)
    instructed = Task(task.config, settings=settings, run=RunSettings(system_instruction="Answer in French."))
    assert [m.role for m in instructed.messages(DOC)] == ["system", "user"]


def test_targets_field_literal_function_and_choice_index(settings: Settings, tmp_path: Path) -> None:
    assert make_task(settings, tmp_path / "a", "doc_to_text: q\ndoc_to_target: a\n").target(DOC) == "yes"
    assert make_task(settings, tmp_path / "b", "doc_to_text: q\ndoc_to_target: '{{n}}'\n").target(DOC) == "1"
    by_index = make_task(settings, tmp_path / "c", "doc_to_text: q\ndoc_to_target: n\ndoc_to_choice: opts\n")
    assert by_index.choices(DOC) == ["x", "y"] and by_index.target(DOC) == 1  # scoring indexes the choices
    digits = make_task(settings, tmp_path / "e", "doc_to_text: q\ndoc_to_target: '{{n}}'\ndoc_to_choice: opts\n")
    assert digits.target(DOC) == 1  # all digits with choices: an index, as lmms-eval reads it
    listed = make_task(settings, tmp_path / "f", "doc_to_text: q\ndoc_to_target: '[{{n}}, 2]'\n")
    assert listed.target(DOC) == [1, 2]
    fn = make_task(settings, tmp_path / "d", "doc_to_text: q\ndoc_to_target: !function utils.t\n",
                   "def t(doc):\n    return [doc['a'], 'ok']\n")
    assert fn.target(DOC) == ["yes", "ok"]


def test_generation_params_mapping_and_override(settings: Settings, tmp_path: Path) -> None:
    body = """\
        doc_to_text: q
        generation_kwargs:
          max_new_tokens: 32
          until: ["\\n\\n", "Q:"]
          do_sample: false
          num_beams: 1
          top_p: 0.9
    """
    task = make_task(settings, tmp_path, textwrap.dedent(body))
    params = task.generation_params()
    assert params.max_tokens == 32 and params.temperature == 0.0 and params.top_p == 0.9
    assert params.stop == ("\n\n", "Q:")
    assert params.extra == ()  # num_beams is a local-model knob: not sent to an API
    override = task.generation_params({"temperature": 0.7, "until": "END", "max_new_tokens": 5, "seed": 3})
    assert (override.temperature, override.stop, override.max_tokens, override.seed) == (0.7, ("END",), 5, 3)
    assert make_task(settings, tmp_path / "x", "doc_to_text: q\n").generation_params().temperature is None


def test_score_with_metric_list(settings: Settings, tmp_path: Path) -> None:
    body = """\
        doc_to_text: q
        doc_to_target: a
        metric_list:
          - metric: exact_match
            ignore_case: true
          - metric: anls
            thresh_hold: 0.8
            higher_is_better: false
    """
    task = make_task(settings, tmp_path, textwrap.dedent(body))
    assert task.metric_names == ["exact_match", "anls"]
    assert task.score(DOC, " Yes ").scores == {"exact_match": 1.0, "anls": 1.0}  # stripped, case ignored
    assert task.score(DOC, "yea").scores["anls"] == 0  # 0.67 passes the default 0.5, not thresh_hold 0.8
    strict = make_task(settings, tmp_path / "s", "doc_to_text: q\ndoc_to_target: a\n")
    assert strict.score(DOC, "Yes").scores == {"exact_match": 0.0}  # lmms-eval's exact_match is strict
    assert task.higher_is_better("exact_match") and not task.higher_is_better("anls")
    assert task.aggregate("exact_match", [1.0, 0.0, 1.0, 1.0]) == 0.75


def test_default_metric_is_exact_match(settings: Settings, tmp_path: Path) -> None:
    task = make_task(settings, tmp_path, "doc_to_text: q\ndoc_to_target: a\n")
    assert task.metric_names == ["exact_match"]


UTILS_RESULTS = """\
def process_results(doc, results):
    return {"my_score": {"id": doc["q"], "hit": results[0] == doc["a"]}}

def my_aggregate(items):
    return sum(i["hit"] for i in items) / len(items) * 100
"""


def test_process_results_and_function_aggregation(settings: Settings, tmp_path: Path) -> None:
    body = """\
        doc_to_text: q
        process_results: !function utils.process_results
        metric_list:
          - metric: my_score
            aggregation: !function utils.my_aggregate
            higher_is_better: true
    """
    task = make_task(settings, tmp_path, textwrap.dedent(body), UTILS_RESULTS)
    scores = [task.score(DOC, "yes").scores, task.score(DOC, "no").scores]
    assert scores[0] == {"my_score": {"id": "What?", "hit": True}}
    assert task.aggregate("my_score", [s["my_score"] for s in scores]) == 50.0


def test_failing_task_code_names_task_and_hook(settings: Settings, tmp_path: Path) -> None:
    utils = "def boom(doc):\n    raise KeyError('image')\n"
    task = make_task(settings, tmp_path, "doc_to_text: q\ndoc_to_visual: !function utils.boom\n", utils)
    with pytest.raises(TaskError, match=r"task t: doc_to_visual failed: KeyError"):
        task.messages(DOC)


def test_task_needs_a_prompt(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(TaskError, match="neither doc_to_text nor doc_to_messages"):
        make_task(settings, tmp_path, "doc_to_target: a\n")
