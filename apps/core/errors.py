"""How a refused action is told to the user: one line of Chinese text."""

from django.core.exceptions import PermissionDenied, ValidationError


def error_text(exc: Exception, *, denied: str = "您无权执行此操作。") -> str:
    """The messages of a ValidationError joined, or the reason of any other refusal."""
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    if isinstance(exc, PermissionDenied):
        return str(exc) or denied
    return str(exc)
