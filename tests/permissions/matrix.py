"""The permission matrix: for every URL pattern of the site, what each role gets.

This file is the one table. ``test_matrix.py`` walks the URLconf and fails for a pattern
with no row here (and for a row whose pattern is gone), then requests every cell: each
role below, GET and POST, once per object of the row where the URL names one.

The portal's own URLs are written out row by row in ``PORTAL``. The admin's URLs are
uniform, so they are generated from one policy per registered model admin in ``ADMIN``
(who may view, add, change and delete, and how the admin scopes its rows), plus an
explicit decision for each custom admin URL (``custom``). A model admin registered
without a policy fails the test, so no page ships without a decision about who sees it.

Objects are named by where they are in the world of ``conftest.py``: ``a1`` (worker A's,
at cadre_a1's workstation), ``a2`` (worker B's, at cadre_a2's, same street), ``b1``
(street B), ``z1`` (another district), ``draft`` (an unpublished project at a1), streets
``sA`` ``sB`` ``sZ``, districts ``d`` ``dZ``, and ``x`` for the one object of an
unscoped model.

Cells:
    OK 200 · FOUND 302 (anywhere) · DONE 302 and the object changed · REFUSED 302 and
    nothing changed (the view said no with a message) · INVALID 200 and nothing changed
    (a form shown again with its errors) · LOGIN / ADMIN_LOGIN 302 to the login page ·
    DENIED 403 · HIDDEN 404 · NO_METHOD 405. Every refusal also checks that the POSTed
    object is unchanged. ``Reach(inside, outside, by)`` picks a cell by whether the
    object is within the role's reach ``by`` (``REACH``): another worker's need and
    another jurisdiction's object answer 404, never 403.

Listings: every name a page could show carries a marker (``mark``); a row's ``lists``
say which markers a 200 answer must and must not contain for each role, so a list, an
export or an autocomplete that shows something beyond the role's reach fails too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.urls import reverse

# --- roles (the matrix's columns, in this order) ----------------------------------------

ANON = "anonymous"
WORKER_A = "worker_a"  # alice, at a1
WORKER_B = "worker_b"  # bob, at a2
CADRE_A1 = "cadre_a1"  # workstation a1
CADRE_A2 = "cadre_a2"  # workstation a2 (same street)
STREET = "street_cadre"  # street sA (a1 and a2)
DISTRICT = "district_cadre"  # district d
REVIEWER = "reviewer"  # 考核人员 of district d
ROOT = "superuser"
ROLES = (ANON, WORKER_A, WORKER_B, CADRE_A1, CADRE_A2, STREET, DISTRICT, REVIEWER, ROOT)

CADRES = frozenset({CADRE_A1, CADRE_A2, STREET, DISTRICT})
STAFF = CADRES | {ROOT}  # the admin's users; reviewers are not staff
VIEWERS = STAFF  # every cadre reads it (and the superuser)
NONE: frozenset[str] = frozenset()
ONLY_ROOT = frozenset({ROOT})
DISTRICT_EDITS = frozenset({DISTRICT, ROOT})  # district-wide settings (DistrictEditsAdminMixin)

# --- objects ----------------------------------------------------------------------------

PLACES = ("a1", "a2", "b1", "z1")
PROJECTS = (*PLACES, "draft")
PUBLIC_PROJECTS = frozenset(PLACES)  # approved or later; "draft" is only proposed
STREETS = ("sA", "sB", "sZ")
DISTRICTS = ("d", "dZ")


def mark(kind: str, key: str) -> str:
    """The text a page shows for an object: unique, so a page can be searched for it."""
    return f"MK-{kind}-{key}"


class _Everything:
    def __contains__(self, item) -> bool:
        return True


EVERYTHING = _Everything()
DISTRICT_D = frozenset({"a1", "a2", "b1", "draft", "sA", "sB", "d"})

# Who reaches which object, by rule. "cadre" is the jurisdiction rule spelled out for this
# world: a post sees its node, everything below it, and the street and district above it.
REACH: dict[str, Mapping[str, Any]] = {
    "everyone": dict.fromkeys(ROLES, EVERYTHING),
    "owner": {WORKER_A: {"a1"}, WORKER_B: {"a2"}},
    "cadre": {
        CADRE_A1: {"a1", "draft", "sA", "d"},
        CADRE_A2: {"a2", "sA", "d"},
        STREET: {"a1", "a2", "draft", "sA", "d"},
        DISTRICT: DISTRICT_D,
        ROOT: EVERYTHING,
    },
    "reviewer": {REVIEWER: DISTRICT_D, ROOT: EVERYTHING},
    # Ranking weights are the district's: its district-level posts only.
    "district-posts": {DISTRICT: {"d"}, ROOT: EVERYTHING},
    "public": dict.fromkeys(ROLES, PUBLIC_PROJECTS),
    # The lead of each project (a lead never reviews their own project).
    "lead": {CADRE_A1: {"a1", "draft"}, CADRE_A2: {"a2"}, DISTRICT: {"b1"}},
    "nobody": {},
    # "app" (the admin's app pages each role sees) is derived from ADMIN below.
}


def reaches(by: tuple[str, ...], role: str, obj) -> bool:
    """Whether ``obj`` is within every rule of ``by``; "owner|cadre" is either rule."""
    return all(any(obj in REACH[name].get(role, ()) for name in rule.split("|")) for rule in by)


# --- cells ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    status: int
    to: str = ""  # a redirect's Location; "…*": one that starts with "…"
    state: str = "any"  # "same": the POSTed object is unchanged; "changed": it changed

    def __str__(self):
        text = f"{self.status} → {self.to}" if self.to else str(self.status)
        return text if self.state == "any" else f"{text} ({self.state})"


@dataclass(frozen=True)
class Reach:
    inside: Cell
    outside: Cell
    by: tuple[str, ...]

    def cell(self, role: str, obj) -> Cell:
        return self.inside if reaches(self.by, role, obj) else self.outside


OK = Cell(200)
INVALID = Cell(200, state="same")
FOUND = Cell(302)
DONE = Cell(302, state="changed")
REFUSED = Cell(302, state="same")
LOGIN = Cell(302, "/accounts/login/?next=*", "same")
ADMIN_LOGIN = Cell(302, "/admin/login/?next=*", "same")
TO_PROFILE = Cell(302, "/accounts/profile/")
TO_HOME = Cell(302, "/")
TO_ADMIN = Cell(302, "/admin/")
TO_REPORTS = Cell(302, "/reports/")
DENIED = Cell(403, state="same")
HIDDEN = Cell(404, state="same")
NO_METHOD = Cell(405, state="same")


def own(inside: Cell, outside: Cell = HIDDEN) -> Reach:
    """By ownership: the worker's own need."""
    return Reach(inside, outside, ("owner",))


