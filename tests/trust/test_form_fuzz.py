"""Every public form, fed whatever a browser, a script or a broken phone might send.

Hypothesis generates arbitrary Unicode, 100 000-character strings, control characters
(NUL included: PostgreSQL refuses it in text), lone surrogates and raw bytes that are not
UTF-8 (sent as a careless encoder writes them; Django decodes bad bytes to U+FFFD) and
unknown choice values. Whatever arrives:

* the answer is never a server error (5xx);
* a refused form saves nothing: no row is added to any of the models in ``COUNTED``;
* an accepted form saves exactly what was sent after the form's documented normalisation
  (percent-decoding, U+FFFD for bad bytes, surrounding whitespace stripped, full-width
  digits of a mobile number read as ASCII), and never a control character: tabs and line
  breaks are allowed in multi-line fields only (``apps.core.forms.CleanTextMixin``);
* a NUL in a list's query string is refused with 400 (``RefuseNulMiddleware``).

Each example runs inside a savepoint that is rolled back (``example()``), with fresh
rate-limit counters and a fresh client, so examples cannot see each other and the
function-scoped fixtures (users, needs) stay as they were; that is why Hypothesis' health
check against function-scoped fixtures is suppressed.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import unicodedata
from urllib.parse import quote_plus

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from apps.members import services as member_services
from apps.members.models import Employment, Member, MembershipApplication, User
from apps.needs import services as need_services
from apps.needs.models import Attachment, Need, NeedEvent, Rating, ServiceArea, Support
from apps.needs.workflow import Status
from apps.notifications.models import Notification
from tests.conftest import PASSWORD

FUZZ = settings(
    max_examples=25,
    deadline=None,
    # The same examples on every run, so CI is a stable gate; FUZZ_RANDOM=1 explores anew
    # (and FUZZ_RANDOM=1 with more examples is how new bugs are hunted).
    derandomize=not os.environ.get("FUZZ_RANDOM"),
    database=None,  # nothing written next to the code
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # see example(): every example is rolled back
        HealthCheck.too_slow,  # each example is a full request through the site
        HealthCheck.data_too_large,  # 100 000-character strings on purpose
    ],
)

COUNTED = (
    User,
    Member,
    Employment,
    MembershipApplication,
    Need,
    NeedEvent,
    Attachment,
    Rating,
    Support,
    Notification,
)

# --- what is sent ---------------------------------------------------------------------------

HUGE = 100_000
NASTY = [
    "\x00",
    "诉求\x00标题",
    "\x00" * 20,
    "\x01\x02\x1b[31m红色\x1b[0m",
    "\x7f",
    "\x85下一行",
    "第一行\n第二行",
    "\r\n",
    "\t缩进",
    "\u202e反转文字",
    "\u200b",
    "\ufeff开头",
    "\u2028",
    "\u3000全角空格\u3000",
    "𠮷野家",
    "👩\u200d👩\u200d👧",
    "e\u0301",
    "<script>alert(1)</script>",
    "'; DROP TABLE needs_need; --",
    "{{ request }}{% debug %}",
    "%s%n%00",
    "../../etc/passwd",
    "１３８００１３８０００",
    "=cmd|' /C calc'!A0",
]
# Any code point: the default excludes lone surrogates, so they are asked for explicitly.
ANY_CHAR = st.one_of(
    st.characters(), st.characters(categories=["Cc"]), st.characters(categories=["Cs"])
)


def anything(huge: int):
    """Any text, a known troublemaker, a ``huge``-character string, or raw bytes."""
    return st.one_of(
        st.text(alphabet=ANY_CHAR, max_size=80),
        st.sampled_from(NASTY),
        st.text(alphabet=ANY_CHAR, min_size=1, max_size=3).map(lambda s: (s * huge)[:huge]),
        st.binary(max_size=40),  # rarely UTF-8
    )


wild = anything(HUGE)
# What people type: letters, marks, digits, punctuation and spaces of any script.
typed = st.text(
    alphabet=st.characters(categories=["L", "M", "N", "P", "S", "Zs"]), min_size=1, max_size=50
)


def either(*plausible):
    """A plausible value (so some forms are accepted) or anything at all."""
    return st.one_of(*plausible, wild)


def one_field_wild(fields: dict, **optional):
    """A form of plausible values with one field, or now and then all, sent as anything.

    With every field drawn freely a form is nearly always refused, and the accepted path
    (does it save what was sent?) would hardly be tried.
    """
    names = [*fields, *optional]

    @st.composite
    def form(draw):
        chosen = draw(st.one_of(st.sampled_from(names).map(lambda name: {name}), st.just(names)))
        data = {}
        for name in names:
            plausible = fields.get(name, optional.get(name))
            if name in chosen:
                data[name] = draw(either(plausible), label=name)
            elif name in fields or draw(st.booleans(), label=f"send {name}"):
                data[name] = draw(plausible, label=name)
        return data

    return form()


def raw(value: str | bytes) -> bytes:
    """The bytes on the wire; a lone surrogate is written as a careless encoder would."""
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")


def received(value: str | bytes) -> str:
    """What Django hands to the form: the bytes as UTF-8, a bad sequence as U+FFFD."""
    return raw(value).decode("utf-8", "replace")


def normalised(value: str | bytes) -> str:
    """A text field's documented normalisation: surrounding whitespace is stripped."""
    return received(value).strip()


