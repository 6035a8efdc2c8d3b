"""lmms-eval's plugin convention: AVAILABLE_MODELS maps a model name to a class in models/<name>.py."""

AVAILABLE_MODELS = {"echo_legacy": "EchoLegacy"}