def juris(inside: Cell, outside: Cell = HIDDEN) -> Reach:
    """By the cadre's jurisdiction."""
    return Reach(inside, outside, ("cadre",))


def reviewed(inside: Cell, outside: Cell = HIDDEN) -> Reach:
    """By the reviewer's district."""
    return Reach(inside, outside, ("reviewer",))


def public(inside: Cell, outside: Cell = HIDDEN) -> Reach:
    """By the project being on the public showcase."""
    return Reach(inside, outside, ("public",))


MINE, JURIS, PUBLIC = own(OK), juris(OK), public(OK)
# The review page of a public project: its lead gets a clear 403, anyone else outside 404.
LEAD = Reach(DENIED, HIDDEN, ("lead", "public"))

Spec = Cell | Reach


def every(spec: Spec) -> tuple[Spec, ...]:
    return (spec,) * len(ROLES)


def signed_in(spec: Spec) -> tuple[Spec, ...]:
    """Anonymous visitors are sent to log in; every signed-in role gets ``spec``."""
    return (LOGIN, *(spec,) * (len(ROLES) - 1))


def admin_only(allowed, yes: Spec, no: Spec = DENIED) -> tuple[Spec, ...]:
    """Non-staff are sent to the admin's login; staff in ``allowed`` get ``yes``."""
    return tuple(
        ADMIN_LOGIN if role not in STAFF else (yes if role in allowed else no) for role in ROLES
    )


@dataclass(frozen=True)
class Listing:
    """On a 200 answer, the page shows ``mark(kind, obj)`` exactly for the objects in reach.

    With ``exact=False`` only the absence of what is out of reach is checked (a page that
    need not list everything in reach, such as a detail page or a filtered report).
    """

    method: str
    kind: str
    by: tuple[str, ...]
    objects: tuple[str, ...] = PLACES
    exact: bool = True
    when: str | None = None  # only on the request for this object of the row


def never(kind: str, objects: tuple[str, ...] = PLACES, method: str = "GET") -> Listing:
    """The page never shows ``kind`` of any object (workers' names on public pages, say)."""
    return Listing(method, kind, ("nobody",), objects)


def beyond(kind: str, by: str, objects: tuple[str, ...] = PLACES, method: str = "GET") -> Listing:
    """The page shows no ``kind`` of an object outside the role's reach ``by``."""
    return Listing(method, kind, (by,), objects, exact=False)


@dataclass
class Row:
    key: str  # the URL's name ("needs:need-detail"), or its route when it has none
    url: Callable[[Any, Any], str]  # (world, object) → path
    get: tuple[Spec, ...]  # one spec per role, in ROLES order
    post: tuple[Spec, ...]
    objects: tuple = (None,)  # the objects to fill the URL with, one request each
    get_once: bool = False  # GET does not depend on the object: only the first
    data: Callable[[Any, Any], dict] | None = None  # the POST's payload; {} when None
    target: Callable[[Any, Any], Any] | None = None  # what a refused POST must not change
    lists: tuple[Listing, ...] = ()

    def __post_init__(self):
        for method, specs in (("get", self.get), ("post", self.post)):
            assert len(specs) == len(ROLES), f"{self.key}: {method} has {len(specs)} cells"

    def spec(self, method: str, role: str) -> Spec:
        return (self.get if method == "GET" else self.post)[ROLES.index(role)]

    def objects_for(self, method: str) -> tuple:
        return self.objects[:1] if method == "GET" and self.get_once else self.objects


def to(name: str, *args: Callable[[Any, Any], Any]) -> Callable[[Any, Any], str]:
    """A URL builder: ``to("needs:need-detail", pk_of_need)``."""
    return lambda w, o: reverse(name, args=[arg(w, o) for arg in args])


def fixed(path: str) -> Callable[[Any, Any], str]:
    return lambda w, o: path


def rows_of(label: str) -> Callable[[Any, Any], Any]:
    """A POST target that is a model: its number of rows must not change."""
    return lambda w, o: apps.get_model(label)


def need_pk(w, o):
    return w.needs[o].pk


def project_pk(w, o):
    return w.projects[o].pk


def sample_pk(w, o):
    return w.samples[o].pk


# --- the portal -------------------------------------------------------------------------

# The header greets a signed-in worker by name; no other worker's name is on a public page.
MY_NAME_ONLY = beyond("member", "owner")
REPORT_GUARDS = (
    never("member"),
    never("need"),
    beyond("street", "cadre|reviewer", STREETS),
    beyond("ws", "cadre|reviewer"),
)