def urlencoded(pairs) -> str:
    if isinstance(pairs, dict):
        pairs = pairs.items()
    return "&".join(f"{quote_plus(raw(key))}={quote_plus(raw(value))}" for key, value in pairs)


def post(client, url, fields, **extra):
    return client.post(
        url, urlencoded(fields), content_type="application/x-www-form-urlencoded", **extra
    )


def has_control_character(text: str, *, multiline: bool = False) -> bool:
    allowed = "\t\n\r" if multiline else ""
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in text)


# --- how each example runs ----------------------------------------------------------------


def row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in COUNTED}


def added(before: dict[str, int]) -> dict[str, int]:
    """Rows added (or removed) per model since ``before``."""
    after = row_counts()
    return {label: after[label] - count for label, count in before.items() if after[label] != count}


@contextlib.contextmanager
def example(user=None):
    """One example: a fresh client and rate limits; every row it writes is rolled back."""
    cache.clear()
    with transaction.atomic():
        client = Client()
        if user is not None:
            client.force_login(user)
        yield client
        transaction.set_rollback(True)


def assert_no_server_error(response):
    event(f"HTTP {response.status_code}")  # see pytest --hypothesis-show-statistics
    assert response.status_code < 500, response.content[:2000]


# --- registration and login ---------------------------------------------------------------

mobiles = st.one_of(
    st.just("13912345678"),
    # Mobile-shaped, with decimal digits of any script (full-width, Arabic-Indic, …).
    st.text(alphabet=st.characters(categories=["Nd"]), min_size=9, max_size=9).map(
        lambda digits: "13" + digits
    ),
    st.just("１３９１２３４５６７８"),
)


@pytest.mark.django_db
@FUZZ
@given(data=st.data())
def test_registration_saves_all_or_nothing(data, worker, ws_a1, unit_a2):
    url = reverse("members:register")
    fields = data.draw(
        one_field_wild(
            {
                "name": typed,
                "mobile": mobiles,
                "username": st.from_regex(r"[A-Za-z0-9_.-]{3,30}", fullmatch=True),
                "unit_name": st.one_of(st.sampled_from([unit_a2.name, "新开的小饭馆"]), typed),
                "workstation": st.just(str(ws_a1.pk)),
                "password1": st.just("Hard-to-guess-2026"),
            }
        )
    )
    fields["password2"] = data.draw(st.one_of(st.just(fields["password1"]), wild), label="again")
    with example() as client:
        before = row_counts()
        response = post(client, url, fields)
        assert_no_server_error(response)
        if response.status_code != 302:
            assert added(before) == {}
            return
        assert added(before) == {"members.User": 1, "members.Member": 1, "members.Employment": 1}
        member = Member.objects.select_related("user").latest("pk")
        assert member.user.username == normalised(fields["username"])
        assert member.user.name == normalised(fields["name"])
        assert member.unit_name == normalised(fields["unit_name"])
        assert member.mobile == unicodedata.normalize("NFKC", normalised(fields["mobile"]))
        assert re.fullmatch(r"1[3-9][0-9]{9}", member.mobile, re.ASCII)
        assert member.user.check_password(received(fields["password1"]))
        for text in (member.user.name, member.unit_name):
            assert not has_control_character(text)


