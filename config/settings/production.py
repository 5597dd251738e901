"""Production: everything comes from the environment; DEBUG is off unless set."""

from .base import *  # noqa: F403