N9 = NO_METHOD
# fmt: off
PORTAL = [
    #                                  anonymous   worker A    worker B    cadre a1    cadre a2    street      district    reviewer    superuser
    # / and /healthz/
    Row("home", fixed("/"),
        get=every(OK), post=every(N9),
        lists=(MY_NAME_ONLY,)),
    Row("healthz", fixed("/healthz/"),
        get=every(OK), post=every(N9)),
    # /accounts/
    Row("members:login", fixed("/accounts/login/"),
        get=                          (OK,         TO_PROFILE, TO_PROFILE, TO_PROFILE, TO_PROFILE, TO_PROFILE, TO_PROFILE, TO_PROFILE, TO_PROFILE),
        post=                         (INVALID,    TO_PROFILE, TO_PROFILE, TO_PROFILE, TO_PROFILE, TO_PROFILE, TO_PROFILE, TO_PROFILE, TO_PROFILE)),
    Row("members:logout", fixed("/accounts/logout/"),
        get=every(N9), post=every(TO_HOME)),
    Row("members:register", fixed("/accounts/register/"),
        get=                          (OK,         TO_PROFILE, TO_PROFILE, TO_PROFILE, TO_PROFILE, TO_PROFILE, TO_PROFILE, TO_PROFILE, TO_PROFILE),
        post=                         (INVALID,    TO_PROFILE, TO_PROFILE, TO_PROFILE, TO_PROFILE, TO_PROFILE, TO_PROFILE, TO_PROFILE, TO_PROFILE),
        target=rows_of("members.user")),
    # Accounts with no worker profile are sent where they work (the admin, or the reports);
    # the profile's forms answer 404 for them.
    Row("members:profile", fixed("/accounts/profile/"),
        get=                          (LOGIN,      OK,         OK,         TO_ADMIN,   TO_ADMIN,   TO_ADMIN,   TO_ADMIN,   TO_REPORTS, TO_ADMIN),
        post=                         (LOGIN,      OK,         OK,         TO_ADMIN,   TO_ADMIN,   TO_ADMIN,   TO_ADMIN,   TO_REPORTS, TO_ADMIN)),
    # Both workers already have a pending application: a second one is refused.
    Row("members:apply", fixed("/accounts/profile/membership/"),
        get=signed_in(N9),
        post=                         (LOGIN,      REFUSED,    REFUSED,    HIDDEN,     HIDDEN,     HIDDEN,     HIDDEN,     HIDDEN,     HIDDEN),
        target=rows_of("members.membershipapplication")),
    Row("members:change-employer", fixed("/accounts/profile/employer/"),
        get=                          (LOGIN,      OK,         OK,         HIDDEN,     HIDDEN,     HIDDEN,     HIDDEN,     HIDDEN,     HIDDEN),
        post=                         (LOGIN,      INVALID,    INVALID,    HIDDEN,     HIDDEN,     HIDDEN,     HIDDEN,     HIDDEN,     HIDDEN),
        target=rows_of("members.employment")),
    # /needs/
    Row("needs:need-list", fixed("/needs/"),
        get=signed_in(OK), post=signed_in(N9),
        lists=(Listing("GET", "need", ("owner",)),)),
    # Only workers raise needs online; a cadre records them in the admin instead.
    Row("needs:need-new", fixed("/needs/new/"),
        get=                          (LOGIN,      OK,         OK,         DENIED,     DENIED,     DENIED,     DENIED,     DENIED,     DENIED),
        post=                         (LOGIN,      INVALID,    INVALID,    DENIED,     DENIED,     DENIED,     DENIED,     DENIED,     DENIED),
        target=rows_of("needs.need")),
    # The public wording of published needs for everyone; the worker's own title for no one.
    Row("needs:public-list", fixed("/needs/public/"),
        get=every(OK), post=every(N9),
        lists=(Listing("GET", "public", ("everyone",)), never("need"), MY_NAME_ONLY)),
    Row("needs:need-detail", to("needs:need-detail", need_pk), objects=PLACES,
        get=                          (LOGIN,      MINE,       MINE,       JURIS,      JURIS,      JURIS,      JURIS,      HIDDEN,     OK),
        post=signed_in(N9),
        lists=(beyond("need", "owner|cadre"), beyond("member", "owner|cadre"))),
    # A worker's own action: the owner does it, the need's cadres may only look (403).
    Row("needs:need-withdraw", to("needs:need-withdraw", need_pk), objects=PLACES,
        get=every(N9),
        post=                         (LOGIN,      own(DONE),  own(DONE),  juris(DENIED), juris(DENIED), juris(DENIED), juris(DENIED), HIDDEN, DENIED),
        target=lambda w, o: w.needs[o]),
    Row("needs:need-rate", to("needs:need-rate", need_pk), objects=PLACES,
        get=every(N9),
        post=                         (LOGIN,      own(INVALID), own(INVALID), juris(DENIED), juris(DENIED), juris(DENIED), juris(DENIED), HIDDEN, DENIED),
        target=lambda w, o: w.needs[o]),
    # "Me too" on any published need but one's own; accounts with no worker profile are told no.
    Row("needs:need-support", to("needs:need-support", need_pk), objects=PLACES,
        get=every(N9),
        post=                         (LOGIN,      own(REFUSED, DONE), own(REFUSED, DONE), REFUSED, REFUSED, REFUSED, REFUSED, REFUSED, REFUSED),
        target=lambda w, o: w.needs[o]),
    Row("needs:attachment-download",
        lambda w, o: reverse("needs:attachment-download", args=[w.needs[o].pk, w.attachments[o].pk]),
        objects=PLACES,
        get=                          (LOGIN,      MINE,       MINE,       JURIS,      JURIS,      JURIS,      JURIS,      HIDDEN,     OK),
        post=every(N9)),
    # /projects/
    Row("projects:project-list", fixed("/projects/"),
        get=every(OK), post=every(N9),
        lists=(Listing("GET", "project", ("public",), PROJECTS), MY_NAME_ONLY, never("need"))),
    # The district's assessed projects waiting for a verdict; never another district's.
    Row("projects:review-queue", fixed("/projects/review/"),
        get=                          (LOGIN,      DENIED,     DENIED,     DENIED,     DENIED,     DENIED,     DENIED,     OK,         OK),
        post=signed_in(N9),
        lists=(Listing("GET", "project", ("reviewer",), ("b1", "z1")), never("member"))),
    Row("projects:project-detail", to("projects:project-detail", project_pk), objects=PROJECTS,
        get=every(PUBLIC), post=every(N9),
        lists=(MY_NAME_ONLY, never("need"))),
    Row("projects:progress-photo",
        lambda w, o: reverse("projects:progress-photo", args=[w.projects[o].pk, w.photos[o].pk]),
        objects=PROJECTS,
        get=every(PUBLIC), post=every(N9)),
    Row("projects:project-review", to("projects:project-review", project_pk), objects=PROJECTS,
        get=                          (LOGIN,      HIDDEN,     HIDDEN,     LEAD,       LEAD,       HIDDEN,     LEAD,       Reach(OK, HIDDEN, ("reviewer", "public")), PUBLIC),
        post=signed_in(N9),
        lists=(MY_NAME_ONLY, never("need"))),
    Row("projects:project-review-submit", to("projects:project-review-submit", project_pk), objects=PROJECTS,
        get=every(N9),
        post=                         (LOGIN,      HIDDEN,     HIDDEN,     LEAD,       LEAD,       HIDDEN,     LEAD,       Reach(INVALID, HIDDEN, ("reviewer", "public")), public(INVALID)),
        target=lambda w, o: w.projects[o]),
    # Evidence (sign-off sheets name workers): the project's cadres and the district's reviewers.
    Row("projects:evidence-download",
        lambda w, o: reverse("projects:evidence-download", args=[w.projects[o].pk, w.evidence[o].pk]),
        objects=PROJECTS,
        get=                          (LOGIN,      HIDDEN,     HIDDEN,     JURIS,      JURIS,      JURIS,      JURIS,      reviewed(OK), OK),
        post=every(N9)),
    # /messages/
    Row("notifications:inbox", fixed("/messages/"),
        get=signed_in(OK), post=signed_in(N9)),
    Row("notifications:mark-all-read", fixed("/messages/read-all/"),
        get=every(N9), post=signed_in(FOUND)),
    # /reports/ — reviewers and district cadres see the district, street cadres their street.
    # Figures only: no worker's name or need, nothing from outside the user's scope.
    Row("reports:report", fixed("/reports/"),
        get=                          (LOGIN,      DENIED,     DENIED,     DENIED,     DENIED,     OK,         OK,         OK,         OK),
        post=signed_in(N9),
        lists=REPORT_GUARDS),
    Row("reports:export", to("reports:export", lambda w, o: "balance-street", lambda w, o: "csv"),
        get=                          (LOGIN,      DENIED,     DENIED,     DENIED,     DENIED,     OK,         OK,         OK,         OK),
        post=signed_in(N9),
        lists=REPORT_GUARDS),
    # 回访抽查: the reviewers' independent check, closed to every cadre.
    Row("reports:follow-up-list", fixed("/reports/follow-up/"),
        get=                          (LOGIN,      DENIED,     DENIED,     DENIED,     DENIED,     DENIED,     DENIED,     OK,         OK),
        post=                         (LOGIN,      DENIED,     DENIED,     DENIED,     DENIED,     DENIED,     DENIED,     N9,         N9),
        lists=(beyond("district", "reviewer", DISTRICTS), beyond("street", "reviewer", STREETS))),
    Row("reports:follow-up-draw", fixed("/reports/follow-up/draw/"),
        get=                          (LOGIN,      DENIED,     DENIED,     DENIED,     DENIED,     DENIED,     DENIED,     N9,         N9),
        post=                         (LOGIN,      DENIED,     DENIED,     DENIED,     DENIED,     DENIED,     DENIED,     INVALID,    INVALID),
        target=rows_of("reports.followupsample")),
    Row("reports:follow-up-detail", to("reports:follow-up-detail", sample_pk), objects=DISTRICTS,
        get=                          (LOGIN,      DENIED,     DENIED,     DENIED,     DENIED,     DENIED,     DENIED,     reviewed(OK), OK),
        post=                         (LOGIN,      DENIED,     DENIED,     DENIED,     DENIED,     DENIED,     DENIED,     N9,         N9),
        lists=(beyond("member", "reviewer"), beyond("need", "reviewer"))),
    Row("reports:follow-up-call",
        lambda w, o: reverse("reports:follow-up-call", args=[w.samples[o].pk, w.calls[o].pk]),
        objects=DISTRICTS,
        get=every(N9),
        post=                         (LOGIN,      DENIED,     DENIED,     DENIED,     DENIED,     DENIED,     DENIED,     reviewed(REFUSED), REFUSED),
        target=lambda w, o: w.calls[o]),
    # /workstations/ — the public directory of every district's workstations.
    Row("workstations:workstation-list", fixed("/workstations/"),
        get=every(OK), post=every(N9),
        lists=(Listing("GET", "ws", ("everyone",)), MY_NAME_ONLY)),
    # /workstations/units/?q= — employer names (public, like the directory) for registration.
    Row("workstations:unit-search", fixed("/workstations/units/?q=%E5%8D%95%E4%BD%8D"),
        get=every(OK), post=every(N9)),
]
# fmt: on


