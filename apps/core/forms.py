"""The one rule for text typed into the site's forms: no control characters.

Nobody types a control character; they arrive by pasting from odd sources or from scripts.
NUL is refused by PostgreSQL in text (a 500 instead of a form error), a line break in a
one-line field reaches e-mail subjects (where Django refuses it, after the action was
saved), and the rest is invisible on screen and illegal in Excel exports. Multi-line fields
(a ``Textarea``) keep tabs and line breaks.
"""

from __future__ import annotations

import re

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.utils.deconstruct import deconstructible

# C0 controls, DEL and C1 controls (Unicode category Cc).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# The same, except tab, line feed and carriage return.
CONTROL_CHARACTERS_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@deconstructible
class ControlCharacterValidator:
    """Refuses control characters; ``multiline`` allows tabs and line breaks."""

    message = "不能包含控制字符。"
    code = "control_characters"

    def __init__(self, *, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, value) -> None:
        pattern = CONTROL_CHARACTERS_BUT_LINES if self.multiline else CONTROL_CHARACTERS
        if pattern.search(str(value)):
            raise ValidationError(self.message, code=self.code)

    def __eq__(self, other) -> bool:
        return isinstance(other, ControlCharacterValidator) and other.multiline == self.multiline


class CleanTextMixin:
    """Every text field of the form refuses control characters (see the module docstring).

    Put it first among the bases: ``class MyForm(CleanTextMixin, forms.Form)``. Django's
    own NUL check is replaced, as this rule includes it and one message is enough.
    Passwords are left alone: they are only ever hashed, never shown or sent.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if not isinstance(field, forms.CharField) or isinstance(
                field.widget, forms.PasswordInput
            ):
                continue
            field.validators = [
                validator
                for validator in field.validators
                if not isinstance(validator, ProhibitNullCharactersValidator)
            ]
            field.validators.append(
                ControlCharacterValidator(multiline=isinstance(field.widget, forms.Textarea))
            )


class BoundedUsernameMixin:
    """A login form that refuses a user name longer than the accounts' (150 characters).

    Django's ``AuthenticationForm`` sets ``max_length`` on its user-name field after the
    field is built, so nothing checks it: a 100 000-character name went on to the
    authentication backends, and django-axes wrote it into ``AccessAttempt.username``
    (255 characters), which PostgreSQL refused with a 500.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))


class AdminLoginForm(CleanTextMixin, BoundedUsernameMixin, AdminAuthenticationForm):
    """The cadres' admin login, held to the same rules as the portal's."""
