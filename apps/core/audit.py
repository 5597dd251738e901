"""The audit history (操作记录): which models django-auditlog records, and how.

Every registered model's create, change and delete is written to auditlog's one
``LogEntry`` table with the changed fields (old and new value), the time, and the
acting user, whom ``AuditlogMiddleware`` takes from the request — so a change a
service makes on behalf of a cadre in the admin is attributed to that cadre. Work
done outside a request (the escalation command) has no actor and reads "系统".

Only superusers read the history (``apps/core/admin.py``). Writes that bypass
``save()`` (``QuerySet.update``) are not recorded, nor are the models that already
are an immutable timeline of their own (``NeedEvent``, ``ProjectEvent``).
"""

from __future__ import annotations

import uuid

from auditlog.cid import correlation_id
from auditlog.context import set_extra_data
from auditlog.middleware import AuditlogMiddleware as BaseAuditlogMiddleware
from auditlog.registry import auditlog
from django.apps import apps

from .privacy import mask_id_number

# auto_now timestamps change on every save; the entry has its own time.
NOT_CHANGES = ["updated_at"]

# app_label.Model → auditlog.register() options. A new model gets a decision here.
# Not recorded: needs.Rating (the worker's own verdict, append-only and on the need's
# timeline), NeedEvent / ProjectEvent (already who-when-what), notifications, reference
# lists (service areas, channels, ownership types), follow-up samples (their own trail).
AUDITED: dict[str, dict] = {
    # Accounts: the flags that give power (is_staff, is_superuser, is_active) and names.
    "members.User": {"exclude_fields": ["password", "last_login"]},
    "members.Member": {
        "exclude_fields": NOT_CHANGES,
        # The history is read by superusers only, but it is copied into every backup:
        # ID numbers are kept masked as everywhere else. Mobiles stay readable, since a
        # changed mobile is a changed login and must be traceable.
        "mask_fields": ["id_number"],
        "mask_callable": "apps.core.audit.mask_id_number_change",
    },
    "members.MembershipApplication": {},
    "needs.Need": {"exclude_fields": NOT_CHANGES},
    "needs.Referral": {},
    # District settings that decide what counts as overdue.
    "needs.TimeLimit": {},
    "core.WorkdayOverride": {},
    "projects.ServiceProject": {"exclude_fields": NOT_CHANGES},
    "projects.Indicator": {},
    "projects.Review": {},
    "projects.Reward": {},
    # Who was given power over whom, and the organisation it is over.
    "workstations.CadreAssignment": {},
    "workstations.Workstation": {},
    "workstations.Unit": {},
    # The district's ranking weights (考核权重).
    "reports.RankingWeights": {"exclude_fields": NOT_CHANGES},
}


def register_audited_models() -> None:
    """Register every model of ``AUDITED`` with auditlog (idempotent)."""
    for label, options in AUDITED.items():
        model = apps.get_model(label)
        if not auditlog.contains(model):
            # auditlog appends to the lists it is given: pass copies.
            auditlog.register(model, **{k: _copy(v) for k, v in options.items()})


def _copy(value):
    return list(value) if isinstance(value, list) else value


def mask_id_number_change(value: str) -> str:
    """An ID number as the site shows it; an empty value (stored as "None" or "") stays empty."""
    if value in ("", "None"):
        return value
    return mask_id_number(value)


class AuditlogMiddleware(BaseAuditlogMiddleware):
    """auditlog's middleware, with the client address the rest of the site trusts.

    The library reads X-Forwarded-For as given, which a client can forge; the site's
    ``client_ip`` believes it only through ``TRUSTED_PROXY_COUNT`` proxies. Each
    request gets its own correlation id, so the entries of one admin action (a bulk
    accept of ten needs) can be listed together; a client-sent id is not used.
    """

    @staticmethod
    def _get_remote_addr(request):
        from .throttle import client_ip

        return client_ip(request) or None

    @staticmethod
    def _get_remote_port(request):
        return None

    def __call__(self, request):
        token = correlation_id.set(uuid.uuid4().hex)
        try:
            with set_extra_data(context_data=self.get_extra_data(request)):
                return self.get_response(request)
        finally:
            correlation_id.reset(token)