@pytest.mark.django_db
@FUZZ
@given(
    fields=one_field_wild(
        {
            "username": st.sampled_from(
                ["alice", "13800000001", "ａｌｉｃｅ", "１３８００００００００１"]
            ),
            "password": st.just(PASSWORD),
        }
    )
)
def test_login_accepts_only_the_right_password(fields, worker):
    with example() as client:
        before = row_counts()
        response = post(client, reverse("members:login"), fields)
        assert_no_server_error(response)
        assert added(before) == {}
        if response.status_code == 302:
            assert received(fields["password"]) == PASSWORD
            assert client.session["_auth_user_id"] == str(worker.user.pk)


@pytest.mark.django_db
@FUZZ
@given(
    fields=one_field_wild(
        {
            "username": st.sampled_from(["cadre_a1", "ｃａｄｒｅ_ａ１"]),
            "password": st.just(PASSWORD),
        }
    )
)
def test_admin_login_accepts_only_the_right_password(fields, cadre):
    with example() as client:
        before = row_counts()
        response = post(client, reverse("admin:login"), fields)
        assert_no_server_error(response)
        assert added(before) == {}
        if response.status_code == 302:
            assert received(fields["password"]) == PASSWORD
            assert client.session["_auth_user_id"] == str(cadre.pk)


# --- raising a need -----------------------------------------------------------------------


@pytest.mark.django_db
@FUZZ
@given(fields=one_field_wild({"title": typed, "description": typed}, step=st.just("describe")))
def test_describing_a_need_saves_nothing(fields, worker, reference):
    with example(worker.user) as client:
        before = row_counts()
        response = post(client, reverse("needs:need-new"), fields)
        assert_no_server_error(response)
        assert added(before) == {}


def need_fields(areas):
    return one_field_wild(
        {
            "step": st.just("details"),
            "title": typed,
            "description": typed,
            "kind": st.sampled_from(Need.Kind.values),
            "area": st.sampled_from([str(pk) for pk in areas]),
            "rights_type": st.sampled_from(Need.RightsType.values),
            "urgency": st.sampled_from(Need.Urgency.values),
        },
        confidential=st.just("on"),
        follow_up_consent=st.just("on"),
    )


def assert_need_saved_as_sent(before, fields):
    counts = added(before)
    assert counts.pop("needs.Need") == 1
    assert counts.pop("needs.NeedEvent") == 1
    assert set(counts) <= {"notifications.Notification"}  # the workstation's cadres are told
    need = Need.objects.latest("pk")
    assert need.title == normalised(fields["title"])
    assert need.description == normalised(fields["description"])
    assert not has_control_character(need.title)
    assert not has_control_character(need.description, multiline=True)
    assert (need.kind, need.rights_type, need.urgency) == (
        fields["kind"],
        fields["rights_type"],
        fields["urgency"],
    )
    assert str(need.area_id) == fields["area"]
    return need


@pytest.mark.django_db
@FUZZ
@given(data=st.data())
def test_submitting_a_need_saves_all_or_nothing(data, worker, cadre, reference):
    fields = data.draw(need_fields(ServiceArea.objects.values_list("pk", flat=True)))
    with example(worker.user) as client:
        before = row_counts()
        response = post(client, reverse("needs:need-new"), fields)
        assert_no_server_error(response)
        if response.status_code != 302:
            assert added(before) == {}
            return
        need = assert_need_saved_as_sent(before, fields)
        assert response["Location"] == reverse("needs:need-detail", args=[need.pk])
        assert need.workstation == worker.workstation


@pytest.fixture
def unlisted_worker(ws_a1, ws_a2):
    """A worker whose employer is not in the directory: they choose the workstation."""
    return member_services.member_register(
        username="dave",
        name="刘洋",
        mobile="13800000004",
        password=PASSWORD,
        unit=None,
        unit_name="街角小饭馆",
        workstation=ws_a1,
    )


@pytest.mark.django_db
@FUZZ
@given(data=st.data())
def test_choosing_the_workstation_accepts_only_active_ones(data, unlisted_worker, ws_a2, reference):
    fields = data.draw(need_fields(ServiceArea.objects.values_list("pk", flat=True)))
    fields["workstation"] = data.draw(either(st.just(str(ws_a2.pk))), label="workstation")
    with example(unlisted_worker.user) as client:
        before = row_counts()
        response = post(client, reverse("needs:need-new"), fields)
        assert_no_server_error(response)
        if response.status_code != 302:
            assert added(before) == {}
            return
        need = assert_need_saved_as_sent(before, fields)
        assert str(need.workstation_id) == fields["workstation"]


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 40, 40)).save(buffer, "PNG")
    return buffer.getvalue()


