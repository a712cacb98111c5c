"""Upload bodies are cut off at the limit of the page they are sent to, instead of being spooled whole.

Django's own handlers keep an upload in memory (up to FILE_UPLOAD_MAX_MEMORY_SIZE) or write it to a temporary
file, whatever its size; the form's size check only runs once the whole body is on disk. These two handlers
(installed by FILE_UPLOAD_HANDLERS) stop storing a file the moment its bytes pass the page's limit: what was
kept is thrown away, the rest of that part is read and dropped (the reverse proxy bounds how much that is),
and the form receives an `UploadTooLarge` in the file's place, so it answers "Berkas terlalu besar, maksimal
N MB" like any other field error.

The limit is per page: the resident import takes IMPORT_MAX_UPLOAD_MB (UPLOAD_LIMIT_SETTING_BY_VIEW names the
pages with a limit of their own and the setting that holds it), every other upload ATTACHMENT_MAX_MB. The
handlers must see every upload, so they are global: a per-view `request.upload_handlers` comes too late for a
CSRF-checked view (the CSRF check reads the body first).
"""

from __future__ import annotations

import io

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.http import HttpRequest
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

MB = 1024 * 1024


class UploadCutOff(OSError):
    """Reading a file that was cut off at the limit: a form let an UploadTooLarge through."""


class _NothingKept(io.RawIOBase):
    """The content of an UploadTooLarge: reading it fails, so a form that does not know it can never store a
    truncated or empty file in its place."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        raise UploadCutOff("upload cut off at the limit; nothing of it was kept")


class UploadTooLarge(UploadedFile):
    """Stands for a file that passed its page's limit: no content, its size as sent and the limit it broke.
    Forms refuse it with `message`; nothing of it was kept."""

    def __init__(self, *, name: str, content_type: str | None, size: int, limit_mb: int) -> None:
        super().__init__(file=_NothingKept(), name=name, content_type=content_type, size=size)
        self.limit_mb = limit_mb

    @property
    def message(self) -> str:
        return _("Berkas terlalu besar, maksimal %(mb)d MB.") % {"mb": self.limit_mb}


def upload_limit_mb(request: HttpRequest | None) -> int:
    """The largest upload, in MB, that the page the request is sent to accepts."""
    match = getattr(request, "resolver_match", None)
    if match is None and request is not None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            match = None
    view_name = match.view_name if match is not None else ""
    return getattr(settings, settings.UPLOAD_LIMIT_SETTING_BY_VIEW.get(view_name, "ATTACHMENT_MAX_MB"))


class _CutOffAtLimit:
    """Shared by both handlers: count the stored bytes of the current file and, past the limit, drop them."""

    too_large: bool = False

    def new_file(self, *args, **kwargs) -> None:
        # Before super(): the memory handler ends new_file by raising StopFutureHandlers.
        self.too_large = False
        self.limit_mb = upload_limit_mb(self.request)
        super().new_file(*args, **kwargs)

    def _stores(self) -> bool:
        return True

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if not self._stores():
            return raw_data
        if self.too_large:
            return None
        if start + len(raw_data) > self.limit_mb * MB:
            self.too_large = True
            self._drop()
            return None
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if self._stores() and self.too_large:
            return UploadTooLarge(
                name=self.file_name, content_type=self.content_type, size=file_size, limit_mb=self.limit_mb
            )
        return super().file_complete(file_size)

    def upload_interrupted(self) -> None:
        if self.too_large:
            return
        super().upload_interrupted()


class LimitedMemoryFileUploadHandler(_CutOffAtLimit, MemoryFileUploadHandler):
    """Django's in-memory handler (small requests), held to the page's limit (a chunked request with no
    Content-Length would otherwise be kept in memory whole)."""

    def _stores(self) -> bool:
        return self.activated

    def _drop(self) -> None:
        self.file = io.BytesIO()


class LimitedTemporaryFileUploadHandler(_CutOffAtLimit, TemporaryFileUploadHandler):
    """Django's temporary-file handler, held to the page's limit: at most the limit is ever written, and the
    file is deleted as soon as the limit is passed."""

    def _drop(self) -> None:
        self.file.close()  # a NamedTemporaryFile: closing it deletes it