# --- the admin --------------------------------------------------------------------------


@dataclass(frozen=True)
class Custom:
    """A decision for one admin URL beyond the standard six of a model admin."""

    url: Callable[[Any, Any], str]
    get: tuple[Spec, ...]
    post: tuple[Spec, ...]
    objects: tuple = (None,)
    data: Callable[[Any, Any], dict] | None = None
    target: Callable[[Any, Any], Any] | None = None
    lists: tuple[Listing, ...] = ()


@dataclass(frozen=True)
class AdminPolicy:
    """Who may do what with one model in the admin.

    ``view`` are the roles that may open its list and change pages (read only unless in
    ``change``). ``reach`` names the rule by which the admin scopes its rows
    (JurisdictionAdminMixin); None for a model every allowed role sees whole. Staff
    outside every set get 403; an object outside the reach answers 404.
    """

    instance: Callable[[Any, Any], Any]  # (world, object key) → the model instance
    view: frozenset[str] = NONE
    add: frozenset[str] = NONE
    change: frozenset[str] = NONE
    delete: frozenset[str] = NONE
    objects: tuple = ("x",)
    reach: str | None = None
    # The changelist's actions and the permission each needs; the first is POSTed.
    actions: Mapping[str, str] = field(default_factory=lambda: {"delete_selected": "delete"})
    action_done: Cell = DONE  # what the POSTed action does to an object in reach
    change_data: Callable[[Any, Any], dict] | None = None  # POSTed to the change page
    # What that POST gives a role that may change (one cell, or one per role).
    change_post: Cell | Mapping[str, Cell] = INVALID
    delete_post: Cell = DONE  # what confirming the delete page gives a role that may delete
    marker: str | None = None  # the mark(kind, …) the changelist shows of each object
    custom: Mapping[str, Custom] = field(default_factory=dict)

    @property
    def by(self) -> tuple[str, ...]:
        return (self.reach or "everyone",)

    @property
    def viewers(self) -> frozenset[str]:
        return self.view | self.change


