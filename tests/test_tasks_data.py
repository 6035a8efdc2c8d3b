"""Datasets: local json/jsonl/csv without `datasets`, DocList, limit/offset/shuffle, the `datasets` path."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from assay.env.settings import Settings
from assay.errors import CredentialError, DatasetError, UsageError
from assay.tasks import DocList, TaskRegistry
from assay.tasks.data.load import map_dataset_error, select_docs
from tests.helpers import write


def rows(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "q": f"question {i}", "a": str(i * 2)} for i in range(n)]


def load(settings: Settings, folder: Path, name: str, model_name: str = "m") -> Any:
    return TaskRegistry.discover(settings, include_paths=[folder]).load(name, settings=settings, model_name=model_name)


def task_yaml(folder: Path, name: str, dataset: str, extra: str = "") -> None:
    write(folder, f"{name}.yaml", f"task: {name}\n{dataset}\ndoc_to_text: q\ndoc_to_target: a\n{extra}")


# -- local files ---------------------------------------------------------------------------------


def test_jsonl_json_and_csv_relative_to_the_yaml_folder(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    data = rows(3)
    write(folder, "data/d.jsonl", "".join(json.dumps(r) + "\n" for r in data))
    write(folder, "data/d.json", json.dumps(data))
    write(folder, "data/nested.json", json.dumps({"meta": 1, "items": data}))
    write(folder, "data/d.csv", "id,q,a\n" + "".join(f'{r["id"]},"{r["q"]}",{r["a"]}\n' for r in data))
    task_yaml(folder, "t_jsonl", "dataset_path: data/d.jsonl")
    task_yaml(folder, "t_json", "dataset_path: json\ndataset_kwargs: {data_files: {test: data/d.json}}")
    task_yaml(folder, "t_field", "dataset_path: json\ndataset_kwargs: {data_files: data/nested.json, field: items}")
    task_yaml(folder, "t_csv", "dataset_path: csv\ndataset_kwargs: {data_files: [data/d.csv]}\ntest_split: test")
    for name in ("t_jsonl", "t_json", "t_field"):
        assert load(settings, folder, name).docs() == data, name
    csv_docs = load(settings, folder, "t_csv").docs()
    assert csv_docs == [{"id": i, "q": f"question {i}", "a": i * 2} for i in range(3)]  # numbers as numbers


def test_data_files_split_selection(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    write(folder, "val.jsonl", '{"q": "v", "a": "1"}\n')
    write(folder, "test.jsonl", '{"q": "t", "a": "2"}\n')
    files = "dataset_path: json\ndataset_kwargs: {data_files: {validation: val.jsonl, test: test.jsonl}}"
    task_yaml(folder, "default_split", files)
    task_yaml(folder, "val_split", files, "test_split: validation\n")
    task_yaml(folder, "bad_split", files, "test_split: train\n")
    assert load(settings, folder, "default_split").docs()[0]["q"] == "t"
    assert load(settings, folder, "val_split").docs()[0]["q"] == "v"
    with pytest.raises(DatasetError, match="test_split 'train' is not in data_files"):
        load(settings, folder, "bad_split").docs()


def test_missing_data_file_is_a_dataset_error(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    task_yaml(folder, "t", "dataset_path: json\ndataset_kwargs: {data_files: missing.jsonl}")
    with pytest.raises(DatasetError, match=r"data file 'missing\.jsonl' not found"):
        load(settings, folder, "t").docs()


def test_bad_json_line_names_file_and_line(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    write(folder, "d.jsonl", '{"q": "ok", "a": "1"}\n{"q": broken}\n')
    task_yaml(folder, "t", "dataset_path: d.jsonl")
    with pytest.raises(DatasetError, match=r"d\.jsonl:2: invalid JSON line"):
        load(settings, folder, "t").docs()


def test_local_loading_never_imports_datasets(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    write(folder, "d.csv", "q,a\nx,1\ny,2\n")
    task_yaml(folder, "t", "dataset_path: d.csv", "process_docs: !function utils.keep_x\n")
    write(folder, "utils.py", "def keep_x(ds):\n    return ds.filter(lambda d: d['q'] == 'x')\n")
    script = textwrap.dedent(f"""\
        import sys
        from assay.env.settings import load_settings
        from assay.tasks import TaskRegistry
        s = load_settings(environ={{}}, discover_dotenv=False)
        r = TaskRegistry.discover(s, include_paths=[{str(folder)!r}])
        docs = r.load("t", settings=s, model_name="m").docs()
        arith = r.load("assay_arith_mc", settings=s, model_name="m").docs(limit=5)
        assert docs == [{{"q": "x", "a": 1}}], docs
        assert len(arith) == 5
        assert "datasets" not in sys.modules, "datasets was imported"
        assert "pyarrow" not in sys.modules, "pyarrow was imported"
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# -- limit / offset / shuffle --------------------------------------------------------------------


