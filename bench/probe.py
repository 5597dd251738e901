"""The benchmark's look into the database, run by bench/run.py as a separate process.

    python -m bench.probe state            is the district there? (counts, accounts)
    python -m bench.probe facts  < JSON    ids of the pages to load, and the data's size
    python -m bench.probe count-needs USER needs the user has raised (the submission check)
    python -m bench.probe queries < JSON   SQL queries each page runs (django.test.Client)
    python -m bench.probe cleanup USER     deletes the needs the submission run created

Settings come from DJANGO_SETTINGS_MODULE (config.settings.bench) and the same environment
as the server's, so the probe sees the server's database. Each command prints one JSON
document on stdout; Django's own logging goes to stderr.
"""

from __future__ import annotations

import json
import os
import sys

# Every need the benchmark submits has a title starting with this (bench/wrk/post_need.lua
# and the queries command), so cleanup never touches a need a person raised.
BENCH_TITLE_PREFIX = "性能测试诉求"
CHUNK = 500


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    import django

    django.setup()


def state() -> dict:
    """Whether the database answers, is migrated, and how big its district is."""
    from django.db import DatabaseError, connection

    try:
        tables = set(connection.introspection.table_names())
    except DatabaseError as error:
        return {"reachable": False, "error": str(error), "members": 0, "needs": 0}
    from apps.members.models import Member, User
    from apps.needs.models import Need

    if Member._meta.db_table not in tables or Need._meta.db_table not in tables:
        return {"reachable": True, "migrated": False, "members": 0, "needs": 0, "users": []}
    bench_needs = Need.objects.filter(title__startswith=BENCH_TITLE_PREFIX).count()
    return {
        "reachable": True,
        "migrated": True,
        "members": Member.objects.count(),
        "needs": Need.objects.count() - bench_needs,
        "bench_needs": bench_needs,
        "users": sorted(
            User.objects.filter(username__startswith="bench-").values_list("username", flat=True)
        ),
    }


def facts(request: dict) -> dict:
    """The ids the pages need, for the accounts in ``request["accounts"]``, and data facts."""
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count

    from apps.members.models import Member
    from apps.needs.models import Need, NeedEvent, ServiceArea
    from apps.projects.models import ServiceProject

    accounts = request["accounts"]
    worker = Member.objects.select_related("user").get(user__username=accounts["worker"])
    poster = Member.objects.get(user__username=accounts["poster"])
    # The worker's need with the longest timeline: the heaviest detail page they can open.
    need = (
        Need.objects.filter(submitter=worker)
        .annotate(event_count=Count("events"))
        .order_by("-event_count", "-pk")
        .first()
    )
    # The public project that answers the most needs: the heaviest showcase page.
    project = (
        ServiceProject.objects.public()
        .annotate(link_count=Count("links"))
        .order_by("-link_count", "-pk")
        .first()
    )
    area = ServiceArea.objects.order_by("order", "pk").first()
    search = request.get("search", "")
    return {
        "worker_needs": Need.objects.filter(submitter=worker).count(),
        "need_id": need.pk if need else None,
        "project_id": project.pk if project else None,
        "area_id": area.pk if area else None,
        "area_needs": Need.objects.filter(area=area).count() if area else 0,
        "search_matches": Need.objects.filter(title__contains=search).count() if search else 0,
        # The final step asks for a workstation only when the employer is not in the directory.
        "poster_workstation_id": None if poster.unit_id else poster.workstation_id,
        "database": _database_description(connection),
        "cache": (
            f"{settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}, "
            f"sessions: {settings.SESSION_ENGINE.rsplit('.', 1)[-1]}"
        ),
        "counts": {
            "members": Member.objects.count(),
            "needs": Need.objects.count(),
            "need events": NeedEvent.objects.count(),
            "projects": ServiceProject.objects.count(),
        },
    }


def _database_description(connection) -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0]}"
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    return connection.vendor


def count_needs(username: str) -> dict:
    from apps.needs.models import Need

    return {"needs": Need.objects.filter(submitter__user__username=username).count()}


def queries(plan: list[dict]) -> dict:
    """SQL queries of one request to each page, as the given user, after a priming request.

    The priming request (the same page, or the one named in ``prime``) fills what a
    long-running worker keeps between requests (content types, compiled templates), so the
    count is that of a worker in its stride; a cold report is primed with another period.
    """
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    users = get_user_model().objects
    counts = {}
    for page in plan:
        client = Client(HTTP_HOST="127.0.0.1")
        if page.get("account"):
            client.force_login(
                users.get(username=page["account"]),
                backend="django.contrib.auth.backends.ModelBackend",
            )
        prime = page.get("prime", page)
        if prime:
            _send(client, prime)
        try:
            with CaptureQueriesContext(connection) as captured:
                response = _send(client, page)
        except Exception as error:  # noqa: BLE001 — reported, the other pages still count
            counts[page["key"]] = {"queries": None, "status": None, "error": repr(error)}
            continue
        counts[page["key"]] = {"queries": len(captured), "status": response.status_code}
    return counts


def _send(client, page: dict):
    if page.get("method", "GET") == "POST":
        return client.post(page["path"], page.get("data", {}))
    return client.get(page["path"])


def cleanup(username: str) -> dict:
    """Delete the needs the benchmark submitted as ``username``, with what they left behind.

    The submission run adds thousands of needs to one worker; left in place they would make
    the next run measure a different district. Their cadres' notifications and audit-log
    entries go with them.
    """
    from auditlog.context import disable_auditlog
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.urls import reverse

    from apps.needs.models import Need
    from apps.notifications.models import Notification

    ids = list(
        Need.objects.filter(
            submitter__user__username=username, title__startswith=BENCH_TITLE_PREFIX
        ).values_list("pk", flat=True)
    )
    need_type = ContentType.objects.get_for_model(Need)
    with disable_auditlog(), transaction.atomic():
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            urls = [reverse("admin:needs_need_change", args=[pk]) for pk in chunk]
            Notification.objects.filter(url__in=urls).delete()
            LogEntry.objects.filter(content_type=need_type, object_id__in=chunk).delete()
            Need.objects.filter(pk__in=chunk).delete()
    return {"deleted": len(ids)}


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    command, args = argv[0], argv[1:]
    _setup()
    if command == "state":
        result = state()
    elif command == "facts":
        result = facts(json.load(sys.stdin))
    elif command == "count-needs":
        result = count_needs(args[0])
    elif command == "queries":
        result = queries(json.load(sys.stdin))
    elif command == "cleanup":
        result = cleanup(args[0])
    else:
        print(f"unknown command {command!r}\n{__doc__}", file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
