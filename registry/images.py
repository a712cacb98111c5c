"""An uploaded image reduced to its pixels: decoded and encoded again, so that nothing but the picture is stored.

Shared by the request attachments (cards/uploads.py) and the office logo (registry/office_forms.py). Metadata
(EXIF with a GPS position and a camera serial, ICC, comments) and anything hidden beside the pixels are gone;
the EXIF orientation is applied first. An image of more than `max_pixels` is refused before it is decoded (a
decompression bomb: a few KB that decode to gigabytes), and a longer side than `max_side` is scaled down.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import filetype
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

# 40 megapixels: a 48 MP phone photo or an A4 page scanned at 600 dpi (35 MP) passes; a bomb does not.
MAX_IMAGE_PIXELS = 40_000_000
# A document photo stays legible at 4096 px on its long side, and the JPEG then fits well under 5 MB.
MAX_IMAGE_SIDE = 4096
JPEG_QUALITY = 85
IMAGE_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


class ImageRefused(ValueError):
    """An image that may not be stored; the message says why, in the staff member's language."""


@dataclass(frozen=True)
class CleanImage:
    content: bytes
    content_type: str  # image/png or image/jpeg


def image_format_of(data: bytes) -> str | None:
    """PIL's format name of an accepted image type, from the file's own bytes (never its name), or None."""
    kind = filetype.guess(data[:8192])
    return IMAGE_TYPES.get(kind.mime if kind else "")


def image_reencode(
    data: bytes, image_format: str, *, max_side: int = MAX_IMAGE_SIDE, max_pixels: int = MAX_IMAGE_PIXELS
) -> CleanImage:
    """The pixels of `data` (of `image_format`) as a new PNG (when it has transparency or was a PNG) or JPEG.
    Raises ImageRefused naming the reason."""
    unreadable = _("Gambar rusak atau tidak dapat dibaca; unggah ulang foto atau hasil pindaiannya.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[image_format])
            width, height = image.size
            if width * height > max_pixels:
                raise ImageRefused(
                    _("Gambar terlalu besar: %(mp)d megapiksel, paling banyak %(max)d megapiksel.")
                    % {"mp": width * height // 1_000_000, "max": max_pixels // 1_000_000}
                )
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRefused(_("Gambar ditolak: ukurannya setelah dibuka tidak wajar.")) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        if isinstance(exc, ImageRefused):
            raise
        raise ImageRefused(unreadable) from exc

    # Turn the pixels upright, then keep nothing but them (and a palette's transparent index).
    image = ImageOps.exif_transpose(image)
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (image.mode == "P" and "transparency" in image.info)
    out = io.BytesIO()
    if image_format == "PNG" or (image_format == "WEBP" and has_alpha):
        if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
            image = image.convert("RGBA" if has_alpha else "RGB")
        transparency = image.info.get("transparency") if image.mode == "P" else None
        image.info = {} if transparency is None else {"transparency": transparency}
        image.save(out, format="PNG", optimize=True)
        return CleanImage(content=out.getvalue(), content_type="image/png")
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.info = {}
    image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return CleanImage(content=out.getvalue(), content_type="image/jpeg")
