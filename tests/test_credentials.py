"""Plan -> required credentials, preflight, plan_from_flags, and how-to-fix texts."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from assay.env.credentials import CREDENTIALS, Redactor, how_to_set
from assay.env.settings import Settings, load_settings
from assay.errors import CredentialError, UsageError
from assay.preflight.plan import Plan, plan_from_flags
from assay.preflight.requirements import preflight, requirements
from assay.providers import PROVIDERS

JUDGED = {"dataset_path": "lmms-lab/llava-bench", "metadata": {"gpt_eval_model_name": "gpt-4-0613"}}
GATED = {"dataset_path": "lmms-lab/MME", "dataset_kwargs": {"token": True}}
PUBLIC = {"dataset_path": "lmms-lab/POPE", "dataset_kwargs": {"token": False}}
OPENAI_KEY = {"OPENAI_API_KEY": "sk-env-0123456789"}


def settings_for(env: dict[str, str]) -> Settings:
    return load_settings(environ=env, discover_dotenv=False)


def summary(plan: Plan, env: dict[str, str]) -> list[tuple[str, tuple[str, ...], bool, bool]]:
    """(consumer, variables, required, satisfied) for each requirement."""
    return [
        (s.consumer, s.requirement.env_names, s.required, s.satisfied)
        for s in requirements(plan, settings_for(env))
    ]


CASES: list[tuple[str, Plan, dict[str, str], list[tuple[str, tuple[str, ...], bool, bool]]]] = [
    ("nothing", Plan(), {}, []),
    ("local model needs nothing", Plan(model="local"), {}, []),
    ("openai without key", Plan(model="openai"), {}, [("model `openai`", ("OPENAI_API_KEY",), True, False)]),
    ("openai with key", Plan(model="openai"), OPENAI_KEY, [("model `openai`", ("OPENAI_API_KEY",), True, True)]),
    ("openai key in model_args", Plan(model="openai", model_args={"api_key": "sk-arg-0123456789"}), {},
     [("model `openai`", ("OPENAI_API_KEY",), True, True)]),
    ("local server via model_args base_url", Plan(model="openai_compatible", model_args={"base_url": "http://localhost:8000/v1"}),
     {}, [("model `openai_compatible`", ("OPENAI_API_KEY",), False, False)]),
    ("local server via OPENAI_BASE_URL", Plan(model="openai"), {"OPENAI_BASE_URL": "http://127.0.0.1:8000/v1"},
     [("model `openai`", ("OPENAI_API_KEY",), False, False)]),
    ("official base url still needs a key", Plan(model="openai"), {"OPENAI_API_BASE": "https://api.openai.com/v1"},
     [("model `openai`", ("OPENAI_API_KEY",), True, False)]),
    ("planned vendor", Plan(model="claude"), {}, [("model `claude`", ("ANTHROPIC_API_KEY",), True, False)]),
    ("planned vendor via alias variable", Plan(model="gemini"), {"GEMINI_API_KEY": "AIza-0123456789"},
     [("model `gemini`", ("GOOGLE_API_KEY",), True, True)]),
    ("azure needs key and endpoint", Plan(model="azure_openai"), {"AZURE_API_KEY": "az-0123456789"},
     [("model `azure_openai`", ("AZURE_API_KEY", "AZURE_ENDPOINT"), True, False)]),
    ("azure with both", Plan(model="azure_openai"),
     {"AZURE_OPENAI_API_KEY": "az-0123456789", "AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com"},
     [("model `azure_openai`", ("AZURE_API_KEY", "AZURE_ENDPOINT"), True, True)]),
    ("judge via gpt_eval_model_name", Plan(tasks={"llava_bench": JUDGED}), {},
     [("judge for task `llava_bench`", ("OPENAI_API_KEY",), True, False),
      ("dataset lmms-lab/llava-bench", ("HF_TOKEN",), False, False)]),
    ("judge on azure per API_TYPE", Plan(tasks={"wildvision": {"metadata": {"judge_model": "gpt-4o"}}}),
     {"API_TYPE": "azure", "AZURE_API_KEY": "az-0123456789"},
     [("judge for task `wildvision`", ("AZURE_API_KEY", "AZURE_ENDPOINT"), True, False)]),
    ("judge named in lmms_eval_specific_kwargs",
     Plan(tasks={"t": {"lmms_eval_specific_kwargs": {"default": {"judge_model": "gpt-4o-mini"}}}}), OPENAI_KEY,
     [("judge for task `t`", ("OPENAI_API_KEY",), True, True)]),
    ("judge turned off", Plan(tasks={"t": {"metadata": {"use_judge": False, "version": 0.0}}}), {}, []),
    ("task metadata api_type wins", Plan(tasks={"t": {"metadata": {"gpt_eval_model_name": "g", "api_type": "azure"}}}),
     {}, [("judge for task `t`", ("AZURE_API_KEY", "AZURE_ENDPOINT"), True, False)]),
    ("judge tasks are listed together", Plan(tasks={"a": JUDGED, "b": JUDGED}), OPENAI_KEY,
     [("judge for tasks `a`, `b`", ("OPENAI_API_KEY",), True, True),
      ("dataset lmms-lab/llava-bench", ("HF_TOKEN",), False, False)]),
    ("gated dataset via token: true", Plan(tasks={"mme": GATED}), {},
     [("gated dataset lmms-lab/MME", ("HF_TOKEN",), True, False)]),
    ("gated dataset via metadata.gated", Plan(tasks={"x": {"dataset_path": "org/x", "metadata": {"gated": True}}}),
     {"HUGGING_FACE_HUB_TOKEN": "hf_0123456789"}, [("gated dataset org/x", ("HF_TOKEN",), True, True)]),
    ("gated dataset once for many tasks", Plan(tasks={"mme_a": GATED, "mme_b": GATED}), {},
     [("gated dataset lmms-lab/MME", ("HF_TOKEN",), True, False)]),
    ("public hub dataset: token optional", Plan(tasks={"pope": PUBLIC}), {},
     [("dataset lmms-lab/POPE", ("HF_TOKEN",), False, False)]),
    ("local dataset builders need nothing",
     Plan(tasks={"j": {"dataset_path": "json", "dataset_kwargs": {"data_files": "x.json"}},
                 "p": {"dataset_path": "./data/local"}, "abs": {"dataset_path": "/srv/data"}}), {}, []),
    ("wandb online", Plan(wandb_args={"project": "p"}), {}, [("W&B logging", ("WANDB_API_KEY",), True, False)]),
    ("wandb offline", Plan(wandb_args={"project": "p", "mode": "offline"}), {}, []),
    ("wandb disabled", Plan(wandb_args={"mode": "disabled"}), {}, []),
    ("wandb with key", Plan(wandb_args={"project": "p"}), {"WANDB_API_KEY": "w" * 40},
     [("W&B logging", ("WANDB_API_KEY",), True, True)]),
    ("hub push", Plan(hub_args={"hub_results_org": "me", "push_results_to_hub": True}), {},
     [("push to Hugging Face Hub", ("HF_TOKEN",), True, False)]),
    ("any hub args need the token", Plan(hub_args={"hub_results_org": "me"}), {},
     [("push to Hugging Face Hub", ("HF_TOKEN",), True, False)]),
    ("hub token in hub args", Plan(hub_args={"push_samples_to_hub": True, "token": "hf_arg_0123456789"}), {},
     [("push to Hugging Face Hub", ("HF_TOKEN",), True, True)]),
    ("hub args that push nothing", Plan(hub_args={"push_results_to_hub": False, "push_samples_to_hub": False}), {},
     [("push to Hugging Face Hub", ("HF_TOKEN",), False, False)]),
]


@pytest.mark.parametrize(("plan", "env", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_requirements(isolated: dict[str, str], plan: Plan, env: dict[str, str],
                      expected: list[tuple[str, tuple[str, ...], bool, bool]]) -> None:
    assert summary(plan, {**isolated, **env}) == expected


def test_local_path_that_exists_is_not_the_hub(isolated: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "mydata").mkdir()
    plan = Plan(tasks={"t": {"dataset_path": "mydata"}})
    assert summary(plan, isolated) == []


def test_many_judge_tasks_are_summarised(isolated: dict[str, str]) -> None:
    plan = Plan(tasks={f"t{i}": {"metadata": {"gpt_eval_model_name": "g"}} for i in range(8)})
    (status,) = requirements(plan, settings_for(isolated))
    assert status.consumer == "judge for tasks `t0`, `t1`, `t2`, `t3`, `t4` and 3 more"


def test_status_says_where_each_credential_came_from(isolated: dict[str, str]) -> None:
    plan = Plan(model="openai", model_args={"api_key": "sk-arg-0123456789"}, tasks={"mme": GATED})
    statuses = requirements(plan, settings_for({**isolated, "HUGGING_FACE_HUB_TOKEN": "hf_0123456789"}))
    assert [s.satisfied_by for s in statuses] == [
        (("openai_api_key", "--model_args api_key"),),
        (("hf_token", "env HUGGING_FACE_HUB_TOKEN"),),
    ]
    doc = statuses[1].as_dict()
    assert doc["satisfied_by"] == [{"credential": "HF_TOKEN", "source": "env HUGGING_FACE_HUB_TOKEN"}]
    assert doc["credentials"] == [["HF_TOKEN"]] and doc["required"] is True and doc["kind"] == "dataset"


def test_missing_lists_only_what_is_missing(isolated: dict[str, str]) -> None:
    env = {**isolated, "AZURE_API_KEY": "az-0123456789"}
    (status,) = requirements(Plan(model="azure_openai"), settings_for(env))
    assert status.missing == ("azure_endpoint",)


# -- preflight ------------------------------------------------------------------------------------


def test_preflight_passes_when_everything_is_there(isolated: dict[str, str]) -> None:
    env = {**isolated, **OPENAI_KEY, "HF_TOKEN": "hf_0123456789", "WANDB_API_KEY": "w" * 40}
    plan = Plan(model="openai", tasks={"mme": GATED, "j": JUDGED}, wandb_args={"project": "p"},
                hub_args={"push_results_to_hub": True})
    preflight(plan, settings_for(env))


def test_preflight_ignores_optional_credentials(isolated: dict[str, str]) -> None:
    plan = Plan(model="openai_compatible", model_args={"base_url": "http://localhost:8000/v1"}, tasks={"pope": PUBLIC})
    preflight(plan, settings_for(isolated))


def test_preflight_message_matches_the_documented_form(isolated: dict[str, str]) -> None:
    plan = Plan(model="openai", hub_args={"push_results_to_hub": True})
    with pytest.raises(CredentialError) as info:
        preflight(plan, settings_for(isolated))
    assert str(info.value) == (
        "missing 2 credentials: OPENAI_API_KEY (needed by model openai), "
        "HF_TOKEN (needed by push to Hugging Face Hub)"
    )
    assert info.value.hint == (
        "add OPENAI_API_KEY=… to .env or export it; get a key at https://platform.openai.com/api-keys; "
        "add HF_TOKEN=… to .env or export it; create a token at https://huggingface.co/settings/tokens"
    )
    assert info.value.exit_code == 3


def test_preflight_names_every_missing_credential_at_once(isolated: dict[str, str]) -> None:
    plan = Plan(
        model="claude",
        tasks={"mme": GATED, "judged": JUDGED, "az": {"metadata": {"judge_model": "g", "api_type": "azure"}}},
        wandb_args={"project": "p"},
        hub_args={"push_samples_to_hub": True},
    )
    with pytest.raises(CredentialError) as info:
        preflight(plan, settings_for(isolated))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("missing 6 credentials: ")
    for part in (
        "ANTHROPIC_API_KEY (needed by model claude)",
        "OPENAI_API_KEY (needed by judge for task judged)",
        "AZURE_API_KEY (needed by judge for task az)",
        "AZURE_ENDPOINT (needed by judge for task az)",
        "HF_TOKEN (needed by gated dataset lmms-lab/MME, push to Hugging Face Hub)",
        "WANDB_API_KEY (needed by W&B logging)",
    ):
        assert part in message
    assert message.count("(needed by") == 6  # the optional dataset token adds nothing
    for where in ("console.anthropic.com", "platform.openai.com/api-keys", "huggingface.co/settings/tokens",
                  "wandb.ai/authorize", "Azure portal", "API_TYPE=azure"):
        assert where in info.value.hint


def test_preflight_count_with_a_single_credential(isolated: dict[str, str]) -> None:
    with pytest.raises(CredentialError, match=r"^missing 1 credential: WANDB_API_KEY \(needed by W&B logging\)$"):
        preflight(Plan(wandb_args={}), settings_for(isolated))


def test_preflight_makes_no_network_call(isolated: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("preflight must not touch the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    with pytest.raises(CredentialError):
        preflight(Plan(model="openai", tasks={"mme": GATED}), settings_for(isolated))


# -- plan_from_flags ------------------------------------------------------------------------------


def test_plan_from_flags_parses_strings() -> None:
    plan = plan_from_flags(
        "openai", "model=gpt-4o-mini,num_concurrent=8", {"t": {"task": "t"}}, "project=x,mode=offline",
        "hub_results_org=me,push_results_to_hub=True", Redactor(),
    )
    assert plan.model == "openai"
    assert plan.model_args == {"model": "gpt-4o-mini", "num_concurrent": 8}
    assert plan.tasks == {"t": {"task": "t"}}
    assert plan.wandb_args == {"project": "x", "mode": "offline"}
    assert plan.hub_args == {"hub_results_org": "me", "push_results_to_hub": True}


def test_plan_from_flags_accepts_parsed_dicts_and_empty_values() -> None:
    plan = plan_from_flags(None, {"model": "m"}, None, "", None, Redactor())
    assert plan == Plan(model=None, model_args={"model": "m"}, tasks={}, wandb_args=None, hub_args=None)


def test_plan_from_flags_warns_and_registers_command_line_secrets(caplog: pytest.LogCaptureFixture) -> None:
    redactor = Redactor()
    with caplog.at_level(logging.WARNING, logger="assay.preflight.plan"):
        plan_from_flags("claude", "api_key=sk-ant-typed-0123456789", None, None,
                        "token=hf_typed_0123456789,push_results_to_hub=True", redactor)
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "`api_key` in --model_args: command lines end up in shell history; set ANTHROPIC_API_KEY in .env instead",
        "`token` in --hf_hub_log_args: command lines end up in shell history; set HF_TOKEN in .env instead",
    ]
    assert redactor.redact("sk-ant-typed-0123456789 hf_typed_0123456789") == (
        "<redacted:model_args.api_key> <redacted:hf_hub_log_args.token>"
    )


def test_plan_from_flags_python_api_registers_without_warning(caplog: pytest.LogCaptureFixture) -> None:
    redactor = Redactor()
    with caplog.at_level(logging.WARNING, logger="assay.preflight.plan"):
        plan = plan_from_flags("openai", {"api_key": "sk-api-given-0123456789"}, None, None, None, redactor,
                               warn_command_line=False)
    assert caplog.records == []
    assert plan.model_args == {"api_key": "sk-api-given-0123456789"}
    assert redactor.redact("sk-api-given-0123456789") == "<redacted:model_args.api_key>"


def test_plan_from_flags_rejects_unknown_models() -> None:
    with pytest.raises(UsageError) as info:
        plan_from_flags("opena", None, None, None, None, Redactor())
    assert "did you mean `openai`" in info.value.hint


def test_plan_from_flags_malformed_args_do_not_echo(isolated: dict[str, str]) -> None:
    from assay.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        plan_from_flags("openai", "model=x,sk-pasted-key-0123456789", None, None, None, Redactor())
    assert "sk-pasted" not in str(info.value) + info.value.hint


# -- the catalogue --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "where"),
    [
        ("openai_api_key", "https://platform.openai.com/api-keys"),
        ("hf_token", "https://huggingface.co/settings/tokens"),
        ("wandb_api_key", "https://wandb.ai/authorize"),
        ("anthropic_api_key", "https://console.anthropic.com"),
        ("google_api_key", "https://aistudio.google.com/apikey"),
        ("xai_api_key", "https://console.x.ai"),
        ("reka_api_key", "https://platform.reka.ai"),
    ],
)
def test_how_to_set_names_variable_and_where_to_get_it(field: str, where: str) -> None:
    from assay.env.credentials import env_name

    text = how_to_set(field)
    assert text.startswith(f"add {env_name(field)}=")
    assert "to .env or export it" in text
    assert where in text


def test_every_credential_a_provider_declares_is_explained() -> None:
    declared = {f for spec in PROVIDERS.values() for f in spec.credentials}
    assert declared <= set(CREDENTIALS)
