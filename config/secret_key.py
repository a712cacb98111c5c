"""The secret key when DJANGO_SECRET_KEY is not set: one generated for this installation on its first run and
kept in VAR_DIR/secret_key (mode 0600), so no key is ever published with the code.

Several web hosts must share one key (sessions, CSRF, signed QR tokens): set DJANGO_SECRET_KEY on each, or
give them the same VAR_DIR.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

MIN_LENGTH = 50
KEY_FILE_NAME = "secret_key"


def secret_key_problem(key: str) -> str | None:
    """Why `key` cannot sign anything (None: it can)."""
    if len(key) < MIN_LENGTH or len(set(key)) < 5:
        return f"must be a random value of {MIN_LENGTH}+ characters"
    if key.startswith("django-insecure-") or "insecure" in key:
        return "is a development key"
    return None


def secret_key_from_file(var_dir: Path) -> str:
    """The installation's key from `var_dir`/secret_key, generated (secrets.token_urlsafe(64)) on first use.

    The file appears whole or not at all: the key is written to a private temporary file (mkstemp: 0600) in the
    same folder and linked into place, and when two processes start at once the one that links second reads
    the first one's key instead of replacing it."""
    path = var_dir / KEY_FILE_NAME
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=var_dir, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(64) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):  # another process got there first: use its key
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    key = path.read_text().strip()
    if problem := secret_key_problem(key):
        raise ImproperlyConfigured(f"The secret key in {path} {problem}; delete the file to generate a new one.")
    return key
