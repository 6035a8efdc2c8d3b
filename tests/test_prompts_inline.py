"""Which tasks have their prompts built on the event loop (assay.run.prompts.builds_on_the_loop): only those
whose prompt is a field or a plain ``{{ field }}`` template; a template with logic, visuals, chat messages,
few-shot examples or the task's own functions stay task code, in the task threads."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.env.settings import Settings
from assay.run.prompts import builds_on_the_loop
from tests.test_tasks_task import make_task

PLAIN = """
output_type: generate_until
doc_to_text: "Q: {{ q }} ({{n}})\\nAnswer:"
doc_to_target: a
"""


@pytest.mark.parametrize("body", [PLAIN, PLAIN.replace('"Q: {{ q }} ({{n}})\\nAnswer:"', "q"),
                                  PLAIN + "description: 'Answer briefly. {{q}}'\n"])
def test_fields_and_plain_templates_are_built_on_the_loop(settings: Settings, tmp_path: Path, body: str) -> None:
    assert builds_on_the_loop(make_task(settings, tmp_path, body))


@pytest.mark.parametrize("body", [
    PLAIN.replace("{{ q }}", "{{ q | upper }}"),  # a filter: jinja2's, in a thread
    PLAIN.replace("{{ q }}", "{% if q %}{{ q }}{% endif %}"),  # a block
    PLAIN.replace('"Q: {{ q }} ({{n}})\\nAnswer:"', "!function utils.text"),  # the task's own code
    PLAIN + "doc_to_visual: !function utils.visuals\n",  # images to decode
    PLAIN + "num_fewshot: 1\nfewshot_split: test\n",  # examples from a split
    PLAIN.replace("doc_to_target: a", "doc_to_target: '{{a}}'"),  # a target template
])
def test_logic_media_examples_and_task_code_stay_in_the_threads(settings: Settings, tmp_path: Path,
                                                                  body: str) -> None:
    utils = "def text(doc):\n    return doc['q']\n\ndef visuals(doc):\n    return []\n"
    assert not builds_on_the_loop(make_task(settings, tmp_path, body, utils=utils))