def single(label: str) -> Callable[[Any, Any], Any]:
    return lambda w, o: w.single[label]


def keyed(attribute: str) -> Callable[[Any, Any], Any]:
    return lambda w, o: getattr(w, attribute)[o]


def export_data(label: str) -> Callable[[Any, Any], dict]:
    """The export form asking for every field, as CSV (django-import-export 4)."""

    def data(w, o):
        from django.contrib import admin
        from import_export.formats.base_formats import CSV

        model_admin = admin.site._registry[apps.get_model(label)]
        formats = model_admin.get_export_formats()
        resource = model_admin.get_export_resource_classes(None)[0]
        payload = {
            "format": str(next(i for i, f in enumerate(formats) if f is CSV)),
            "resource": "0",
        }
        prefix = resource.__name__.lower()
        for name in resource().get_export_order():
            payload[f"{prefix}_{name}"] = "on"
        return payload

    return data


def import_export(label: str, marker: str, *, importers, exporters) -> dict[str, Custom]:
    """Import and export of a scoped model (IMPORT_EXPORT_*_PERMISSION_CODE: add, view).

    Every row an import or export touches is checked against the cadre's jurisdiction;
    the export lists exactly the objects in reach.
    """
    app, model = label.split(".")
    base = f"admin:{app}_{model}"
    return {
        f"{base}_import": Custom(
            fixed(f"/admin/{app}/{model}/import/"),
            get=admin_only(importers, OK),
            post=admin_only(importers, INVALID),
        ),
        f"{base}_process_import": Custom(
            fixed(f"/admin/{app}/{model}/process_import/"),
            get=admin_only(importers, N9),
            post=admin_only(importers, INVALID),
        ),
        f"{base}_export": Custom(
            fixed(f"/admin/{app}/{model}/export/"),
            get=admin_only(exporters, OK),
            post=admin_only(exporters, OK),
            data=export_data(label),
            lists=(Listing("POST", marker, ("cadre",)),),
        ),
    }


def project_file(kind: str) -> Custom:
    """A progress photo or evidence file, read through its project: 404 outside the reach."""
    files = {"photo": "photos", "evidence": "evidence"}[kind]
    return Custom(
        lambda w, o: reverse(
            f"admin:projects_serviceproject_{kind}",
            args=[w.projects[o].pk, getattr(w, files)[o].pk],
        ),
        objects=PROJECTS,
        get=admin_only(STAFF, JURIS, HIDDEN),
        post=admin_only(STAFF, JURIS, HIDDEN),
    )


# Somewhere outside the reach of every cadre who reaches the object.
ELSEWHERE = {"a1": "z1", "a2": "z1", "b1": "z1", "z1": "a1"}
# Pointing a record at another jurisdiction is refused to cadres (the choice is not offered);
# the superuser may move it.
MOVED_ONLY_BY_ROOT = {**dict.fromkeys(CADRES, INVALID), ROOT: DONE}


def management(*prefixes: str) -> dict:
    """Empty inline formsets, so that only the form's own fields decide."""
    data = {}
    for prefix in prefixes:
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    return data


