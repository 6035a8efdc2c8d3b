"""The one registry type behind providers, metrics, aggregations, filters and plugin entries."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assay.env.registry import Registry, did_you_mean, load_target, refusal
from assay.errors import TaskError, UsageError


@pytest.fixture
def plugin_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A module on sys.path that counts its own imports, so a test can see when a target is loaded."""
    (tmp_path / "reg_probe_mod.py").write_text("import builtins\nbuiltins.reg_probe_loads = "
                                               "getattr(builtins, 'reg_probe_loads', 0) + 1\n"
                                               "def double(x):\n    return 2 * x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "reg_probe_mod"
    sys.modules.pop("reg_probe_mod", None)
    import builtins
    if hasattr(builtins, "reg_probe_loads"):
        del builtins.reg_probe_loads


def test_a_lazy_target_is_imported_on_first_use_only(plugin_module: str) -> None:
    import builtins

    reg: Registry[Callable[[int], int]] = Registry("metric")
    reg.add("double", target=f"{plugin_module}:double", aliases=("twice",))
    assert "twice" in reg and reg.names() == ["double"] and sorted(reg) == ["double", "twice"]
    assert plugin_module not in sys.modules  # listing names imported nothing
    assert reg["twice"](4) == 8 and reg["double"] is reg["twice"]
    assert builtins.reg_probe_loads == 1  # type: ignore[attr-defined]


def test_built_in_names_and_aliases_cannot_be_registered_twice() -> None:
    reg: Registry[int] = Registry("filter")
    reg.add("take_first", 1, aliases=("first",))
    with pytest.raises(ValueError, match="'first' is registered twice"):
        reg.add("first", 2)
    with pytest.raises(ValueError, match="not both or neither"):
        reg.add("nothing")


def test_a_plugin_may_not_shadow_a_built_in_unless_overridden(plugin_module: str) -> None:
    builtin: Registry[Callable[[int], int]] = Registry("metric")
    builtin.add("double", lambda x: x + x)
    reg = builtin.copy()
    problem = reg.admit("double", f"{plugin_module}:double", "plugin probe")
    assert problem == ("plugin probe: metric `double` is refused: the name is built in "
                       "(set ASSAY_PLUGIN_OVERRIDES=double to let the plugin replace it)")
    assert reg.origin("double") == "builtin"
    assert reg.admit("double", f"{plugin_module}:double", "plugin probe", overrides=("double",)) is None
    assert reg.origin("double") == "plugin probe" and reg["double"](5) == 10
    assert builtin.origin("double") == "builtin"  # the copy was changed, never the built-in table
    second = reg.admit("double", f"{plugin_module}:double", "plugin other", overrides=("*",))
    assert second == "plugin other: metric `double` is refused: plugin probe already provides it"


def test_an_unknown_name_says_did_you_mean_and_lists_every_name() -> None:
    reg: Registry[int] = Registry("aggregation")
    reg.update({"mean": 1, "median": 2, "sum": 3})
    with pytest.raises(TaskError) as info:
        reg.lookup("meen", where="task x: ", hint_tail="; or a !function")
    assert info.value.message == "task x: unknown aggregation 'meen'"
    assert info.value.hint == ("did you mean 'mean' or 'median'? available aggregations: mean, median, sum"
                               "; or a !function")
    far = reg.unknown("zzz", also=("plugin_agg",))
    assert "did you mean" not in far.hint and "plugin_agg" in far.hint
    usage = Registry[int]("provider", error=lambda message, hint: UsageError(message, hint))
    assert isinstance(usage.unknown("x"), UsageError)


def test_suggestions_and_targets() -> None:
    assert did_you_mean("opneai", ["openai", "anthropic"], n=1, quote=lambda c: f"`{c}`") == "did you mean `openai`? "
    assert did_you_mean("qqq", ["openai"]) == ""
    assert load_target("os.path:join") is __import__("os").path.join
    with pytest.raises(ValueError, match="not module:attr"):
        load_target("os.path.join")
    with pytest.raises(AttributeError):
        load_target("os.path:no_such_function")
    assert refusal("provider", "p", "plugin z", builtin=(), taken_by=None, overrides=()) is None


def test_the_built_in_tables_are_registries() -> None:
    from assay.metrics.aggregation import AGGREGATIONS
    from assay.metrics.scorers import METRICS
    from assay.providers import PROVIDERS
    from assay.tasks.scoring import lmms_metrics
    from assay.tasks.scoring.filters import FILTERS

    for table in (AGGREGATIONS, METRICS, PROVIDERS, lmms_metrics.METRICS, lmms_metrics.AGGREGATIONS, FILTERS):
        assert isinstance(table, Registry)
    assert PROVIDERS["claude"] is PROVIDERS["anthropic"] and PROVIDERS.canonical("grok") == "xai"
    assert PROVIDERS.origin("openai") == "builtin"
