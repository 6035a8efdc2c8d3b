"""Audio parts: decoding without torch (soundfile, PyAV), resampling (soxr), the length bound, datasets'
Audio cells, the providers' wire formats against emulators that check them, the cache key, the samples
record, refusal before the first request, and the built-in spoken-digits task end to end."""

from __future__ import annotations

import base64
import json
import resource
import time
from pathlib import Path

import numpy as np
import pytest

from assay.errors import ConfigError
from assay.media.audio import AudioValue, decode_audio, encode_audio, looks_like_audio
from assay.model.cache import cache_key
from assay.records import sample_record
from assay.tasks.messages import convert_chat, visual_part
from assay.types import AudioPart, Message, Request, TextPart
from tests.audio_data import by_pitch, encoded, pitch, sent_audio, tone, write_tone
from tests.emulators import GeminiEmulator, OpenAIEmulator
from tests.helpers import results_file, run_cli, samples

KEY = "emu-audio-key-0000000001"


def _wav(part: AudioPart) -> bytes:
    return base64.b64decode(part.data_b64)


# -- decoding, resampling, bounds -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["WAV", "FLAC", "OGG", "MP3", "M4A"])
def test_each_format_is_decoded_resampled_and_keeps_its_pitch(fmt: str) -> None:
    part = encode_audio(encoded(tone(440.0, 1.0, 44_100), 44_100, fmt))
    freq, rate, seconds = pitch(_wav(part))
    assert part.format == "wav" and part.sample_rate == rate == 16_000
    assert abs(freq - 440.0) < 3.0 and abs(seconds - 1.0) < 0.1 and abs(part.duration_s - seconds) < 0.002
    assert part.sha256 and looks_like_audio(_wav(part))


def test_stereo_becomes_mono_and_an_array_value_is_taken_as_it_is() -> None:
    stereo = encode_audio(encoded(tone(300.0, 0.5, 22_050, channels=2), 22_050, "WAV"))
    assert pitch(_wav(stereo))[1] == 16_000
    value = {"array": tone(500.0, 0.5, 8_000).tolist(), "sampling_rate": 8_000, "path": "clip.wav"}
    part = encode_audio(value)
    assert abs(pitch(_wav(part))[0] - 500.0) < 3.0 and part.source == "clip.wav"


def test_an_hour_long_file_is_refused_from_its_header_without_decoding(tmp_path: Path) -> None:
    import soundfile

    path = tmp_path / "hour.flac"
    silence = np.zeros(8_000 * 60, dtype=np.float32)  # a minute at a time: the file is written, not held
    with soundfile.SoundFile(path, "w", 8_000, 1, format="FLAC") as out:
        for _ in range(60):
            out.write(silence)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with pytest.raises(ConfigError) as caught:
        encode_audio(path)
    assert time.perf_counter() - started < 2.0  # not decoded: 28.8M samples would take far longer
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KiB: never held in memory
    assert "3600.0 s long, over the 600 s bound" in caught.value.message and "not sent" in caught.value.message
    assert caught.value.hint