def move_member(w, o) -> dict:
    """Move the worker to a unit of another jurisdiction."""
    far = ELSEWHERE[o]
    return {
        "mobile": w.members[o].mobile,
        "unit": str(w.units[far].pk),
        "unit_name": w.units[far].name,
        "workstation": str(w.workstations[far].pk),
        **management("employments", "applications"),
    }


def move_unit(w, o) -> dict:
    """Move the unit to a workstation of another jurisdiction."""
    unit = w.units[o]
    return {
        "name": unit.name,
        "ownership": str(unit.ownership_id),
        "industry": unit.industry,
        "headcount": "0",
        "workstation": str(w.workstations[ELSEWHERE[o]].pk),
    }


# fmt: off
ADMIN: dict[str, AdminPolicy] = {
    # Accounts, groups, posts, login records and the audit history: the superuser's business.
    "auth.group": AdminPolicy(single("auth.group"), view=ONLY_ROOT, add=ONLY_ROOT, change=ONLY_ROOT, delete=ONLY_ROOT),
    "members.user": AdminPolicy(single("members.user"), view=ONLY_ROOT, add=ONLY_ROOT, change=ONLY_ROOT, delete=ONLY_ROOT,
                                delete_post=INVALID,  # a worker's account is protected by their profile
                                custom={"admin:auth_user_password_change": Custom(
                                    lambda w, o: reverse("admin:auth_user_password_change", args=[w.single["members.user"].pk]),
                                    get=admin_only(ONLY_ROOT, OK), post=admin_only(ONLY_ROOT, INVALID))}),
    "workstations.cadreassignment": AdminPolicy(single("workstations.cadreassignment"),
                                                view=ONLY_ROOT, add=ONLY_ROOT, change=ONLY_ROOT, delete=ONLY_ROOT),
    # Unlocking a locked-out account = deleting its attempts; the records are read only.
    "axes.accessattempt": AdminPolicy(single("axes.accessattempt"), view=ONLY_ROOT, change=ONLY_ROOT, delete=ONLY_ROOT,
                                      change_post=FOUND),
    "axes.accesslog": AdminPolicy(single("axes.accesslog"), view=ONLY_ROOT, change=ONLY_ROOT, delete=ONLY_ROOT,
                                  change_post=FOUND),
    "axes.accessfailurelog": AdminPolicy(single("axes.accessfailurelog"), view=ONLY_ROOT, change=ONLY_ROOT, delete=ONLY_ROOT,
                                         change_post=FOUND),
    "auditlog.logentry": AdminPolicy(single("auditlog.logentry"), view=ONLY_ROOT),
    # Reference data: every cadre reads it, the superuser maintains it.
    "workstations.ownershiptype": AdminPolicy(single("workstations.ownershiptype"), view=VIEWERS, add=ONLY_ROOT, change=ONLY_ROOT, delete=ONLY_ROOT,
                                              delete_post=INVALID),  # units use it
    "needs.servicearea": AdminPolicy(single("needs.servicearea"), view=VIEWERS, add=ONLY_ROOT, change=ONLY_ROOT, delete=ONLY_ROOT,
                                     delete_post=INVALID),  # needs use it
    "needs.channel": AdminPolicy(single("needs.channel"), view=VIEWERS, add=ONLY_ROOT, change=ONLY_ROOT, delete=ONLY_ROOT,
                                 delete_post=INVALID),  # needs use it
    # District-wide settings: every cadre works by them, the district sets them.
    "core.workdayoverride": AdminPolicy(single("core.workdayoverride"), view=VIEWERS, add=DISTRICT_EDITS, change=DISTRICT_EDITS, delete=DISTRICT_EDITS),
    "needs.timelimit": AdminPolicy(single("needs.timelimit"), view=VIEWERS, add=DISTRICT_EDITS, change=DISTRICT_EDITS, delete=DISTRICT_EDITS),
    "needs.replytemplate": AdminPolicy(single("needs.replytemplate"), view=VIEWERS, add=DISTRICT_EDITS, change=DISTRICT_EDITS, delete=DISTRICT_EDITS),
    # The organisation, scoped: a cadre sees their node, what is below it and what is above.
    "workstations.district": AdminPolicy(keyed("districts"), view=VIEWERS, add=ONLY_ROOT, change=ONLY_ROOT, delete=ONLY_ROOT,
                                         objects=DISTRICTS, reach="cadre", marker="district", delete_post=INVALID),
    "workstations.street": AdminPolicy(keyed("streets"), view=VIEWERS, add=ONLY_ROOT, change=ONLY_ROOT, delete=ONLY_ROOT,
                                       objects=STREETS, reach="cadre", marker="street", delete_post=INVALID),
    "workstations.workstation": AdminPolicy(keyed("workstations"), view=VIEWERS, change=VIEWERS, add=ONLY_ROOT, delete=ONLY_ROOT,
                                            objects=PLACES, reach="cadre", marker="ws", delete_post=INVALID),
    "workstations.unit": AdminPolicy(keyed("units"), view=VIEWERS, add=VIEWERS, change=VIEWERS, delete=ONLY_ROOT,
                                     objects=PLACES, reach="cadre", marker="unit", delete_post=INVALID,
                                     change_data=move_unit, change_post=MOVED_ONLY_BY_ROOT,
                                     custom=import_export("workstations.unit", "unit", importers=VIEWERS, exporters=VIEWERS)),
    # Workers and their applications.
    "members.member": AdminPolicy(keyed("members"), view=VIEWERS, add=VIEWERS, change=VIEWERS, delete=ONLY_ROOT,
                                  objects=PLACES, reach="cadre", marker="member", delete_post=INVALID,
                                  change_data=move_member, change_post=MOVED_ONLY_BY_ROOT,
                                  custom=import_export("members.member", "member", importers=VIEWERS, exporters=VIEWERS)),
    "members.membershipapplication": AdminPolicy(keyed("applications"), view=VIEWERS, change=VIEWERS,
                                                 objects=PLACES, reach="cadre", marker="member",
                                                 actions={"approve_selected": "change", "reject_selected": "change"},
                                                 change_data=lambda w, o: {"decision": "approve"}, change_post=DONE),
    # Needs: handled through the action panel, never deleted.
    "needs.need": AdminPolicy(keyed("needs"), view=VIEWERS, add=VIEWERS, change=VIEWERS,
                              objects=PLACES, reach="cadre", marker="need",
                              actions={"accept_selected": "change", "reject_selected": "change", "resolve_selected": "change",
                                       "create_project_from_needs": "change", "link_to_project": "change"},
                              change_data=lambda w, o: {"_need_action": "accept", "expected_status": "submitted"},
                              change_post=DONE),
    # Projects: created from needs, cancelled rather than deleted; files read through the project.
    "projects.serviceproject": AdminPolicy(keyed("projects"), view=VIEWERS, change=VIEWERS,
                                           objects=PROJECTS, reach="cadre", marker="project", actions={},
                                           change_data=lambda w, o: {"_project_action": "progress", "text": "第二场讲座",
                                                                     "percent": "60", "expected_status": w.projects[o].status},
                                           change_post=FOUND,
                                           custom={"admin:projects_serviceproject_photo": project_file("photo"),
                                                   "admin:projects_serviceproject_evidence": project_file("evidence")}),
    # The district's ranking weights: its district-level cadres set them; those ranked do not see them.
    "reports.rankingweights": AdminPolicy(keyed("weights"), view=DISTRICT_EDITS, add=DISTRICT_EDITS, change=DISTRICT_EDITS, delete=ONLY_ROOT,
                                          objects=DISTRICTS, reach="district-posts", marker="district"),
    # 回访抽查, read only: never the cadres being checked. (Reviewers are not staff.)
    "reports.followupsample": AdminPolicy(keyed("samples"), view=ONLY_ROOT, objects=DISTRICTS, reach="reviewer", actions={}),
}
# fmt: on

