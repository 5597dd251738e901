"""Masking of personal data: the one place that decides how it is shown."""


def mask_mobile(mobile: str | None) -> str:
    """138****5678 — the first three and last four digits only."""
    if not mobile:
        return ""
    digits = str(mobile)
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_id_number(id_number: str | None) -> str:
    """110***********1234 — the first three and last four characters only."""
    if not id_number:
        return ""
    value = str(id_number)
    if len(value) < 8:
        return "*" * len(value)
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"


def mask_name(name: str | None) -> str:
    """张*明 / 李* — keeps the surname (and the last character of long names)."""
    if not name:
        return ""
    if len(name) == 1:
        return "*"
    if len(name) == 2:
        return f"{name[0]}*"
    return f"{name[0]}{'*' * (len(name) - 2)}{name[-1]}"
