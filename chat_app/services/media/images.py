"""Images re-encoded by Pillow: metadata dropped, orientation applied, a JPEG preview made."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageOps, UnidentifiedImageError

from chat_app.services.errors import Invalid
from chat_app.services.media import animation
from chat_app.services.media.accepted import MediaType
from chat_app.services.media.bounds import megapixels
from chat_app.services.media.stored import Stored, sha256_and_size
from chat_app.services.storage import Storage

if TYPE_CHECKING:
    from chat_app.services.media.intake import Intake

THUMB_SIZE = (512, 512)


def save_thumbnail(image: Image.Image, storage: Storage) -> str:
    """A JPEG preview of an image or a video's first frame, transparency flattened on white."""
    thumb = image.copy()
    thumb.thumbnail(THUMB_SIZE)
    if thumb.mode in ("RGBA", "LA", "P"):
        thumb = thumb.convert("RGBA")
        background = Image.new("RGB", thumb.size, (255, 255, 255))
        background.paste(thumb, mask=thumb.getchannel("A"))
        thumb = background
    elif thumb.mode != "RGB":
        thumb = thumb.convert("RGB")
    key = storage.new_key("thumb.jpg")
    with storage.staging_file() as out:
        thumb.save(out, "JPEG", quality=85)
        out.flush()
        storage.put(key, Path(out.name))
    return key


def store_image(path: Path, intake: Intake, accepted: MediaType) -> Stored:
    storage, limits, fmt = intake.storage, intake.limits, accepted.format
    try:
        with Image.open(path) as image:
            if image.format != fmt:
                raise Invalid(f"This file is not a valid {fmt} image.")
            width, height = image.size
            if width * height > limits.image_pixels:
                raise Invalid(
                    f"This image is {width:,}×{height:,} pixels; the limit is {megapixels(limits.image_pixels)}."
                )
            # Known from the headers (GIF: up to the second frame), before any frame is decoded.
            animated = bool(getattr(image, "is_animated", False))
            original = path.read_bytes() if animated else b""
            if animated:
                animation.check(original, fmt, limits)
            image.load()  # the first frame: a truncated or corrupt file fails here
            with storage.staging_file() as clean:
                # Re-encoding drops EXIF (GPS, camera, …) and any other metadata we do not copy;
                # an animation keeps its frames as they came, without the blocks that carry metadata.
                if animated:
                    clean.write(animation.without_metadata(original, fmt))
                    upright = image
                else:
                    upright = ImageOps.exif_transpose(image)
                    options = {"quality": 92} if fmt in ("JPEG", "WEBP") else {}
                    if fmt == "JPEG" and upright.mode not in ("RGB", "L", "CMYK"):
                        upright = upright.convert("RGB")
                    upright.save(clean, fmt, icc_profile=image.info.get("icc_profile"), **options)
                clean.flush()
                sha, size = sha256_and_size(Path(clean.name))
                key = storage.new_key(accepted.extension)
                storage.put(key, Path(clean.name))
            thumb_key = save_thumbnail(upright, storage)
            width, height = upright.size
    except Image.DecompressionBombError:
        raise Invalid("This image has too many pixels to open safely.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise Invalid("This image is damaged or incomplete and could not be read.") from exc
    return Stored("image", intake.judged_type, size, sha, key, thumb_key, width, height, None, intake.name)