# The test client writes the file name into a multipart header unescaped, as no browser
# would: quotes and line breaks are left out so that the request stays well formed.
file_names = st.text(
    alphabet=st.one_of(st.characters(), st.characters(categories=["Cc"])).filter(
        lambda c: c not in '"\r\n'
    ),
    max_size=300,
).filter(
    # Names with nothing after the last "/" ("/", "a/..") never reach a view: Django's
    # multipart parser drops such a part, and UploadedFile refuses to be built with one.
    lambda name: os.path.basename(name or "x") not in {"", ".", ".."}
)


@pytest.mark.django_db
@FUZZ
@given(
    name=file_names,
    content=st.one_of(st.just(png_bytes()), st.just(b"%PDF-1.4\n%%EOF\n"), st.binary(max_size=300)),
)
def test_attachments_are_saved_with_a_clean_name_or_not_at_all(
    name, content, worker, reference, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    fields = {
        "step": "details",
        "title": "公司拖欠三个月工资",
        "description": "车间二十多名职工的工资从八月起一直没有发放。",
        "kind": Need.Kind.COMPLAINT,
        "area": ServiceArea.objects.get(code="rights").pk,
        "rights_type": Need.RightsType.LABOUR_ECONOMIC,
        "urgency": Need.Urgency.NORMAL,
        "attachments": SimpleUploadedFile(name or "x", content),
    }
    files_before = sorted(tmp_path.rglob("*"))
    with example(worker.user) as client:
        before = row_counts()
        response = client.post(reverse("needs:need-new"), fields)
        assert_no_server_error(response)
        if response.status_code != 302:
            assert added(before) == {}
            assert sorted(tmp_path.rglob("*")) == files_before
            return
        counts = added(before)
        assert counts["needs.Need"] == 1
        for attachment in Attachment.objects.filter(need__pk=Need.objects.latest("pk").pk):
            assert 0 < len(attachment.original_name) <= 200
            assert not has_control_character(attachment.original_name)
            assert "/" not in attachment.original_name


# --- a worker's actions on a need ---------------------------------------------------------


@pytest.fixture
def resolved(need, cadre):
    need_services.need_accept(need=need, by=cadre)
    need_services.need_resolve(need=need, by=cadre, resolution="企业已补发全部工资。")
    need.refresh_from_db()
    return need


@pytest.mark.django_db
@FUZZ
@given(
    fields=one_field_wild(
        {
            "rate-outcome": st.sampled_from(Rating.Outcome.values),
            "rate-score": st.sampled_from(["1", "2", "3", "4", "5"]),
            "rate-comment": st.one_of(typed, st.just("")),
        }
    )
)
def test_rating_saves_all_or_nothing(fields, resolved, worker):
    with example(worker.user) as client:
        before = row_counts()
        response = post(client, reverse("needs:need-rate", args=[resolved.pk]), fields)
        assert_no_server_error(response)
        resolved.refresh_from_db()
        counts = added(before)
        if not counts:
            assert resolved.status == Status.RESOLVED
            return
        assert response.status_code == 302
        assert counts.pop("needs.Rating") == 1
        assert counts.pop("needs.NeedEvent") == 1
        assert set(counts) <= {"notifications.Notification"}
        rating = Rating.objects.get(need=resolved)
        assert rating.outcome == fields["rate-outcome"]
        assert str(rating.score) == fields["rate-score"]
        assert rating.comment == normalised(fields["rate-comment"])
        assert not has_control_character(rating.comment, multiline=True)
        assert resolved.status in {Status.CLOSED, Status.IN_PROGRESS}


@pytest.mark.django_db
@FUZZ
@given(reason=either(typed, st.just("")))
def test_withdrawing_saves_all_or_nothing(reason, need, worker):
    with example(worker.user) as client:
        before = row_counts()
        response = post(
            client, reverse("needs:need-withdraw", args=[need.pk]), {"withdraw-reason": reason}
        )
        assert_no_server_error(response)
        need.refresh_from_db()
        counts = added(before)
        if not counts:
            assert need.status == Status.SUBMITTED
            return
        assert response.status_code == 302
        assert counts.pop("needs.NeedEvent") == 1
        assert set(counts) <= {"notifications.Notification"}
        assert need.status == Status.WITHDRAWN
        note = NeedEvent.objects.filter(need=need).latest("pk").public_note
        assert note == (normalised(reason) or "职工撤回")
        assert not has_control_character(note, multiline=True)


@pytest.fixture
def published(make_need, other_worker, other_cadre):
    """Bob's need, published by his workstation for "me too" support."""
    need = make_need(other_worker, title="食堂饭菜涨价", description="食堂饭菜一个月涨了三次。")
    return need_services.need_publish(need=need, by=other_cadre, public_title="食堂饭菜涨价")


@pytest.mark.django_db
@FUZZ
@given(
    next_url=either(
        st.sampled_from(["/needs/public/?area=1", "//evil.example/", "https://evil.example/"])
    )
)
def test_me_too_redirects_only_within_the_site(next_url, published, worker):
    with example(worker.user) as client:
        before = row_counts()
        response = post(
            client, reverse("needs:need-support", args=[published.pk]), {"next": next_url}
        )
        assert_no_server_error(response)
        assert response.status_code == 302
        assert url_has_allowed_host_and_scheme(response["Location"], allowed_hosts={"testserver"})
        assert added(before) == {"needs.Support": 1}


# --- the worker's profile -----------------------------------------------------------------


@pytest.mark.django_db
@FUZZ
@given(statement=either(typed, st.just("")))
def test_membership_application_saves_all_or_nothing(statement, worker):
    with example(worker.user) as client:
        before = row_counts()
        response = post(client, reverse("members:apply"), {"statement": statement})
        assert_no_server_error(response)
        assert response.status_code == 302
        counts = added(before)
        if not counts:
            assert Member.objects.get(pk=worker.pk).status == Member.Status.NON_MEMBER
            return
        assert counts == {"members.MembershipApplication": 1}
        application = MembershipApplication.objects.get(member=worker)
        assert application.statement == normalised(statement)
        assert not has_control_character(application.statement, multiline=True)


@pytest.mark.django_db
@FUZZ
@given(data=st.data())
def test_changing_employer_saves_all_or_nothing(data, worker, unit_a2, ws_b1):
    fields = data.draw(
        one_field_wild(
            {
                "unit_name": st.one_of(st.sampled_from([unit_a2.name, "新开的小饭馆"]), typed),
                "workstation": st.just(str(ws_b1.pk)),
            }
        )
    )
    with example(worker.user) as client:
        before = row_counts()
        response = post(client, reverse("members:change-employer"), fields)
        assert_no_server_error(response)
        if response.status_code != 302:
            assert added(before) == {}
            return
        assert added(before) == {"members.Employment": 1}
        member = Member.objects.get(pk=worker.pk)
        assert member.unit_name == normalised(fields["unit_name"])
        assert not has_control_character(member.unit_name)


# --- the lists' filters -------------------------------------------------------------------

FILTER_KEYS = [
    "state",
    "kind",
    "area",
    "street",
    "mine",
    "status",
    "q",
    "page",
    "period",
    "start",
    "end",
]
FILTER_VALUES = ["1", "2", "0", "-1", "open", "complaint", "on", "last", "2025-01-01", "custom"]
# Web servers refuse longer request lines (nginx: 8 KB by default), so the lists' query
# strings are tried up to that size rather than 100 000 characters.
URL_LIMIT = 8_000
query_pairs = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(FILTER_KEYS), anything(URL_LIMIT)),
        st.one_of(st.sampled_from(FILTER_VALUES), typed, anything(URL_LIMIT)),
    ),
    max_size=6,
)


