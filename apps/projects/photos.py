"""Serving a project's progress photos and evidence files, which live under MEDIA_ROOT.

No URL serves MEDIA_ROOT. Progress photos of *public* projects are public (看得见),
so their view may be cached; evidence (sign-off sheets with workers' names,
attendance lists, receipts) is private to the project's reviewers and cadres.
The type served is always detected from the bytes, never taken from the name.
"""

from __future__ import annotations

import io
from pathlib import PurePath

from django.http import FileResponse, Http404, HttpResponse
from django.utils.cache import patch_cache_control
from PIL import Image, ImageOps, UnidentifiedImageError

from apps.needs.attachments import IMAGE_FORMATS, PDF, THUMBNAIL_SIZE

# Public photos may be cached briefly: a project is rarely withdrawn from the showcase.
PUBLIC_MAX_AGE = 3600


def sniff(field_file) -> tuple[str, str] | None:
    """(content type, suffix) of a stored file from its bytes: an image, a PDF, or None."""
    try:
        with field_file.open("rb") as handle:
            if handle.read(5) == b"%PDF-":
                return PDF
            handle.seek(0)
            with Image.open(handle) as image:
                return IMAGE_FORMATS.get(image.format)
    except (FileNotFoundError, UnidentifiedImageError, OSError, ValueError):
        return None


def _harden(response: HttpResponse, *, public: bool) -> HttpResponse:
    response["X-Content-Type-Options"] = "nosniff"
    # Even if a browser renders the file, it may run nothing and load nothing.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    if public:
        patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
    else:
        patch_cache_control(response, private=True, no_store=True)
    return response


def _open(field_file):
    try:
        return field_file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("文件不存在") from exc


def image_response(field_file, *, public: bool) -> HttpResponse:
    """The stored image, inline; anything that is not a known image answers 404."""
    detected = sniff(field_file) if field_file else None
    if detected is None or detected == PDF:
        raise Http404("不是图片")
    return _harden(FileResponse(_open(field_file), content_type=detected[0]), public=public)


def thumbnail_response(field_file, *, public: bool) -> HttpResponse:
    """A small JPEG of a stored image, for pages read on a phone."""
    if not field_file:
        raise Http404("文件不存在")
    try:
        with field_file.open("rb") as handle, Image.open(handle) as image:
            if image.format not in IMAGE_FORMATS:
                raise Http404("不是图片")
            image.draft("RGB", THUMBNAIL_SIZE)  # JPEG: decode at a reduced size
            image = ImageOps.exif_transpose(image)
            image.thumbnail(THUMBNAIL_SIZE)
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, "JPEG", quality=80)
    except (FileNotFoundError, UnidentifiedImageError, OSError, ValueError) as exc:
        raise Http404("无法生成缩略图") from exc
    return _harden(HttpResponse(buffer.getvalue(), content_type="image/jpeg"), public=public)


def download_response(field_file, *, filename_stem: str) -> HttpResponse:
    """A private file: images inline, PDFs and anything else as a download."""
    if not field_file:
        raise Http404("没有文件")
    detected = sniff(field_file)
    if detected is None:
        content_type = "application/octet-stream"
        suffix = PurePath(field_file.name).suffix.lstrip(".").lower()[:8] or "bin"
    else:
        content_type, suffix = detected
    inline = content_type.startswith("image/")
    response = FileResponse(
        _open(field_file),
        content_type=content_type,
        as_attachment=not inline,
        filename=f"{filename_stem}.{suffix}",
    )
    return _harden(response, public=False)
