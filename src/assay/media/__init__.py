"""Media for prompts: images and video frames (and audio) decoded, fitted to a provider's limits, encoded.
Imports only the ground floor; heavy libraries (PIL, PyAV) inside the functions that need them."""

from typing import TYPE_CHECKING

from assay.env.lazy import moved_names

if not TYPE_CHECKING:  # the old module's names, for code written before it became this package
    __getattr__ = moved_names(__name__, "assay.media.image", "assay.media.video")