@pytest.mark.parametrize(("source", "words"), [
    (b"not audio at all", "cannot decode audio"), ("missing.wav", "not found"),
    ({"array": [], "sampling_rate": 16_000}, "shape"), ({"array": [0.1], "sampling_rate": 0}, "sampling_rate"),
])
def test_bad_audio_is_a_config_error_with_a_hint(source: object, words: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        encode_audio(source)
    assert words in caught.value.message and caught.value.hint


def test_a_datasets_cell_decodes_only_when_a_helper_reads_the_array() -> None:
    data = encoded(tone(250.0, 0.5, 16_000), 16_000, "FLAC")
    cell = AudioValue(data, "x.flac")
    part = visual_part(cell)
    assert isinstance(part, AudioPart) and cell._decoded is None  # sent from the file's bytes
    assert cell["sampling_rate"] == 16_000 and len(cell["array"]) == 8_000 and cell["path"] == "x.flac"
    assert dict(cell).keys() == {"path", "array", "sampling_rate"}
    # helpers test isinstance(value, dict) and "array" in value (VoxPopuli, WenetSpeech), and copy it
    assert isinstance(cell, dict) and "array" in cell and {**cell}["sampling_rate"] == 16_000


def test_helpers_return_values_become_audio_parts(tmp_path: Path) -> None:
    path = write_tone(tmp_path / "a.ogg", 700.0)
    raw = encoded(tone(700.0), 16_000, "WAV")
    for item in (str(path), path, raw, {"bytes": raw, "path": None}, {"bytes": None, "path": str(path)}):
        assert isinstance(visual_part(item), AudioPart), item
    chat = [{"role": "user", "content": [{"type": "audio", "url": str(path)}, {"type": "text", "text": "hi"}]}]
    (message,) = convert_chat(chat)
    assert isinstance(message.parts[0], AudioPart) and message.has_audio()


# -- cache key and samples record ---------------------------------------------------------------------


def test_cache_key_follows_the_clip_content_and_the_record_never_holds_bytes() -> None:
    wav = encoded(tone(400.0), 16_000, "WAV")
    a, b = encode_audio(wav), encode_audio(encoded(tone(410.0), 16_000, "WAV"))
    samples16, _ = decode_audio(wav)  # the same samples, handed over decoded and from another path
    same = encode_audio({"array": samples16, "sampling_rate": 16_000, "path": "elsewhere.wav"})

    def request(part: AudioPart) -> Request:
        return Request(messages=(Message("user", (part, TextPart("what?"))),))

    identity = {"provider": "openai", "model": "m"}
    assert cache_key(identity, request(a)) == cache_key(identity, request(same))  # where it came from: no matter
    assert cache_key(identity, request(a)) != cache_key(identity, request(b))
    record = sample_record(task="t", doc_id=0, doc={"audio": AudioValue(b"x", "a.wav")}, target="x",
                           request=request(a), response=None, error=None, scores=None, latency_s=0.1)
    assert record["audio"] == [{"format": "wav", "duration_s": 1.0, "sample_rate": 16_000, "sha256": a.sha256}]
    assert record["doc"]["audio"] == "<audio>"
    assert record["arguments"]["messages"][0]["content"] == "<audio 1 s> what?"
    assert a.data_b64[:200] not in json.dumps(record)


# -- providers' wire formats ----------------------------------------------------------------------------


def _request(tmp_path: Path) -> Request:
    part = encode_audio(write_tone(tmp_path / "t.flac", 600.0, rate=48_000))
    return Request(messages=(Message("user", (part, TextPart("which pitch?"))),))


@pytest.mark.parametrize(("provider", "args", "kind"), [
    ("openai", {}, "input_audio"), ("openai_compatible", {}, "input_audio"),
    ("openai_compatible", {"audio_part": "audio_url"}, "audio_url"),
])
async def test_chat_completions_send_audio_as_the_api_takes_it(provider: str, args: dict[str, str], kind: str,
                                                               tmp_path: Path, settings: object) -> None:
    from assay.providers import load_provider_class

    with OpenAIEmulator(key=KEY, answer=by_pitch({6: "six hundred"}), vllm=kind == "audio_url") as emu:
        instance = load_provider_class(provider)(settings, {"model": "m", "base_url": emu.api_root, "api_key": KEY,
                                                            **args})  # type: ignore[arg-type]
        try:
            response = await instance.generate(_request(tmp_path))
        finally:
            await instance.aclose()
    assert emu.problems == [] and response.text == "six hundred"
    # a 1 s clip, as OpenAI counts it (prompt_tokens_details); vLLM reports no audio detail
    assert response.usage.audio_input_tokens == (10 if kind == "input_audio" else 0)
    body = emu.requests[-1].body
    assert body["messages"][0]["content"][0]["type"] == kind and len(sent_audio(body)) == 1


async def test_openai_itself_refuses_vllms_audio_url(tmp_path: Path, settings: object) -> None:
    from assay.errors import ProviderError
    from assay.providers import load_provider_class

    with OpenAIEmulator(key=KEY) as emu:
        instance = load_provider_class("openai")(settings, {"model": "m", "base_url": emu.api_root, "api_key": KEY,
                                                            "audio_part": "audio_url"})  # type: ignore[arg-type]
        try:
            with pytest.raises(ProviderError):
                await instance.generate(_request(tmp_path))
        finally:
            await instance.aclose()
    assert any("audio_url" in p for p in emu.problems)  # the emulator checks: it is not OpenAI's part


async def test_gemini_sends_audio_inline(tmp_path: Path, settings: object) -> None:
    from assay.providers import load_provider_class

    with GeminiEmulator(key=KEY, answer=by_pitch({6: "six"})) as emu:
        instance = load_provider_class("gemini")(settings, {"model": "gemini-2.5-flash", "base_url": emu.base_url,
                                                            "api_key": KEY})  # type: ignore[arg-type]
        try:
            response = await instance.generate(_request(tmp_path))
        finally:
            await instance.aclose()
    assert emu.problems == [] and response.text == "six"
    assert response.usage.audio_input_tokens == 32  # promptTokensDetails, modality AUDIO
    inline = emu.requests[-1].body["contents"][0]["parts"][0]["inlineData"]
    assert inline["mimeType"] == "audio/wav"


def test_audio_tokens_are_priced_apart_where_the_vendor_does() -> None:
    from assay.model.cost import price_for
    from assay.types import Usage

    price = price_for("gpt-4o-audio-preview-2025-06-03")
    assert price is not None and price.audio_input == 40.0
    usage = Usage(input_tokens=100, output_tokens=10, audio_input_tokens=80)
    assert price.cost(usage) == pytest.approx((20 * 2.5 + 10 * 10.0 + 80 * 40.0) / 1e6)
    text_only = price_for("gpt-4o")
    assert text_only is not None and text_only.cost(usage) == pytest.approx((100 * 2.5 + 10 * 10.0) / 1e6)
    flash = price_for("gemini-2.5-flash")
    assert flash is not None and flash.as_dict()["audio_input_per_mtok"] == 1.0


def test_declared_modalities() -> None:
    from assay.providers import PROVIDERS

    hears = {name for name, spec in PROVIDERS.items() if "audio" in spec.modalities}
    assert {"openai", "openai_compatible", "azure_openai", "gemini"} <= hears
    assert not hears & {"anthropic", "xai", "reka", "local"}


# -- runs ----------------------------------------------------------------------------------------------------


def test_builtin_spoken_digits_runs_offline_against_a_loopback_server(run_dir: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    with OpenAIEmulator(key=KEY, answer=lambda body: "zero, eight and one") as emu:
        code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                               f"model=m,base_url={emu.api_root},api_key={KEY}", "--tasks", "assay_spoken_digits",
                               "--output_path", str(run_dir / "out"), "--log_samples")
    assert code == 0, err
    assert emu.problems == [] and len(emu.requests) == 12
    for seen in emu.requests:
        (clip,) = sent_audio(seen.body)
        _, rate, seconds = pitch(clip)
        assert rate == 16_000 and 0.5 < seconds < 5.0
    rows = samples(run_dir / "out")
    for row in rows:  # the answer is right exactly for the clip that says 0 8 1
        assert row["metrics"]["exact_match"] == float(row["target"] == "0 8 1")
        assert row["audio"][0]["sample_rate"] == 16_000 and len(row["audio"][0]["sha256"]) == 64
        assert row["usage"]["audio_input_tokens"] == round(10 * row["audio"][0]["duration_s"])
    result = results_file(run_dir / "out")["results"]["assay_spoken_digits"]
    assert result["exact_match,none"] == pytest.approx(sum(r["target"] == "0 8 1" for r in rows) / 12)


@pytest.mark.parametrize("model", ["anthropic", "local"])
def test_a_model_without_audio_is_refused_before_the_first_request(model: str, run_dir: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from tests.emulators import AnthropicEmulator

    with AnthropicEmulator(key=KEY) as emu:
        args = ["--model_args", f"model=claude-sonnet-4-5,base_url={emu.base_url},api_key={KEY}"] \
            if model == "anthropic" else []
        code, _, err = run_cli(capsys, "--model", model, *args, "--tasks", "assay_spoken_digits",
                               "--output_path", str(run_dir / "out"))
    assert code == 2 and emu.requests == []
    assert "error:" in err and "audio" in err and "hint:" in err and "Traceback" not in err
    assert not list((run_dir / "out").rglob("*_results.json"))


def test_tasks_check_names_what_resolves_but_cannot_run_on_the_model(cli_env: dict[str, str],
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from assay.cli import main

    assert main(["tasks", "--check", "assay_*", "--model", "anthropic"]) == 1
    out = capsys.readouterr().out
    assert "7 of 7 tasks resolve" in out  # resolving is one thing…
    assert "resolves but cannot run on this provider: assay_spoken_digits (needs audio" in out  # …running another
    assert "assay_colors" not in out
    assert main(["tasks", "--check", "assay_*", "--model", "gemini"]) == 0
    assert "every task that resolves can run on --model gemini" in capsys.readouterr().out
    assert main(["tasks", "--check", "assay_*"]) == 0  # without --model: resolving only, as before
    assert "cannot run" not in capsys.readouterr().out


def test_log_media_saves_each_clip_once_and_the_moved_report_plays_them(run_dir: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    from assay.report.data import run_payload
    from assay.report.media import MediaTable
    from assay.sinks.rundir import load_run

    with OpenAIEmulator(key=KEY, answer=lambda body: "one two three") as emu:
        code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                               f"model=m,base_url={emu.api_root},api_key={KEY}", "--tasks", "assay_spoken_digits",
                               "--limit", "4", "--output_path", str(run_dir / "out"), "--log_samples",
                               "--log_media", "--report")
    assert code == 0, err
    rows = samples(run_dir / "out")
    clips = sorted(p for p in (run_dir / "out").rglob("*.wav"))
    assert len(clips) == 4 and all(c.name == f"{r['audio'][0]['sha256']}.wav" for c, r in
                                   zip(clips, sorted(rows, key=lambda r: r["audio"][0]["sha256"]), strict=True))
    results = next((run_dir / "out").rglob("*_results.json"))
    for row in rows:  # the clip saved is the one sent, referenced from its sample
        (entry,) = row["media"]
        assert entry["kind"] == "audio" and pitch((results.parent / entry["path"]).read_bytes())[1] == 16_000
    items = run_payload(load_run(results), MediaTable())["items"]
    assert all(item["i"] and item["i"][0][1] == "audio" and item["au"][0][1] == 16_000 for item in items)
    moved = run_dir / "moved"
    shutil.move(str(run_dir / "out"), moved)  # the report carries its clips: moving the folder loses nothing
    page = next(moved.rglob("*.html")).read_text()
    assert page.count("data:audio/wav;base64,") == 4


def test_an_hour_long_clip_fails_its_own_sample_only(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import soundfile

    from tests.helpers import write

    folder = run_dir / "task"
    write_tone(folder / "short-0.wav", 500.0)
    write_tone(folder / "short-1.wav", 700.0)
    with soundfile.SoundFile(folder / "hour.flac", "w", 8_000, 1, format="FLAC") as out:
        for _ in range(60):
            out.write(np.zeros(8_000 * 60, dtype=np.float32))
    docs = [{"clip": name, "answer": "x"} for name in ("short-0.wav", "hour.flac", "short-1.wav")]
    write(folder, "docs.jsonl", "".join(json.dumps(d) + "\n" for d in docs))
    write(folder, "utils.py", "from pathlib import Path\n\ndef clip(doc):\n"
                              "    return [str(Path(__file__).parent / doc['clip'])]\n")
    write(folder, "long_audio.yaml", """
        task: long_audio
        dataset_path: json
        dataset_kwargs: {data_files: {test: docs.jsonl}}
        test_split: test
        output_type: generate_until
        doc_to_visual: !function utils.clip
        doc_to_text: "What do you hear?"
        doc_to_target: answer
        metric_list: [{metric: exact_match, aggregation: mean, higher_is_better: true}]
        """)
    with OpenAIEmulator(key=KEY, answer=lambda body: "x") as emu:
        code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                               f"model=m,base_url={emu.api_root},api_key={KEY}", "--tasks", "long_audio",
                               "--include_path", str(folder), "--output_path", str(run_dir / "out"), "--log_samples",
                               "--max_error_rate", "0.5")
    assert code == 0, err
    assert len(emu.requests) == 2  # the hour was never sent
    rows = {r["doc_id"]: r for r in samples(run_dir / "out")}
    assert rows[1]["error"]["message"].endswith("hour.flac is 3600.0 s long, over the 600 s bound for one audio "
                                                "part (not sent)") and rows[1]["resps"] == []
    assert rows[0]["metrics"]["exact_match"] == rows[2]["metrics"]["exact_match"] == 1.0
    assert "Traceback" not in err


async def test_azure_sends_input_audio_to_its_deployment(tmp_path: Path, settings: object) -> None:
    from assay.providers import load_provider_class
    from tests.emulators import AzureEmulator

    with AzureEmulator(key=KEY, answer=by_pitch({6: "six hundred"})) as emu:
        instance = load_provider_class("azure_openai")(settings, {"deployment": "gpt4o-deploy",
                                                                  "endpoint": emu.base_url,
                                                                  "api_key": KEY})  # type: ignore[arg-type]
        try:
            response = await instance.generate(_request(tmp_path))
        finally:
            await instance.aclose()
    assert emu.problems == [] and response.text == "six hundred" and response.usage.audio_input_tokens == 10
    assert emu.requests[-1].body["messages"][0]["content"][0]["input_audio"]["format"] == "wav"


def test_the_bound_is_a_setting(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSAY_AUDIO_MAX_SECONDS", "0.5")  # every spoken-digits clip is longer
    with OpenAIEmulator(key=KEY) as emu:
        code, _, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                               f"model=m,base_url={emu.api_root},api_key={KEY}", "--tasks", "assay_spoken_digits",
                               "--limit", "2", "--output_path", str(run_dir / "out"), "--log_samples")
    assert code != 0 and emu.requests == [] and "Traceback" not in err
    assert all("over the 0.5 s bound" in row["error"]["message"] for row in samples(run_dir / "out"))


def test_an_audio_run_leaks_no_secret_anywhere(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys in the environment, a server echoing them in answers: samples, media, report, cache stay clean."""
    from tests.adversarial.scan import leaks
    from tests.fault_server import FaultServer

    secrets = ("sk-audio-OPENAI-scan-000001", "AIzaAudioGOOGLEscan000002")
    monkeypatch.setenv("OPENAI_API_KEY", secrets[0])
    monkeypatch.setenv("GOOGLE_API_KEY", secrets[1])
    with FaultServer(answer=lambda body: f"4 9 2 -- echo {' '.join(secrets)}") as server:
        code, out, err = run_cli(capsys, "--model", "openai_compatible", "--model_args",
                                 f"model=m,base_url={server.base_url}", "--tasks", "assay_spoken_digits",
                                 "--limit", "3", "--output_path", str(run_dir / "out"), "--log_samples",
                                 "--log_media", "--report", "--use_cache", "--verbosity", "DEBUG")
    assert code == 0, err
    assert {h["Authorization"] for h in server.headers} == {f"Bearer {secrets[0]}"}
    assert leaks(secrets, [out, err], [run_dir / "out", run_dir / "home"]) == []
