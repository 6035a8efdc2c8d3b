"""``filter_list``: post-processing of a doc's responses before scoring, with lmms-eval's semantics.

A filter's ``apply(resps, docs)`` takes one list of responses per doc (several with ``repeats``, one per
choice for ``multiple_choice``) and returns one filtered value per doc. Filters are chained inside a named
pipeline; each pipeline is scored on its own, so a task reports ``metric,filter`` for every pipeline.
Without a ``filter_list`` a task has the one pipeline ``none`` = ``take_first``.

The built-in filters keep lmms-eval's registered names and arguments (``regex_pattern``,
``group_select``, ``fallback``, ``ignore_case``…); a ``!function`` names a filter class from the task
folder, which is built with the remaining keys as keyword arguments, as lmms-eval does. Pipelines run per
request as responses arrive: every built-in filter and every filter class in lmms-eval's task tree treats
requests independently, so this gives the same values as lmms-eval's pass over all requests at once (and
pairs each request with its own doc, where lmms-eval pairs the i-th request with the i-th doc).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from assay.env.registry import Registry
from assay.errors import TaskError

Resps = list[Any]


class Filter:
    """lmms-eval's filter base class: ``apply`` maps one response list per doc to a filtered value."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def apply(self, resps: Any, docs: Any) -> Any:
        return resps


class TakeFirstFilter(Filter):
    """The first response of each doc (``""`` when there is none)."""

    def __init__(self) -> None:
        pass

    def apply(self, resps: Any, docs: Any) -> Any:
        return [r[0] if r else "" for r in resps]


class TakeKFilter(Filter):
    """The first ``k`` responses of each doc (needs ``repeats >= k``)."""

    def __init__(self, **kwargs: Any) -> None:
        if "k" not in kwargs:
            raise TaskError("filter take_first_k needs `k`", hint="e.g. - function: take_first_k\\n  k: 8")
        self.k = int(kwargs.pop("k"))

    def apply(self, resps: Any, docs: Any) -> Any:
        resps = list(resps)
        if resps and len(resps[0]) < self.k:
            raise TaskError(
                f"take_first_k needs {self.k} responses per doc, got {len(resps[0])}",
                hint="raise the task's `repeats` to at least k",
            )
        return [r[: self.k] for r in resps]


class MajorityVoteFilter(Filter):
    """The most frequent response of each doc (the first seen wins a tie), as a one-item list."""

    def __init__(self) -> None:
        pass

    def apply(self, resps: Any, docs: Any) -> Any:
        return [[Counter(r).most_common(1)[0][0]] for r in resps]


class RegexFilter(Filter):
    """``re.findall(regex_pattern)``: the ``group_select``-th match (first non-empty group of a tuple),
    stripped; ``fallback`` when nothing matches."""

    def __init__(
        self, regex_pattern: str = r"#### (\-?[0-9\.\,]+)", group_select: int = 0, fallback: str = "[invalid]"
    ) -> None:
        self.regex_pattern = regex_pattern
        self.regex = re.compile(regex_pattern)
        self.group_select = group_select
        self.fallback = fallback

    def _first(self, regex: re.Pattern[str], text: str, convert: Mapping[str, str] | None = None) -> Any:
        """The selected match, or None when ``regex`` finds nothing."""
        found = regex.findall(text)
        if not found:
            return None
        match = found[self.group_select]
        if isinstance(match, tuple):
            match = next(m for m in match if m)
        match = match.strip()
        if match and convert and match in convert:
            match = convert[match]
        return match

    def apply(self, resps: Any, docs: Any) -> Any:
        out = []
        for inst in resps:
            filtered = []
            for resp in inst:
                match = self._first(self.regex, resp)
                filtered.append(self.fallback if match is None else match)  # an empty match is kept
            out.append(filtered)
        return out


@lru_cache(maxsize=1)
def _punctuation_table() -> dict[int, None]:
    # Every Unicode punctuation code point (category P*), as lmms-eval strips with ignore_punctuation.
    return dict.fromkeys(i for i in range(sys.maxunicode) if unicodedata.category(chr(i)).startswith("P"))


