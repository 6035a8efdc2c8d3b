"""Media for prompts: images and video frames (and audio) decoded, fitted to a provider's limits, encoded.
Imports only the ground floor; heavy libraries (PIL, PyAV) inside the functions that need them."""
