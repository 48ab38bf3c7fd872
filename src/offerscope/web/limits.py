"""Sizes the API and the pages share."""

from __future__ import annotations

# A CSV upload (an import) is streamed to disk up to this size; larger files are split.
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