def test_limit_count_fraction_offset() -> None:
    docs = DocList(rows(10))
    assert [d["id"] for _, d in select_docs(docs, limit=3)] == [0, 1, 2]
    assert [d["id"] for _, d in select_docs(docs, limit=0.25)] == [0, 1, 2]  # ceil(2.5)
    assert len(select_docs(docs, limit=1.0)) == 10  # a float 1.0 is "all of them"
    assert len(select_docs(docs, limit=1)) == 1  # an int 1 is one doc
    assert [d["id"] for _, d in select_docs(docs, limit=2, offset=7)] == [7, 8]
    assert [d["id"] for _, d in select_docs(docs, offset=8)] == [8, 9]
    assert select_docs(docs, limit=5, offset=20) == []
    for bad in (-1, 1.5, 0.0, True):
        with pytest.raises(UsageError):
            select_docs(docs, limit=bad)


def test_shuffle_with_seed_is_deterministic_and_applies_before_limit() -> None:
    docs = DocList(rows(50))
    first = [d["id"] for _, d in select_docs(docs, limit=10, shuffle_seed=7)]
    again = [d["id"] for _, d in select_docs(docs, limit=10, shuffle_seed=7)]
    other = [d["id"] for _, d in select_docs(docs, limit=10, shuffle_seed=8)]
    full = [d["id"] for _, d in select_docs(docs, shuffle_seed=7)]
    assert first == again != other
    # Each doc keeps its dataset index, whatever the shuffle.
    assert all(i == d["id"] for i, d in select_docs(docs, limit=10, shuffle_seed=7))
    assert first == full[:10]  # shuffled first, then limited
    assert first != list(range(10))
    assert sorted(full) == list(range(50))


def test_task_docs_passes_limit_offset_and_seed(settings: Settings) -> None:
    task = TaskRegistry.discover(settings).load("assay_arith_mc", settings=settings, model_name="m")
    assert [d["id"] for d in task.docs(limit=2, offset=1)] == ["arith-001", "arith-002"]
    assert len(task.docs(limit=0.1)) == 30
    assert task.docs(limit=5, shuffle_seed=3) == task.docs(limit=5, shuffle_seed=3)


# -- DocList -------------------------------------------------------------------------------------


def test_doclist_offers_the_dataset_methods_process_docs_use() -> None:
    docs = DocList(rows(4))
    assert docs.column_names == ["id", "q", "a"]
    assert docs["a"] == ["0", "2", "4", "6"]
    assert isinstance(docs[1:3], DocList) and docs[0]["id"] == 0
    assert [d["id"] for d in docs.filter(lambda d: d["id"] % 2 == 0)] == [0, 2]
    assert [d["id"] for d in docs.filter(lambda d, i: i > 2, with_indices=True)] == [3]
    mapped = docs.map(lambda d: {"double": d["id"] * 2}, remove_columns=["q"])
    assert mapped[3] == {"id": 3, "a": "6", "double": 6}
    assert [d["id"] for d in docs.select([3, 0])] == [3, 0]
    assert docs.shuffle(seed=1) == docs.shuffle(seed=1)
    assert sorted(d["id"] for d in docs.shuffle(seed=1)) == [0, 1, 2, 3]
    assert docs.remove_columns("q").column_names == ["id", "a"]
    assert docs.rename_column("q", "question").column_names == ["id", "question", "a"]
    assert docs.add_column("x", [1, 2, 3, 4])["x"] == [1, 2, 3, 4]
    assert docs.unique("id") == [0, 1, 2, 3] and docs.num_rows == 4
    assert docs[0]["q"] == "question 0"  # nothing above mutated the original
    with pytest.raises(KeyError):
        docs["nope"]
    with pytest.raises(ValueError):
        docs.rename_column("nope", "x")


