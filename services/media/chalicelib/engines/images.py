"""Image helpers shared by the image readers (Pillow, imported on first use)."""

from __future__ import annotations

import io

from parley.media_types import base_mime
from parley.media_understanding import UnreadableMedia

# Pillow refuses images above this many pixels (a decompression bomb): ~8k x 8k is plenty for a
# WhatsApp image, whose sender compresses it anyway.
MAX_PIXELS = 64_000_000


def size_and_png(data: bytes, mime: str, keep: frozenset[str]) -> tuple[int, int, bytes, str]:
    """(width, height, bytes, mime): the image as is when its type is in `keep`, else as PNG
    (a WebP sticker's first frame, a GIF...). UnreadableMedia when it is not an image."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if base_mime(mime) in keep and image.format in {"JPEG", "PNG"}:
                return width, height, data, base_mime(mime)
            image.seek(0)
            converted = image.convert("RGBA" if _has_alpha(image) else "RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise UnreadableMedia(f"cannot read the image: {exc}"[:300]) from exc
    out = io.BytesIO()
    converted.save(out, format="PNG")
    return width, height, out.getvalue(), "image/png"


def shrink_to(data: bytes, max_bytes: int) -> bytes:
    """A JPEG of at most `max_bytes` (halving the size until it fits), for engines with a limit."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        current = image.convert("RGB")
    while True:
        out = io.BytesIO()
        current.save(out, format="JPEG", quality=85)
        if out.tell() <= max_bytes or min(current.size) < 64:
            return out.getvalue()
        current = current.resize((current.width // 2, current.height // 2))


def _has_alpha(image: object) -> bool:
    mode = getattr(image, "mode", "")
    return mode in {"RGBA", "LA", "PA"} or (
        mode == "P" and "transparency" in getattr(image, "info", {})
    )
