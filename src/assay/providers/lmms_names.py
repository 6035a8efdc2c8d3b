"""lmms-eval's ``--model`` names and what each one is in assay (names only: no lmms-eval code).

Measured from lmms-eval's model registry (``lmms_eval/models/__init__.py``, 0.7.x): its API models map to the
provider that speaks the same API; its local-GPU backends (vLLM, SGLang, Hugging Face classes) run the model
inside lmms-eval, which assay does not do, so they get one line on serving the model as an OpenAI-compatible
server instead.
"""

from __future__ import annotations

#: lmms-eval API model name -> assay provider (said once as a notice when used).
API_MODELS: dict[str, str] = {
    "gpt4v": "openai",
    "batch_gpt4": "openai",
    "gpt4o_audio": "openai",
    "async_openai": "openai_compatible",
    "async_openai_compatible": "openai_compatible",
    "async_openai_compatible_chat": "openai_compatible",
    "claude": "anthropic",
    "gemini_api": "gemini",
    "grok": "xai",
}

#: lmms-eval names assay refuses, with the command that does the same thing here.
REFUSED_MODELS: dict[str, str] = {
    "litellm": "assay calls each vendor's API itself: use --model openai, anthropic, gemini, azure_openai… "
               "(see `assay models`)",
    "litellm_chat": "assay calls each vendor's API itself: use --model openai, anthropic, gemini, azure_openai… "
                    "(see `assay models`)",
    "litellm_compatible": "assay calls each vendor's API itself: use --model openai, anthropic, gemini… "
                          "(see `assay models`)",
    "qwen_vl_api": "DashScope speaks the OpenAI protocol: --model openai_compatible --model_args "
                   "model=qwen-vl-max,base_url=https://dashscope.aliyuncs.com/compatible-mode/v1 (key in "
                   "OPENAI_API_KEY or api_key=)",
    "generation_api": "image and video generation models are not evaluated by assay",
    "from_log": "assay re-scores a run's saved answers with --use_cache (the same run again costs nothing)",
    "dummy": "use --model local (a small embedded model, no key) to try a task",
    "dummy_video_reader": "use --model local (a small embedded model, no key) to try a task",
}

#: lmms-eval backends that load the model's weights on local GPUs.
LOCAL_BACKENDS: frozenset[str] = frozenset({
    "aero", "aero_realtime_vllm", "aero_realtime_vllm_chat", "aria", "async_hf", "async_hf_model",
    "audio_flamingo_3", "auroracap", "bagel", "bagel_lmms_engine", "bagel_umm", "bagel_unig2u", "baichuan_omni",
    "cambrians", "cambrians_vsc", "cambrians_vsc_streaming", "cambrians_vsr", "cogvlm2", "cosmos_wm", "egogpt",
    "fastvideo", "fuyu", "gemma3", "glm4v", "huggingface", "hf", "idefics2", "illume_plus", "instructblip",
    "internvideo2", "internvideo2_5", "internvl", "internvl2", "internvl3", "internvl3_5", "internvl_hf",
    "kimi_audio", "lfm2_5_vl", "llama4_scout", "llama_vid", "llama_vision", "llava", "llava_hf", "llava_onevision",
    "llava_onevision1_5", "llava_onevision2", "llava_onevision_moviechat", "llava_sglang", "llava_vid", "longva",
    "longvila", "ltx_video", "magi1_wm", "mantis", "minicpm_o", "minicpm_v", "minimonkey", "mmada", "moviechat",
    "mplug_owl_video", "nanovlm", "neo_ov", "ola", "omnivinci", "oryx", "ovis_u1", "penguinvl", "phi3v",
    "phi4_multimodal", "plm", "qwen2_5_omni", "qwen2_5_vl", "qwen2_audio", "qwen2_vl", "qwen3_5", "qwen3_omni",
    "qwen3_vl", "qwen_image_edit", "qwen_vl", "ross", "sam3", "sglang", "slime", "srt_api", "thyme", "tinyllava",
    "uni_moe_2_omni", "videoChatGPT", "video_llava", "video_salmonn_2", "videochat2", "videochat_flash",
    "videollama3", "vila", "vita", "vllm", "vllm_generate", "vora", "wan2_1_t2i", "wan2_1_t2v", "wan2_2",
    "wan2_2_t2v", "whisper", "whisper_tt", "whisper_vllm", "xcomposer2_4KHD", "xcomposer2d5",
})


def serve_hint(backend: str, model: str | None) -> str:
    """One line: how to run what lmms-eval's ``backend`` ran, as a server assay can call."""
    name = model or "MODEL"
    server = (f"python -m sglang.launch_server --model-path {name} --port 8000" if "sglang" in backend or
              backend == "srt_api" else f"vllm serve {name} --port 8000")
    return (f"serve it as an OpenAI-compatible server ({server}), then --model openai_compatible "
            f"--model_args model={name},base_url=http://localhost:8000/v1")
