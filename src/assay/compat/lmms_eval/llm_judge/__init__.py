"""``lmms_eval.llm_judge`` (placeholder): lmms-eval's judge client API, provided by the judge work."""