@pytest.fixture
def lists_world(published, make_need, worker, street_a):
    """Something on each list: a published need, and one of the worker's own."""
    make_need(worker)


LIST_PAGES = [
    # (page, who looks, examples): the report page is slow to build, so it gets fewer.
    ("needs:need-list", "worker", 20),
    ("needs:public-list", None, 20),
    ("needs:public-list", "worker", 10),
    ("projects:project-list", None, 20),
    ("workstations:workstation-list", None, 20),
    ("reports:report", "reviewer", 10),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("url_name", "who", "examples"), LIST_PAGES)
def test_list_filters_never_fail(url_name, who, examples, request, lists_world):
    user = None
    if who == "worker":
        user = request.getfixturevalue("worker").user
    elif who == "reviewer":
        user = request.getfixturevalue("reviewer")
    url = reverse(url_name)

    @settings(FUZZ, max_examples=examples)
    @given(pairs=query_pairs)
    def check(pairs):
        with example(user) as client:
            before = row_counts()
            response = client.get(url, QUERY_STRING=urlencoded(pairs))
            assert_no_server_error(response)
            # A NUL anywhere is refused outright (apps.core.middleware.RefuseNulMiddleware);
            # anything else is a filter the page ignores or a page number that is not there.
            nul = any("\x00" in received(key) + received(value) for key, value in pairs)
            assert response.status_code in ({400} if nul else {200, 404}), response.status_code
            assert added(before) == {}

    check()


