"""Rate limits kept in Django's cache, and the client address they are counted by.

Logins are throttled by django-axes (which reads ``client_ip`` too); this covers what axes
does not, such as new registrations per address. The counts live in the default cache: with
several server processes, configure a shared cache (``CACHE_BACKEND``) so they add up.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


def client_ip(request) -> str:
    """The address the request came from, seen through ``TRUSTED_PROXY_COUNT`` proxies.

    Behind N trusted proxies the client is the N-th address from the right of
    X-Forwarded-For (each proxy appends the address it received the request from);
    anything further left was written by the client and is not trusted. Without
    proxies, or when the header is missing or malformed, REMOTE_ADDR is used.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def now() -> float:
    """Seconds since the epoch; one name for tests to move the clock of the limits."""
    return time.time()


@dataclass(frozen=True)
class RateLimit:
    """At most ``settings.<setting>`` events per sliding ``window`` for one key.

    A setting of 0 means no limit. ``retry_at(key)`` says whether another event is allowed; ``hit(key)`` records one
    once it has happened (so refused or invalid attempts do not use up the allowance).
    """

    name: str
    setting: str
    window: dt.timedelta

    @property
    def limit(self) -> int:
        return getattr(settings, self.setting)

    def _cache_key(self, key: str) -> str:
        return f"throttle:{self.name}:{key}"

    def _recent(self, key: str, at: float) -> list[float]:
        start = at - self.window.total_seconds()
        return sorted(stamp for stamp in cache.get(self._cache_key(key), []) if stamp > start)

    def retry_at(self, key: str) -> dt.datetime | None:
        """None while ``key`` is under the limit, else when its next event will be allowed."""
        if self.limit <= 0:  # 0 turns the limit off
            return None
        recent = self._recent(key, now())
        if len(recent) < self.limit:
            return None
        # The oldest event that keeps the count at the limit has to leave the window.
        freed_at = recent[-self.limit] + self.window.total_seconds()
        return dt.datetime.fromtimestamp(freed_at, tz=dt.UTC)

    def hit(self, key: str) -> None:
        at = now()
        recent = [*self._recent(key, at), at][-max(self.limit, 1) :]
        cache.set(self._cache_key(key), recent, timeout=math.ceil(self.window.total_seconds()))


# New accounts registered from one client address.
REGISTRATIONS = RateLimit("register", "REGISTRATIONS_PER_HOUR", dt.timedelta(hours=1))