class ExtendedRegexFilter(RegexFilter):
    """A :class:`RegexFilter` with lmms-eval's helpers for subclasses (``filter_ignores``, ``find_match``)."""

    def __init__(
        self,
        regex_pattern: str = r"#### (\-?[0-9\.\,]+)",
        group_select: int = 0,
        fallback: str = "[invalid]",
        ignore_case: bool = False,
        ignore_punctuation: bool = False,
        regexes_to_ignore: Sequence[str] | None = None,
    ) -> None:
        super().__init__(regex_pattern, group_select, fallback)
        self.ignore_case = ignore_case
        self.ignore_punctuation = ignore_punctuation
        self.regexes_to_ignore = regexes_to_ignore

    @property
    def punct_tbl(self) -> dict[int, None]:
        return _punctuation_table()

    def filter_ignores(self, st: str) -> str:
        for pattern in self.regexes_to_ignore or ():
            st = re.sub(pattern, "", st)
        if self.ignore_case:
            st = st.lower()
        if self.ignore_punctuation:
            st = st.translate(_punctuation_table())
        return st

    def find_match(self, regex: re.Pattern[str], resp: str, convert_dict: Mapping[str, str] | None = None) -> Any:
        """The selected match; ``[]`` (falsy) when there is none, as subclasses written for lmms-eval test."""
        match = self._first(regex, resp, convert_dict)
        return [] if match is None else match


class MultiChoiceRegexFilter(ExtendedRegexFilter):
    """lmms-eval's ``multi_choice_regex``: the pattern, else an option's text (from ``doc["choices"]``)
    mapped to ``(A)``…, else ``: B`` mapped to ``(B)``; ``fallback`` when all fail."""

    def apply(self, resps: Any, docs: Any) -> Any:
        out = []
        for inst, doc in zip(resps, docs, strict=False):
            by_text: dict[str, str] = {}
            letters: list[str] = []
            texts: list[str] = []
            for i, choice in enumerate(doc["choices"]):
                letter = chr(ord("A") + i)
                key = self.filter_ignores(choice.strip())
                texts.append(re.escape(key))
                by_text[key] = f"({letter})"
                letters.append(letter)
            text_regex = re.compile("|".join(texts))
            letter_regex = re.compile(rf":[\s]*({'|'.join(letters)})")
            by_letter = {letter: f"({letter})" for letter in letters}
            filtered = []
            for resp in inst:
                match = self.find_match(self.regex, resp)
                if not match:
                    match = self.find_match(text_regex, self.filter_ignores(resp), by_text)
                    if not match:
                        match = self.find_match(letter_regex, resp, by_letter)
                filtered.append(match if match else self.fallback)
            out.append(filtered)
        return out


class SimpleMultiChoiceRegexFilter(ExtendedRegexFilter):
    """lmms-eval's AI2D/RealWorldQA helper: an option text found in the punctuation-free response (options
    read as ``A. text`` lines of ``doc["question"]``) becomes its letter; otherwise the cleaned response.
    Like lmms-eval it returns the first response's value per doc, not a list."""

    _OPTION_RE = re.compile(r"\b([A-Z])\.\s+([^\n]*)")

    def apply(self, resps: Any, docs: Any) -> Any:
        out = []
        for inst, doc in zip(resps, docs, strict=False):
            to_letter: dict[str, str] = {}
            texts: list[str] = []
            for i, (_, text) in enumerate(self._OPTION_RE.findall(doc["question"])):
                texts.append(re.escape(text.strip()))
                to_letter[text.strip()] = chr(ord("A") + i)
            regex = re.compile("|".join(texts))
            filtered = []
            for resp in inst:
                cleaned = re.sub(r"[^\w\s]", "", resp).strip()
                found = regex.search(cleaned)
                filtered.append(to_letter[found.group()] if found and found.group() in to_letter else cleaned)
            out.append(filtered[0])
        return out


class WhitespaceFilter(Filter):
    """Drops one leading space of each response."""

    def __init__(self) -> None:
        pass

    def apply(self, resps: Any, docs: Any) -> Any:
        return [[r[1:] if r.startswith(" ") else r for r in inst] for inst in resps]


class LowercaseFilter(Filter):
    def __init__(self) -> None:
        pass

    def apply(self, resps: Any, docs: Any) -> Any:
        return [[r.lower() for r in inst] for inst in resps]


class UppercaseFilter(Filter):
    def __init__(self) -> None:
        pass

    def apply(self, resps: Any, docs: Any) -> Any:
        return [[r.upper() for r in inst] for inst in resps]


class MapFilter(Filter):
    """Each response replaced by ``mapping_dict[response]`` (``default_value`` when absent)."""

    def __init__(self, mapping_dict: Mapping[Any, Any] | None = None, default_value: Any = None) -> None:
        if mapping_dict is not None and not isinstance(mapping_dict, Mapping):
            raise TaskError("filter map: `mapping_dict` must be a mapping", hint="e.g. mapping_dict: {A: 0, B: 1}")
        self.mapping_dict = dict(mapping_dict or {})
        self.default_value = default_value

    def apply(self, resps: Any, docs: Any) -> Any:
        return [[self.mapping_dict.get(r, self.default_value) for r in inst] for inst in resps]


