"""Vendors' batch APIs: the model's requests sent as batches, persisted, polled, and read back."""