# The admin's app pages: an app is listed, and its page opens, when the role may view one
# of its models.
REACH["app"] = {
    role: {label.split(".")[0] for label, policy in ADMIN.items() if role in policy.viewers}
    for role in ROLES
}
APP_LABELS = tuple(dict.fromkeys(label.split(".")[0] for label in ADMIN))


# Each kind of marked object, and the objects that carry the mark.
MARKED = {
    "district": DISTRICTS,
    "street": STREETS,
    "ws": PLACES,
    "unit": PLACES,
    "member": PLACES,
    "need": PLACES,
    "project": PROJECTS,
}


def model_rows(label: str, policy: AdminPolicy) -> list[Row]:
    """The standard six URLs of a model admin, and its custom ones, as rows."""
    app, model = label.split(".")
    base = f"admin:{app}_{model}"
    inst, by, objects = policy.instance, policy.by, policy.objects

    def pk_url(suffix):
        return lambda w, o: reverse(f"{base}_{suffix}", args=[inst(w, o).pk])

    def may(roles, yes, no=DENIED):
        return admin_only(roles, yes, no)

    def scoped(roles, yes, no=DENIED):
        """Outside the reach 404 first (JurisdictionAdminMixin), else the permission decides."""
        if policy.reach is None:
            return may(roles, yes, no)
        return tuple(
            ADMIN_LOGIN if role not in STAFF else Reach(yes if role in roles else no, HIDDEN, by)
            for role in ROLES
        )

    def changed(role):
        post = policy.change_post
        return post if isinstance(post, Cell) else post[role]

    def action_post(role):
        if role not in STAFF:
            return ADMIN_LOGIN
        if role not in policy.viewers:
            return DENIED
        available = [a for a, perm in policy.actions.items() if role in getattr(policy, perm)]
        if not available:
            return INVALID  # no action to run: the list is shown again
        chosen = next(iter(policy.actions))
        if chosen not in available:
            return REFUSED
        # Deleting through the action confirms like the delete page does.
        done = policy.delete_post if chosen == "delete_selected" else policy.action_done
        return Reach(done, REFUSED, by)

    def action_data(w, o):
        return {
            "action": next(iter(policy.actions), ""),
            "_selected_action": [str(inst(w, o).pk)],
            "index": "0",
            "post": "yes",
        }

    # What a cadre's pages of a scoped model never show: anything beyond their jurisdiction.
    guards = (
        tuple(beyond(kind, "cadre", MARKED[kind]) for kind in MARKED if kind != policy.marker)
        if policy.reach == "cadre"
        else ()
    )
    lists = (Listing("GET", policy.marker, by, objects),) if policy.marker else ()
    lists += guards
    rows = [
        Row(
            f"{base}_changelist",
            fixed(f"/admin/{app}/{model}/"),
            objects=objects,
            get_once=True,
            get=may(policy.viewers, OK),
            post=tuple(action_post(role) for role in ROLES),
            data=action_data,
            target=inst,
            lists=lists,
        ),
        Row(
            f"{base}_add",
            fixed(f"/admin/{app}/{model}/add/"),
            get=may(policy.add, OK),
            post=may(policy.add, INVALID),
            target=rows_of(label),
        ),
        # Django checks the model permission first (403), then the object (404).
        Row(
            f"{base}_change",
            pk_url("change"),
            objects=objects,
            get=tuple(
                ADMIN_LOGIN
                if role not in STAFF
                else (Reach(OK, HIDDEN, by) if role in policy.viewers else DENIED)
                for role in ROLES
            ),
            post=tuple(
                ADMIN_LOGIN
                if role not in STAFF
                else (Reach(changed(role), HIDDEN, by) if role in policy.change else DENIED)
                for role in ROLES
            ),
            data=policy.change_data,
            target=inst,
            lists=(*guards, *((beyond(policy.marker, "cadre", objects),) if guards else ())),
        ),
        Row(
            f"{base}_delete",
            pk_url("delete"),
            objects=objects,
            get=scoped(policy.delete, OK),
            post=scoped(policy.delete, policy.delete_post),
            data=lambda w, o: {"post": "yes"},
            target=inst,
        ),
        Row(
            f"{base}_history",
            pk_url("history"),
            objects=objects,
            get=scoped(policy.viewers, OK),
            post=scoped(policy.viewers, OK),
        ),
        # /admin/<app>/<model>/<id>/ only redirects to the change page, looking nothing up.
        Row(
            f"admin/{app}/{model}/<path:object_id>/",
            lambda w, o: f"/admin/{app}/{model}/{inst(w, o).pk}/",
            objects=objects[:1],
            get=admin_only(STAFF, Cell(302, f"/admin/{app}/{model}/*", "same")),
            post=admin_only(STAFF, Cell(302, f"/admin/{app}/{model}/*", "same")),
            target=inst,
        ),
    ]
    for key, custom in policy.custom.items():
        rows.append(
            Row(
                key,
                custom.url,
                objects=custom.objects,
                get=custom.get,
                post=custom.post,
                data=custom.data,
                target=custom.target,
                lists=custom.lists,
            )
        )
    return rows