DEFAULT_TAG_PAIRS: tuple[tuple[str, str], ...] = (("<think>", "</think>"), ("<thinking>", "</thinking>"))


def strip_reasoning_tags(text: str, tag_pairs: Sequence[Sequence[str]]) -> str:
    """``text`` without ``<think>…</think>`` blocks (per pair); a lone closing tag keeps what follows it."""
    result = text
    for start_tag, end_tag in tag_pairs:
        while start_tag in result and end_tag in result:
            start = result.find(start_tag)
            end = result.find(end_tag, start)
            if start == -1 or end == -1:
                break
            result = result[:start] + result[end + len(end_tag) :]
        if end_tag in result and start_tag not in result:
            result = result.rsplit(end_tag, 1)[-1]
    return result.strip()


class StripThinkingFilter(Filter):
    def __init__(self, tag_pairs: Sequence[Sequence[str]] | None = None) -> None:
        self.tag_pairs = [list(p) for p in (tag_pairs or DEFAULT_TAG_PAIRS)]

    def apply(self, resps: Any, docs: Any) -> Any:
        return [[strip_reasoning_tags(r, self.tag_pairs) if isinstance(r, str) else r for r in inst] for inst in resps]


FILTERS: Registry[Callable[..., Filter]] = Registry("filter")
FILTERS.update({
    "take_first": TakeFirstFilter,
    "regex": RegexFilter,
    "majority_vote": MajorityVoteFilter,
    "take_first_k": TakeKFilter,
    "remove_whitespace": WhitespaceFilter,
    "lowercase": LowercaseFilter,
    "uppercase": UppercaseFilter,
    "map": MapFilter,
    "multi_choice_regex": MultiChoiceRegexFilter,
    "strip_thinking": StripThinkingFilter,
})


@dataclass
class FilterPipeline:
    """One named ``filter_list`` entry: its filters applied in order to one request's responses (a
    ``generate_until`` doc has one request with ``repeats`` responses; a ``multiple_choice`` doc one request
    per choice, each with its one log-likelihood)."""

    name: str
    filters: list[Any]

    def apply(self, responses: Sequence[Any], doc: Mapping[str, Any]) -> Any:
        value: Any = [list(responses)]
        for f in self.filters:
            value = list(f.apply(value, [doc]))
        return value[0]


def build_pipelines(value: Any, where: str) -> list[FilterPipeline]:
    """``filter_list`` (already with ``!function`` classes imported) as pipelines; none -> take_first."""
    if value is None:
        return [FilterPipeline("none", [TakeFirstFilter()])]
    if not isinstance(value, list) or not value:
        raise TaskError(f"{where}: `filter_list` must be a non-empty list",
                        hint="e.g. - name: strict\\n  filter: [...]")
    pipelines = []
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or "filter" not in entry:
            raise TaskError(f"{where}: each filter_list entry needs `name` and `filter`", hint="see lmms-eval's docs")
        steps = entry["filter"]
        if not isinstance(steps, list):
            raise TaskError(f"{where}: filter {entry['name']}: `filter` must be a list of {{function: …}}")
        pipelines.append(FilterPipeline(entry["name"], [_build_step(step, entry["name"], where) for step in steps]))
    return pipelines


def _build_step(step: Any, pipeline: str, where: str) -> Any:
    if not isinstance(step, dict) or "function" not in step:
        raise TaskError(f"{where}: filter {pipeline}: each step needs `function`", hint="e.g. - function: take_first")
    function = step["function"]
    kwargs = {k: v for k, v in step.items() if k != "function"}
    if isinstance(function, str):
        factory: Callable[..., Any] = FILTERS.lookup(function, where=f"{where}: filter {pipeline}: ",
                                                     hint_tail="; or `function: !function utils.MyFilter`")
    elif callable(function):
        factory = function
    else:
        raise TaskError(f"{where}: filter {pipeline}: `function` must be a name or a !function")
    try:
        built = factory(**kwargs) if kwargs else factory()
    except TaskError:
        raise
    except Exception as exc:
        raise TaskError(f"{where}: filter {pipeline}: building {function!r} failed: {type(exc).__name__}: {exc}",
                        hint="check the filter's arguments") from exc
    if not callable(getattr(built, "apply", None)):
        raise TaskError(f"{where}: filter {pipeline}: {function!r} has no apply(resps, docs) method")
    return built
