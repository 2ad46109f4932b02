"""Where rackwright keeps what it computed once and can reuse: the validated catalog and pint's unit definitions.

The folder is the user's cache directory (``platformdirs``), or ``RACKWRIGHT_CACHE_DIR``; set that to ``off``
to read everything afresh. Entries are keyed by the hash of everything they were built from, so an edited
catalog file or a new rackwright version never reads a stale entry; a folder that cannot be written only costs
the time saved.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path | None:
    """The cache folder, or None when caching is off."""
    setting = os.environ.get("RACKWRIGHT_CACHE_DIR")
    if setting == "off":
        return None
    if setting:
        return Path(setting)
    import platformdirs

    return Path(platformdirs.user_cache_dir("rackwright"))
