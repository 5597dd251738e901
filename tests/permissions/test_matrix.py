"""Every URL of the site against every role, GET and POST: the answers in ``matrix.py``.

The first tests keep the table and the code in step: every URL pattern has exactly one
row, every row a pattern, every registered model admin a policy. ``test_cell`` then
requests each cell of a row for one role (each object of the row, GET and POST) and
reports every cell that differs, naming the URL, role, method and object.
"""

from __future__ import annotations

import copy
import traceback
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib import admin
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from apps.core.admin_mixins import JurisdictionAdminMixin

from . import matrix
from .matrix import ADMIN, ROLES, Cell, Reach, mark

ROWS = matrix.rows()


# --- the URLconf ------------------------------------------------------------------------


def url_patterns(resolver=None, prefix: str = "", namespace: str = ""):
    """(key, route) of every pattern: its namespaced name, or its full route if unnamed."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace
            nested = f"{namespace}:{inner}" if namespace and inner else inner or namespace
            yield from url_patterns(pattern, route, nested)
        elif isinstance(pattern, URLPattern):
            if pattern.name:
                yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), route
            else:
                yield route, route


def test_every_url_pattern_has_exactly_one_row():
    patterns = list(url_patterns())
    keys = [key for key, _ in patterns]
    assert len(keys) == len(set(keys)), "two URL patterns share a name"
    rows = [row.key for row in ROWS]
    doubled = sorted({key for key in rows if rows.count(key) > 1})
    assert not doubled, f"rows given twice in tests/permissions/matrix.py: {doubled}"
    missing = [f"{key}  ({route})" for key, route in patterns if key not in set(rows)]
    assert not missing, (
        "URL patterns with no row in tests/permissions/matrix.py — decide who may open "
        "them:\n  " + "\n  ".join(missing)
    )
    stale = sorted(set(rows) - set(keys))
    assert not stale, f"rows of tests/permissions/matrix.py whose URL is gone: {stale}"


def test_every_model_admin_has_a_policy():
    registered = {model._meta.label_lower for model in admin.site._registry}
    missing = sorted(registered - set(ADMIN))
    assert not missing, (
        "model admins with no policy in tests/permissions/matrix.py ADMIN — decide who may "
        f"view, add, change and delete: {missing}"
    )
    stale = sorted(set(ADMIN) - registered)
    assert not stale, f"policies for models no longer in the admin: {stale}"


def test_policies_scope_exactly_the_scoped_admins():
    """A policy with a reach ⇔ the admin class scopes its rows by jurisdiction."""
    wrong = [
        model._meta.label_lower
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, JurisdictionAdminMixin)
        != (ADMIN[model._meta.label_lower].reach is not None)
    ]
    assert not wrong, f"policy reach does not match JurisdictionAdminMixin: {wrong}"


# --- the cells --------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    location: str = ""
    before: object = None
    after: object = None
    body: str = ""
    error: str = ""


def snapshot(target):
    """The stored state of an object (its row), or of a model (its row count)."""
    if target is None:
        return None
    if isinstance(target, type):
        return target._base_manager.count()
    return target.__class__._base_manager.filter(pk=target.pk).values().first()


def request(client, method: str, url: str, data: dict, target) -> Answer:
    """One request in a savepoint rolled back afterwards, so cells never see each other."""
    with transaction.atomic():
        try:
            before = snapshot(target)
            response = client.get(url) if method == "GET" else client.post(url, data)
            after = snapshot(target)
        except Exception:  # a 500 in the making: report it as a cell, not a crash
            transaction.set_rollback(True)
            return Answer(500, error=traceback.format_exc(limit=-4))
        transaction.set_rollback(True)
    # Reading a streamed file to its end closes it (the test client's wrapper).
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return Answer(
        response.status_code,
        response.get("Location", ""),
        before,
        after,
        body.decode("utf-8", "replace"),
    )


def changes(answer: Answer) -> str:
    before, after = answer.before, answer.after
    if not isinstance(before, dict) or not isinstance(after, dict):
        return f"{before} → {after}"
    return ", ".join(
        f"{name} {before[name]!r} → {after[name]!r}"
        for name in before
        if before[name] != after[name]
    )


def redirects_to(location: str, wanted: str) -> bool:
    if wanted.endswith("*"):
        return location.startswith(wanted[:-1])
    return location == wanted


def problems_with(expected: Cell, answer: Answer, lists, role: str) -> list[str]:
    got = f"{answer.status}" + (f" → {answer.location}" if answer.location else "")
    if answer.error:
        return [f"raised {answer.error}"]
    if answer.status >= 500:
        return [f"got {got}"]
    found = []
    if answer.status != expected.status:
        found.append(f"expected {expected}, got {got}")
    elif expected.to and not redirects_to(answer.location, expected.to):
        found.append(f"expected a redirect to {expected.to}, got {got}")
    if expected.state == "same" and answer.before != answer.after:
        found.append(f"answered {got} but changed the object: {changes(answer)}")
    if expected.state == "changed" and answer.before == answer.after:
        found.append(f"answered {got} but the object did not change")
    if answer.status == 200:
        for listing in lists:
            for obj in listing.objects:
                shown = mark(listing.kind, obj) in answer.body
                allowed = matrix.reaches(listing.by, role, obj)
                if shown != allowed and (listing.exact or shown):
                    verb = "shows" if shown else "does not show"
                    found.append(f"{verb} {listing.kind} {obj}")
    return found


def client_for(world, role: str) -> Client:
    client = Client()
    if role in world.sessions:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    return client


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.key)
def test_cell(row, role, world):
    client = client_for(world, role)
    cookies = copy.deepcopy(client.cookies)
    problems = []
    for method in ("GET", "POST"):
        spec = row.spec(method, role)
        for obj in row.objects_for(method):
            lists = [
                listing
                for listing in row.lists
                if listing.method == method and listing.when in (None, obj)
            ]
            expected = spec.cell(role, obj) if isinstance(spec, Reach) else spec
            url = row.url(world, obj)
            data = row.data(world, obj) if row.data and method == "POST" else {}
            # The object's state is read before and after only where the cell says what it is.
            watched = row.target and method == "POST" and expected.state != "any"
            target = row.target(world, obj) if watched else None
            client.cookies = copy.deepcopy(cookies)  # a logout in one cell ends no other's session
            answer = request(client, method, url, data, target)
            problems += [
                f"{method} {url} as {role}" + (f" [{obj}]" if obj else "") + f": {problem}"
                for problem in problems_with(expected, answer, lists, role)
            ]
    assert not problems, "\n".join(problems)