def content_type_pk(instance) -> int:
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(instance).pk


# Autocomplete sources (app.model.field); the answer comes from the related model's admin.
AUTOCOMPLETE = (
    "members.member.unit",
    "members.member.workstation",
    "workstations.unit.workstation",
    "needs.need.submitter",
    "workstations.cadreassignment.user",  # accounts: the superuser's only
)
REACH["autocomplete"] = {
    **dict.fromkeys(CADRES, set(AUTOCOMPLETE[:-1])),
    ROOT: EVERYTHING,
}


def autocomplete_url(w, o):
    app, model, name = o.split(".")
    return f"/admin/autocomplete/?app_label={app}&model_name={model}&field_name={name}&term="


def app_url(w, o):
    return reverse("admin:app_list", kwargs={"app_label": o})


# fmt: off
ADMIN_SITE = [
    #                                  anonymous   worker A    worker B    cadre a1    cadre a2    street      district    reviewer    superuser
    Row("admin:index", fixed("/admin/"),
        get=admin_only(STAFF, OK), post=admin_only(STAFF, OK)),
    # Signed-in staff are sent on to the index; anyone else sees the form.
    Row("admin:login", fixed("/admin/login/"),
        get=                          (OK,         OK,         OK,         TO_ADMIN,   TO_ADMIN,   TO_ADMIN,   TO_ADMIN,   OK,         TO_ADMIN),
        post=every(INVALID)),
    Row("admin:logout", fixed("/admin/logout/"),
        get=tuple(N9 if role in STAFF else TO_ADMIN for role in ROLES),
        post=tuple(TO_HOME if role in STAFF else TO_ADMIN for role in ROLES)),
    Row("admin:password_change", fixed("/admin/password_change/"),
        get=admin_only(STAFF, OK), post=admin_only(STAFF, INVALID)),
    Row("admin:password_change_done", fixed("/admin/password_change/done/"),
        get=admin_only(STAFF, OK), post=admin_only(STAFF, N9)),
    # Autocomplete answers from the related model's scoped admin: objects in reach only.
    Row("admin:autocomplete", autocomplete_url, objects=AUTOCOMPLETE,
        get=admin_only(STAFF, Reach(OK, DENIED, ("autocomplete",))), post=admin_only(STAFF, N9),
        lists=(Listing("GET", "unit", ("cadre",), when="members.member.unit"),
               Listing("GET", "ws", ("cadre",), when="members.member.workstation"),
               Listing("GET", "ws", ("cadre",), when="workstations.unit.workstation"),
               Listing("GET", "member", ("cadre",), when="needs.need.submitter"))),
    Row("admin:jsi18n", fixed("/admin/jsi18n/"),
        get=admin_only(STAFF, OK), post=admin_only(STAFF, N9)),
    # No model has a public URL of its own ("view on site"): always 404, in reach or not.
    Row("admin:view_on_site",
        lambda w, o: reverse("admin:view_on_site", args=[content_type_pk(w.needs[o]), w.needs[o].pk]),
        objects=PLACES,
        get=admin_only(STAFF, HIDDEN), post=admin_only(STAFF, HIDDEN)),
    Row("admin:app_list", app_url, objects=APP_LABELS,
        get=admin_only(STAFF, Reach(OK, HIDDEN, ("app",))),
        post=admin_only(STAFF, Reach(OK, HIDDEN, ("app",)))),
    # Any other /admin/ path.
    Row("admin/(?P<url>.*)$", fixed("/admin/no-such-page/"),
        get=admin_only(STAFF, HIDDEN), post=admin_only(STAFF, HIDDEN)),
]
# fmt: on


def rows() -> list[Row]:
    """Every row of the matrix: the portal, the admin site, and each model admin's URLs."""
    generated = [row for label, policy in ADMIN.items() for row in model_rows(label, policy)]
    return [*PORTAL, *ADMIN_SITE, *generated]
