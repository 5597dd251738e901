"""Attachments: what may be uploaded, and how a stored file is handed back.

An upload is accepted by its *content*, never by its name or the browser's
Content-Type: images must open and verify in Pillow as JPEG, PNG or WebP, PDFs
must start with ``%PDF-``. The detected type replaces whatever the client sent,
and the stored name gets the matching suffix.

Files live under MEDIA_ROOT, which no URL serves; the only way to read one is
``attachment_response`` behind a view that has checked who may see the need.
"""

from __future__ import annotations

import io
import warnings
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.utils.cache import patch_cache_control
from PIL import Image, ImageOps, UnidentifiedImageError

# Detected format → (content type, stored suffix).
IMAGE_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
PDF = ("application/pdf", "pdf")
ALLOWED_CONTENT_TYPES = frozenset({t for t, _ in IMAGE_FORMATS.values()} | {PDF[0]})
# For the file picker only; the server decides by content.
ACCEPT = ".jpg,.jpeg,.png,.webp,.pdf,image/jpeg,image/png,image/webp,application/pdf"
# A photo larger than this many pixels is refused before it is decoded.
MAX_PIXELS = 50_000_000
THUMBNAIL_SIZE = (480, 480)


def max_bytes() -> int:
    return settings.NEED_ATTACHMENT_MAX_BYTES


def max_files() -> int:
    return settings.NEED_ATTACHMENT_MAX_FILES


def rules_text() -> str:
    """The upload rules in words, for help texts."""
    return (
        f"可上传照片（JPG、PNG、WebP）或 PDF 文件，最多 {max_files()} 个，"
        f"每个不超过 {filesizeformat(max_bytes())}。"
    )


def _detect(upload) -> tuple[str, str] | None:
    """(content type, suffix) from the file's bytes, or None when it is neither."""
    upload.seek(0)
    head = upload.read(5)
    upload.seek(0)
    if head == b"%PDF-":
        return PDF
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                if image.format not in IMAGE_FORMATS:
                    return None
                if image.width * image.height > MAX_PIXELS:
                    return None
                detected = IMAGE_FORMATS[image.format]
                image.verify()
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
    ):
        return None
    finally:
        upload.seek(0)
    return detected


def validate_upload(upload) -> None:
    """Check one uploaded file; on success fix its content type and suffix in place.

    Raises ``ValidationError`` with a message naming the file.
    """
    name = PurePath(upload.name or "").name or "附件"
    if upload.size == 0:
        raise ValidationError(f"“{name}”是空文件。", code="empty")
    if upload.size > max_bytes():
        raise ValidationError(
            f"“{name}”有 {filesizeformat(upload.size)}，超过了 {filesizeformat(max_bytes())} 的限制。",
            code="too_big",
        )
    detected = _detect(upload)
    if detected is None:
        raise ValidationError(
            f"“{name}”不是可以识别的照片（JPG、PNG、WebP）或 PDF 文件。", code="type"
        )
    content_type, suffix = detected
    stem = PurePath(name).stem[:180] or "附件"
    upload.name = f"{stem}.{suffix}"
    upload.content_type = content_type


def validate_uploads(uploads: list) -> list:
    """Check a list of uploads: their number, then each file; all errors at once."""
    if len(uploads) > max_files():
        raise ValidationError(
            f"最多上传 {max_files()} 个附件，您选择了 {len(uploads)} 个。", code="too_many"
        )
    errors = []
    for upload in uploads:
        try:
            validate_upload(upload)
        except ValidationError as error:
            errors.extend(error.error_list)
    if errors:
        raise ValidationError(errors)
    return uploads


# --- serving ----------------------------------------------------------------------------


def _harden(response: HttpResponse) -> HttpResponse:
    response["X-Content-Type-Options"] = "nosniff"
    # Even if a browser renders the file, it may run nothing and load nothing.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    patch_cache_control(response, private=True, no_store=True)
    return response


def attachment_response(attachment) -> HttpResponse:
    """The stored file: images inline, everything else as a download."""
    content_type = attachment.content_type
    if content_type not in ALLOWED_CONTENT_TYPES:
        content_type = "application/octet-stream"
    inline = content_type.startswith("image/")
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("附件文件不存在") from exc
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=not inline,
        filename=attachment.original_name,
    )
    return _harden(response)


def thumbnail_response(attachment) -> HttpResponse:
    """A small JPEG of an image attachment, for the need's page on a phone."""
    if not attachment.is_image:
        raise Http404("不是图片")
    try:
        with attachment.file.open("rb") as handle, Image.open(handle) as image:
            image.draft("RGB", THUMBNAIL_SIZE)  # JPEG: decode at a reduced size
            image = ImageOps.exif_transpose(image)
            image.thumbnail(THUMBNAIL_SIZE)
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, "JPEG", quality=80)
    except (FileNotFoundError, UnidentifiedImageError, OSError, ValueError) as exc:
        raise Http404("无法生成缩略图") from exc
    return _harden(HttpResponse(buffer.getvalue(), content_type="image/jpeg"))