# -- the `datasets` path --------------------------------------------------------------------------


def test_load_from_disk_and_parquet_through_datasets(settings: Settings, tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    folder = tmp_path / "tasks"
    ds = datasets.Dataset.from_list(rows(6))
    datasets.DatasetDict({"test": ds, "train": ds.select([0])}).save_to_disk(str(folder / "saved"))
    ds.to_parquet(str(folder / "d.parquet"))
    task_yaml(folder, "on_disk", "dataset_path: saved\ndataset_kwargs: {load_from_disk: true}\ntest_split: test")
    task_yaml(folder, "pq", "dataset_path: d.parquet", "process_docs: !function utils.odd\n")
    write(folder, "utils.py", "def odd(ds):\n    return ds.filter(lambda d: d['id'] % 2 == 1)\n")
    on_disk = load(settings, folder, "on_disk")
    assert on_disk.docs(limit=2, offset=1) == rows(6)[1:3]
    assert on_disk.doc_items(limit=3, shuffle_seed=5) == select_docs(DocList(rows(6)), limit=3, shuffle_seed=5)
    pq = load(settings, folder, "pq")
    assert [d["id"] for d in pq.docs()] == [1, 3, 5]
    assert pq.target(pq.docs()[0]) == "2"


def test_missing_load_from_disk_folder(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    task_yaml(folder, "t", "dataset_path: nowhere\ndataset_kwargs: {load_from_disk: true}")
    pytest.importorskip("datasets")
    with pytest.raises(DatasetError, match="load_from_disk folder 'nowhere' not found"):
        load(settings, folder, "t").docs()


class _Response:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


def test_hub_errors_map_to_credential_and_dataset_errors() -> None:
    class GatedRepoError(Exception):
        pass

    class HfHubHTTPError(Exception):
        def __init__(self, msg: str, status: int) -> None:
            super().__init__(msg)
            self.response = _Response(status)

    class DatasetNotFoundError(Exception):
        pass

    gated = map_dataset_error(GatedRepoError("Access to dataset x is restricted"), "org/x", "t")
    assert isinstance(gated, CredentialError)
    assert "HF_TOKEN" in gated.hint and "accept the dataset's terms" in gated.hint
    assert isinstance(map_dataset_error(HfHubHTTPError("401 Client Error", 401), "org/x", "t"), CredentialError)
    assert isinstance(map_dataset_error(HfHubHTTPError("403 Forbidden", 403), "org/x", "t"), CredentialError)
    gated_msg = DatasetNotFoundError("Dataset 'org/x' is a gated dataset on the Hub. You must be authenticated")
    assert isinstance(map_dataset_error(gated_msg, "org/x", "t"), CredentialError)
    missing = map_dataset_error(DatasetNotFoundError("Dataset 'org/x' doesn't exist on the Hub"), "org/x", "t")
    assert type(missing) is DatasetError and "not found" in missing.message and missing.hint
    other = map_dataset_error(ValueError("aggregated columns differ"), "org/x", "t")
    assert type(other) is DatasetError and "ValueError" in other.message


def test_real_huggingface_hub_gated_error_is_a_credential_error() -> None:
    hub_errors = pytest.importorskip("huggingface_hub.errors")
    httpx = pytest.importorskip("httpx")
    request = httpx.Request("GET", "https://huggingface.co/api/datasets/org/x")
    response = httpx.Response(401, request=request)
    try:
        exc = hub_errors.GatedRepoError("Cannot access gated repo", response=response)
    except TypeError:
        pytest.skip("this huggingface_hub builds errors differently")
    assert isinstance(map_dataset_error(exc, "org/x", "t"), CredentialError)