# --- what the fuzzing found, pinned ---------------------------------------------------------


def details(area, **overrides):
    return {
        "step": "details",
        "title": "公司拖欠三个月工资",
        "description": "车间二十多名职工的工资从八月起一直没有发放。",
        "kind": Need.Kind.COMPLAINT,
        "area": area.pk,
        "rights_type": Need.RightsType.LABOUR_ECONOMIC,
        "urgency": Need.Urgency.NORMAL,
        **overrides,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "工资\n拖欠"),  # would reach e-mail subjects
        ("title", "工资\x00拖欠"),  # PostgreSQL refuses NUL in text
        ("title", "\x1b[31m工资拖欠"),
        ("description", "车间\x0b工资\x7f拖欠"),
        ("description", "车间\x00工资拖欠"),
    ],
)
def test_control_characters_are_refused_with_one_message(client, worker, rights_area, field, value):
    client.force_login(worker.user)
    response = client.post(reverse("needs:need-new"), details(rights_area, **{field: value}))
    assert response.status_code == 200
    assert response.context["form"].errors[field] == ["不能包含控制字符。"]
    assert not Need.objects.exists()


@pytest.mark.django_db
def test_tabs_and_line_breaks_stay_in_a_description(client, worker, rights_area):
    client.force_login(worker.user)
    description = "第一，工资拖欠；\r\n第二，\t加班没有加班费。"
    response = client.post(reverse("needs:need-new"), details(rights_area, description=description))
    assert response.status_code == 302
    assert Need.objects.get().description == description


def register(client, unit, mobile):
    return client.post(
        reverse("members:register"),
        {
            "name": "赵敏",
            "mobile": mobile,
            "username": "zhaomin",
            "unit_name": unit.name,
            "password1": "Hard-to-guess-2026",
            "password2": "Hard-to-guess-2026",
        },
    )


@pytest.mark.django_db
def test_full_width_mobile_digits_are_saved_as_ascii(client, unit_a1):
    response = register(client, unit_a1, "１３９１２３４５６７８")
    assert response.status_code == 302
    assert Member.objects.get().mobile == "13912345678"


@pytest.mark.django_db
@pytest.mark.parametrize("mobile", ["13٩١٢٣٤٥٦٧٨", "139१२३४५६७८"])  # Arabic-Indic, Devanagari
def test_mobile_digits_of_other_scripts_are_refused(client, unit_a1, mobile):
    response = register(client, unit_a1, mobile)
    assert response.status_code == 200
    assert response.context["form"].errors["mobile"] == [
        "请输入 11 位中国大陆手机号码，例如 13812345678。"
    ]
    assert not Member.objects.exists()


@pytest.mark.django_db
def test_a_line_break_in_an_old_title_does_not_break_the_email(
    make_need, worker, cadre, django_capture_on_commit_callbacks, mailoutbox
):
    # Saved before the forms refused it (or by an import): accepting it must still work.
    worker.user.email = "alice@example.com"
    worker.user.save(update_fields=["email"])
    need = make_need(worker, title="工资\n拖欠")
    with django_capture_on_commit_callbacks(execute=True):
        need_services.need_accept(need=need, by=cadre)
    assert [mail.subject for mail in mailoutbox] == ["【职工之家】诉求已受理：工资 拖欠"]


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["members:login", "admin:login"])
def test_an_overlong_user_name_is_refused_before_any_login_attempt(client, worker, url_name):
    # It used to reach django-axes, whose 255-character column made PostgreSQL fail (500).
    response = client.post(reverse(url_name), {"username": "x" * 300, "password": "whatever"})
    assert response.status_code == 200
    assert "username" in response.context["form"].errors
    assert not AccessAttempt.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/admin/needs/need/?status__exact=%00",
        "/admin/autocomplete/?term=%00&app_label=needs&model_name=need&field_name=merged_into",
        "/admin/needs/need/%00/change/",
        "/workstations/?q=%00",
    ],
)
def test_a_nul_in_the_address_is_a_bad_request(client, cadre, url):
    # PostgreSQL refuses NUL in text: the admin's filter and autocomplete answered 500.
    client.force_login(cadre)
    response = client.get(url)
    assert response.status_code == 400
    assert "您发送的内容无法处理" in response.content.decode()
