"""JSON-lines docs stay in their files: checked up front, read one at a time, the DocList API on demand."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from assay.errors import DatasetError
from assay.tasks.data.doclist import DocList
from assay.tasks.data.jsonl_docs import DocSelection, JsonlDocs, _parse
from assay.tasks.data.load import select_docs
from assay.tasks.data.local_files import read_local_files


def jsonl(path: Path, rows: list[object], *, bom: bool = False, blank: bool = False) -> Path:
    lines = [json.dumps(r, ensure_ascii=False) for r in rows]
    if blank:
        lines.insert(1, "   ")
    path.write_text(("\ufeff" if bom else "") + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_jsonl_files_are_read_doc_by_doc_with_the_same_answers_as_a_doclist(tmp_path: Path) -> None:
    a = jsonl(tmp_path / "a.jsonl", [{"id": i, "q": f"é{i}"} for i in range(3)], bom=True, blank=True)
    b = jsonl(tmp_path / "b.jsonl", [{"id": 3, "extra": True}])
    docs = read_local_files([a, b])
    assert isinstance(docs, JsonlDocs)
    expected = [{"id": 0, "q": "é0"}, {"id": 1, "q": "é1"}, {"id": 2, "q": "é2"}, {"id": 3, "extra": True}]
    assert len(docs) == 4 and list(docs) == expected
    assert docs[-1] == expected[-1] and docs[1:3] == DocList(expected[1:3])
    assert docs.column_names == ["id", "q", "extra"] and docs["id"] == [0, 1, 2, 3]
    assert docs.filter(lambda d: d["id"] % 2) == DocList([expected[1], expected[3]])  # DocList API, in memory
    assert docs.map(lambda d: {"n": d["id"] * 2})[2]["n"] == 4
    with pytest.raises(IndexError):
        docs[4]


@pytest.mark.parametrize(("content", "says"), [
    ('{"a": 1}\n{"a": \n', "b.jsonl:2: invalid JSON line"),
    ('{"a": 1}\n[1, 2]\n', "row 2 is a list"),
    (b'{"a": "\xff"}\n', "b.jsonl:1: not UTF-8"),
])
def test_a_broken_line_fails_at_load_naming_file_and_line(tmp_path: Path, content: str | bytes, says: str) -> None:
    """Counting the docs (what a run does before its first request, unless --limit N needs fewer) checks
    every line."""
    path = tmp_path / "b.jsonl"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(DatasetError, match=says):
        len(read_local_files([path]))


def test_a_selection_reads_each_doc_only_when_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = read_local_files([jsonl(tmp_path / "d.jsonl", [{"id": i} for i in range(100)])])
    reads: list[int] = []
    real = JsonlDocs._read

    def counting(self: JsonlDocs, i: int) -> dict[str, object]:
        reads.append(i)
        return real(self, i)

    monkeypatch.setattr(JsonlDocs, "_read", counting)
    chosen = select_docs(docs, limit=10, offset=5, shuffle_seed=7)
    assert isinstance(chosen, DocSelection) and len(chosen) == 10 and reads == []
    first_id, first = chosen[0]
    assert reads == [first_id] and first == {"id": first_id}
    first["id"] = -1  # a copy: the run may change it, the dataset does not
    assert chosen[0] == (first_id, {"id": first_id})
    assert [i for i, _ in chosen] == [d["id"] for _, d in chosen]


def test_docs_can_be_read_from_several_threads(tmp_path: Path) -> None:
    docs = read_local_files([jsonl(tmp_path / "d.jsonl", [{"id": i, "pad": "x" * i} for i in range(400)])])
    seen: list[list[int]] = [[], []]

    def read_all(out: list[int], step: int) -> None:
        out.extend(docs[i]["id"] for i in range(0, 400, step))

    threads = [threading.Thread(target=read_all, args=(seen[k], step)) for k, step in ((0, 1), (1, 3))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [list(range(400)), list(range(0, 400, 3))]


_SCALARS = st.one_of(
    st.none(), st.booleans(), st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**40), max_value=10**40), st.text(),
    st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**18, -0.0, 1e300]),
)
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner,
                                                                                                 max_size=4),
                       max_leaves=12)


def _same(a: object, b: object) -> bool:
    """Equal, of the same types all the way down, in the same key order (NaN equal to NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)  # type: ignore[index]
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))  # type: ignore[arg-type]
    if isinstance(a, float) and isinstance(b, float):
        return (a != a and b != b) or (a == b and str(a) == str(b))
    return a == b


@hyp_settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(), _VALUES, max_size=6), st.booleans(), st.booleans())
def test_a_line_is_read_as_json_reads_it(doc: dict[str, object], ascii_only: bool, duplicate: bool) -> None:
    """orjson reads most lines (faster); whatever it would read otherwise goes to json: the doc is always
    json.loads' — big integers, NaN, escapes, lone surrogates, a repeated key and all."""
    text = json.dumps(doc, ensure_ascii=ascii_only)
    if duplicate and doc:
        text = text[:-1] + ", " + json.dumps({next(iter(doc)): "again"})[1:]
    line = text.encode("utf-8", "surrogatepass") + b"\n"
    expected = json.loads(line.decode("utf-8", "surrogatepass"))
    assert _same(_parse(line, Path("x.jsonl"), 2), expected)


@pytest.mark.parametrize("line", [
    b'{"id": 123456789012345678901234567890}', b'{"id": 18446744073709551615, "neg": -9223372036854775809}',
    b'{"x": "\\ud800"}', b'{"x": NaN, "y": -Infinity}', b'{"x": 1e400}', b'{"a": 1, "b": 2, "a": 3}',
    b'{"deep": ' + b"[" * 200 + b"]" * 200 + b"}", b'{"f": 0.1000000000000000055511151231257827}',
    b'\xef\xbb\xbf{"bom": true}',
])
def test_lines_orjson_would_read_otherwise_are_read_as_json_reads_them(line: bytes) -> None:
    expected = json.loads(line.decode("utf-8-sig"))
    assert _same(_parse(line, Path("x.jsonl"), 1), expected)
