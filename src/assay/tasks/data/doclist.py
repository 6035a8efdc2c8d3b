"""``DocList``: the docs of a local json/jsonl/csv dataset, without the ``datasets`` library.

It is a plain ``list`` of dicts that also answers the ``datasets.Dataset`` calls lmms-eval
``process_docs`` functions commonly make (``filter``, ``map``, ``select``, ``shuffle``,
``remove_columns``, ``rename_column``, ``column_names``, ``ds["column"]``), so those functions run
unchanged on either. Methods return new lists and never mutate, like ``datasets``. Slicing keeps list
semantics (a ``DocList``), unlike ``Dataset`` slicing which returns a dict of columns.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any, SupportsIndex, overload

Doc = dict[str, Any]


class DocList(list[Doc]):
    @overload
    def __getitem__(self, key: SupportsIndex) -> Doc: ...
    @overload
    def __getitem__(self, key: slice) -> DocList: ...
    @overload
    def __getitem__(self, key: str) -> list[Any]: ...

    def __getitem__(self, key: SupportsIndex | slice | str) -> Doc | DocList | list[Any]:
        if isinstance(key, str):
            if self and key not in self.column_names:
                raise KeyError(f"column {key!r} not in {self.column_names}")
            return [doc.get(key) for doc in self]
        if isinstance(key, slice):
            return DocList(super().__getitem__(key))
        return super().__getitem__(key)

    @property
    def column_names(self) -> list[str]:
        """Every key seen, in first-seen order (docs of a file may not all have every key)."""
        seen: dict[str, None] = {}
        for doc in self:
            seen.update(dict.fromkeys(doc))
        return list(seen)

    @property
    def num_rows(self) -> int:
        return len(self)

    def filter(self, function: Callable[..., Any], with_indices: bool = False, **_ignored: Any) -> DocList:
        """Docs for which ``function(doc)`` (or ``function(doc, index)``) is truthy."""
        if with_indices:
            return DocList(doc for i, doc in enumerate(self) if function(doc, i))
        return DocList(doc for doc in self if function(doc))

    def map(
        self,
        function: Callable[..., Any],
        with_indices: bool = False,
        remove_columns: str | Sequence[str] | None = None,
        **_ignored: Any,
    ) -> DocList:
        """Each doc updated with the dict ``function`` returns (``None`` leaves it as it is)."""
        out = DocList()
        for i, doc in enumerate(self):
            update = function(dict(doc), i) if with_indices else function(dict(doc))
            if update is not None and not isinstance(update, dict):
                raise TypeError(f"map function must return a dict or None, got {type(update).__name__}")
            out.append({**doc, **(update or {})})
        return out.remove_columns(remove_columns) if remove_columns else out

    def select(self, indices: Iterable[int], **_ignored: Any) -> DocList:
        return DocList(list.__getitem__(self, i) for i in indices)

    def shuffle(self, seed: int | None = None, **_ignored: Any) -> DocList:
        order = list(range(len(self)))
        random.Random(seed).shuffle(order)
        return self.select(order)

    def remove_columns(self, column_names: str | Sequence[str]) -> DocList:
        drop = {column_names} if isinstance(column_names, str) else set(column_names)
        missing = drop - set(self.column_names)
        if self and missing:
            raise ValueError(f"columns {sorted(missing)} not in {self.column_names}")
        return DocList({k: v for k, v in doc.items() if k not in drop} for doc in self)

    def select_columns(self, column_names: str | Sequence[str]) -> DocList:
        keep = [column_names] if isinstance(column_names, str) else list(column_names)
        return DocList({k: doc[k] for k in keep if k in doc} for doc in self)

    def rename_column(self, original_column_name: str, new_column_name: str) -> DocList:
        if self and original_column_name not in self.column_names:
            raise ValueError(f"column {original_column_name!r} not in {self.column_names}")
        return DocList(
            {(new_column_name if k == original_column_name else k): v for k, v in doc.items()} for doc in self
        )

    def add_column(self, name: str, column: Sequence[Any]) -> DocList:
        if len(column) != len(self):
            raise ValueError(f"column {name!r} has {len(column)} values for {len(self)} docs")
        return DocList({**doc, name: value} for doc, value in zip(self, column, strict=True))

    def unique(self, column: str) -> list[Any]:
        return list(dict.fromkeys(self[column]))

    def to_list(self) -> list[Doc]:
        return [dict(doc) for doc in self]
