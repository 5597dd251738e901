"""The generated district: organisation, cadres, workers, then needs and projects.

``generate()`` runs the phases in order, each streaming its rows through one
``Writer``; see the package docstring for what the data looks like.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from array import array
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from auditlog.context import disable_auditlog
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone

from apps.core import seeding
from apps.members.models import Employment, Member, MembershipApplication
from apps.needs.models import Need, ServiceArea, Support
from apps.workstations.models import (
    CadreAssignment,
    District,
    OwnershipType,
    Street,
    Unit,
    Workstation,
)
from apps.workstations.services import CADRE_GROUP, REVIEWER_GROUP, cadre_grant_access

from . import words
from .calendar import DAY, HOUR, MINUTE, WORK_START_S, Calendar
from .common import (
    BENCH_NEEDS,
    Picker,
    Scramble,
    Sizes,
    allocate,
    credit_code,
    id_check_digit,
    person,
    recency,
)
from .writer import GeneratorError, Stamps, Writer

WINDOW_DAYS = 730  # the needs and projects span two years up to now
MEMBER_HISTORY_DAYS = 5 * 365  # the oldest workers registered five years ago
ACCOUNTS = ("bench-worker", "bench-poster", "bench-cadre", "bench-street", "bench-district",
            "bench-reviewer")  # fmt: skip

# Ownership code: (share of employers, headcount range, share with a grassroots union).
OWNERSHIP = {
    "state": (6, (150, 3000), 0.97),
    "collective": (3, (10, 300), 0.6),
    "private": (40, (3, 800), 0.35),
    "foreign": (6, (50, 3000), 0.8),
    "hmt": (4, (30, 1500), 0.75),
    "joint-stock": (15, (50, 2000), 0.85),
    "public-institution": (8, (20, 600), 0.98),
    "social-org": (6, (3, 80), 0.4),
    "individual": (12, (1, 10), 0.03),
}
AREA_BASE = {"grassroots": 9, "skills": 14, "culture": 9, "benefits": 20, "rights": 42, "funds": 6}
APPLICATION_REJECTIONS = (
    "申请材料中的工作单位信息不完整，请补充劳动合同或工作证明后重新申请。",
    "经核实，申请人已在原单位工会登记会籍，请先办理会籍转接。",
)


@dataclass
class StreetInfo:
    id: int
    code: str
    name: str
    kind: str
    area_picker: Picker
    cadres: list[int] = field(default_factory=list)


@dataclass
class WorkstationInfo:
    id: int
    street: int
    name: str
    short_name: str
    activity: float  # how readily its workers raise needs
    lateness: float  # how often its cadres miss limits (1 = the district's average)
    cadres: list[int] = field(default_factory=list)
    pool: array = field(default_factory=lambda: array("l"))  # member indexes, oldest first
    pool_created: array = field(default_factory=lambda: array("q"))


@dataclass
class Outcome:
    """What a run wrote: rows per table, the named accounts, and the time it took."""

    rows: dict[str, int]
    accounts: dict[str, str]
    seconds: float
    write_seconds: float  # of which writing to the database
    needs_by_status: dict[str, int]
    projects_by_status: dict[str, int]


Report = Callable[[str, int, float], None]


def generate(
    sizes: Sizes,
    *,
    seed: int = 1,
    password: str = "bench12345",
    now: dt.datetime | None = None,
    report: Report | None = None,
) -> Outcome:
    """Fill an empty, migrated database with a district of ``sizes``; same seed, same data."""
    return Generator(sizes, seed=seed, password=password, now=now, report=report).run()


def check_empty() -> None:
    if Member.objects.exists() or Need.objects.exists():
        raise GeneratorError(
            "数据库中已有职工或诉求：generate_district 只能在刚迁移的空数据库上运行。"
            "请新建数据库（或删除后重新 migrate）再运行。"
        )
    taken = sorted(
        get_user_model().objects.filter(username__in=ACCOUNTS).values_list("username", flat=True)
    )
    if taken:
        raise GeneratorError(f"账号已存在：{'、'.join(taken)}。请使用空数据库。")


@contextmanager
def bulk_session():
    """On PostgreSQL, skip the per-row foreign key triggers while the rows stream in.

    The rows are built consistent (the tests check every foreign key), and the
    triggers would cost a look-up and a row lock per reference: with a superuser
    the session runs as a replica, as pg_restore --disable-triggers does. Yields
    True when PostgreSQL still checks them (a role that may not do this).
    """
    if connection.vendor != "postgresql":
        yield False  # SQLite checks the deferred foreign keys once, at the commit
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cursor.fetchone()[0]
        if superuser:
            cursor.execute("SET session_replication_role = replica")
    try:
        yield not superuser
    finally:
        if superuser:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")


def load_reference_data() -> None:
    """The reference tables and role groups, as load_reference loads them (not audited)."""
    seeding.discover()
    ctx = seeding.SeedContext(seeding.seeds_dir())
    with transaction.atomic(), disable_auditlog():
        seeding.load_reference(ctx)


class Generator:
    def __init__(self, sizes: Sizes, *, seed: int, password: str, now, report):
        self.sizes = sizes
        self.seed = seed
        self.password = password
        moment = (now or timezone.now()).replace(microsecond=0)
        self.now = int(moment.timestamp())
        self.report = report or (lambda label, rows, seconds: None)
        self.validate()

    def validate(self) -> None:
        s = self.sizes
        problems = []
        if s.streets < 1:
            problems.append("--streets 至少为 1")
        if s.workstations < s.streets:
            problems.append("--workstations 不能少于 --streets（每个街道至少一个工作站）")
        if s.units < s.workstations:
            problems.append("--units 不能少于 --workstations（每个工作站至少一家单位）")
        if s.members < max(s.units // 4, s.workstations * 2, 10):
            problems.append("--members 太少：每个工作站至少要有两名职工")
        if s.needs < BENCH_NEEDS * 2:
            problems.append(f"--needs 至少为 {BENCH_NEEDS * 2}（bench-worker 有 {BENCH_NEEDS} 件）")
        if s.projects < 0 or s.projects > s.needs // 4:
            problems.append("--projects 应在 0 与 --needs 的四分之一之间（项目由诉求提出）")
        if problems:
            raise GeneratorError("；".join(problems))

    def rng(self, name: str) -> random.Random:
        """An independent random stream per part, so one part's changes leave others alone."""
        return random.Random(f"{self.seed}:{name}")

    # --- the run ---------------------------------------------------------------------

    def run(self) -> Outcome:
        started = time.monotonic()
        check_empty()
        phase = time.monotonic()
        load_reference_data()
        self.report("参考数据", 0, time.monotonic() - phase)

        with bulk_session() as checking, transaction.atomic(), disable_auditlog():
            if checking:
                with connection.cursor() as cursor:
                    # Checked at the end of each COPY, not all at once at the commit.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            self._prepare()
            self._phase("组织架构", self._organisation)
            self._phase("干部", self._cadres)
            self._phase("职工", self._members)
            from .needs import Needs

            needs = Needs(self)
            self._phase("诉求与服务项目", needs.run)
            self._phase("收尾", self._finish)
        self._phase("整理（VACUUM）", self._vacuum)
        rows = {t.name: t.written for t in self.writer.tables}
        return Outcome(
            rows=rows,
            accounts=self.accounts,
            seconds=time.monotonic() - started,
            write_seconds=self.writer.seconds,
            needs_by_status=dict(needs.by_status),
            projects_by_status=dict(needs.projects.by_status),
        )

    def report_progress(self, label: str, done: int, total: int, seconds: float) -> None:
        self.report(f"{label}（{done * 100 // total}%）", done, seconds)

    def _phase(self, label: str, work) -> None:
        before = sum(t.written + len(t.rows) for t in self.writer.tables)
        started = time.monotonic()
        work()
        self.writer.flush()
        after = sum(t.written for t in self.writer.tables)
        self.report(label, after - before, time.monotonic() - started)

    def _prepare(self) -> None:
        today = timezone.localtime(dt.datetime.fromtimestamp(self.now, tz=dt.UTC)).date()
        self.today = today
        self.cal = Calendar(
            today - dt.timedelta(days=MEMBER_HISTORY_DAYS + 60), today + dt.timedelta(days=400)
        )
        self.window_start = self.now - WINDOW_DAYS * DAY
        utc_first = self.cal.midnight[0] // DAY - 1
        utc_days = (self.cal.midnight[-1] // DAY) - utc_first + 2
        self.stamp = Stamps(utc_first, utc_days, connection.vendor == "postgresql")
        self.writer = Writer()
        self.password_hash = make_password(self.password)
        self.area_ids = dict(ServiceArea.objects.values_list("code", "id"))
        self.ownership_ids = dict(OwnershipType.objects.values_list("code", "id"))
        missing = set(AREA_BASE) - set(self.area_ids)
        if missing or set(OWNERSHIP) - set(self.ownership_ids):
            raise GeneratorError(
                "参考数据不完整：请检查 seeds/reference/ 下的服务领域和所有制类型。"
            )
        self.group_ids = dict(
            Group.objects.filter(name__in=(CADRE_GROUP, REVIEWER_GROUP)).values_list("name", "id")
        )
        w, U = self.writer, get_user_model()
        self.t_district = w.table(
            District, ("id", "code", "name", "union_name", "address", "phone")
        )
        self.t_street = w.table(Street, ("id", "district_id", "code", "name", "kind", "order"))
        self.t_ws = w.table(
            Workstation,
            ("id", "street_id", "code", "name", "address", "hours", "phone", "grid_area",
             "is_active"),
        )  # fmt: skip
        self.t_unit = w.table(
            Unit,
            ("id", "workstation_id", "name", "credit_code", "ownership_id", "industry",
             "headcount", "has_union", "union_name", "address"),
        )  # fmt: skip
        self.t_user = w.table(
            U,
            ("id", "password", "last_login", "is_superuser", "username", "first_name",
             "last_name", "email", "is_staff", "is_active", "date_joined", "name"),
        )  # fmt: skip
        self.t_user_group = w.table(U.groups.through, ("id", "user_id", "group_id"))
        self.t_post = w.table(
            CadreAssignment,
            ("id", "user_id", "role", "district_id", "street_id", "workstation_id", "title",
             "office_phone", "is_active"),
        )  # fmt: skip
        self.t_member = w.table(
            Member,
            ("id", "user_id", "mobile", "id_number", "workstation_id", "unit_id", "unit_name",
             "status", "member_number", "joined_on", "created_at", "updated_at"),
        )  # fmt: skip
        self.t_employment = w.table(
            Employment,
            ("id", "member_id", "unit_id", "unit_name", "workstation_id", "started_on",
             "ended_on", "recorded_by_id"),
        )  # fmt: skip
        self.t_application = w.table(
            MembershipApplication,
            ("id", "member_id", "statement", "status", "reason", "submitted_at", "decided_at",
             "decided_by_id"),
        )  # fmt: skip
        self.usernames = set(U.objects.values_list("username", flat=True))
        self.accounts: dict[str, str] = {}

    # --- organisation ----------------------------------------------------------------

    def _organisation(self) -> None:
        rng, s, add = self.rng("organisation"), self.sizes, self.writer.add
        code = words.DISTRICT_CODE
        taken = set(District.objects.values_list("code", flat=True))
        while code in taken:
            code = str(int(code) + 100)
        self.district_code = code
        self.district_id = self.t_district.take_id()
        add(
            self.t_district,
            (self.district_id, code, words.DISTRICT_NAME, words.DISTRICT_UNION,
             words.DISTRICT_ADDRESS, words.DISTRICT_PHONE),
        )  # fmt: skip

        places = list(words.PLACES)
        rng.shuffle(places)
        zones = max(1, s.streets // 6) if s.streets > 1 else 0
        zone_at = set(range(s.streets - zones, s.streets))
        self.streets: list[StreetInfo] = []
        for i in range(s.streets):
            place = places[i % len(places)] + ("" if i < len(places) else str(i // len(places) + 1))
            zone = i in zone_at
            name = f"{place}{rng.choice(words.ZONE_SUFFIXES)}" if zone else f"{place}街道"
            street_code = f"{code}{(400 if zone else 0) + i + 1:03d}"
            weights = {
                area: base
                * rng.uniform(0.5, 1.6)
                * (1.4 if zone and area in ("rights", "skills") else 1)
                for area, base in AREA_BASE.items()
            }
            info = StreetInfo(
                id=self.t_street.take_id(),
                code=street_code,
                name=name,
                kind="zone" if zone else "street",
                area_picker=Picker(list(weights), list(weights.values())),
            )
            self.streets.append(info)
            add(self.t_street, (info.id, self.district_id, street_code, name, info.kind, i + 1))

        self.workstations: list[WorkstationInfo] = []
        per_street = allocate(s.workstations, [1.0] * s.streets)
        communities = list(words.COMMUNITIES)
        for si, count in enumerate(per_street):
            street = self.streets[si]
            chosen = rng.sample(communities, min(count, len(communities)))
            for k in range(count):
                community = chosen[k % len(chosen)] + (
                    "" if k < len(chosen) else str(k // len(chosen) + 1)
                )
                short = f"{street.name.removesuffix('街道')}{community}网格"
                name = f"{street.name}{community}网格工会工作站"
                road = rng.choice(words.ROADS)
                info = WorkstationInfo(
                    id=self.t_ws.take_id(),
                    street=si,
                    name=name,
                    short_name=short,
                    activity=rng.lognormvariate(0, 0.35),
                    lateness=min(3.0, max(0.3, rng.lognormvariate(0, 0.5))),
                )
                self.workstations.append(info)
                add(
                    self.t_ws,
                    (
                        info.id, street.id, f"{street.code}{k + 1:03d}", name,
                        f"{words.DISTRICT_NAME}{street.name}{road}{rng.randint(1, 399)}号"
                        f"{rng.choice(words.BUILDINGS)}",
                        rng.choice(words.HOURS), f"025-577{si + 1:02d}{k + 1:03d}",
                        f"{community}社区及{road}沿线单位", True,
                    ),
                )  # fmt: skip
        self._units(rng)

    def _units(self, rng: random.Random) -> None:
        s, add = self.sizes, self.writer.add
        ws_weights = [rng.lognormvariate(0, 0.5) for _ in self.workstations]
        per_ws = [c + 1 for c in allocate(s.units - len(self.workstations), ws_weights)]
        codes = list(OWNERSHIP)
        ownership_picker = Picker(codes, [OWNERSHIP[c][0] for c in codes])
        serials = Scramble(10**8, rng)
        names = set(Unit.objects.values_list("name", flat=True))
        self.unit_ids: list[int] = []
        self.unit_ws: list[int] = []
        self.unit_names: list[str] = []
        self.unit_industry: list[str] = []
        headcounts: list[int] = []
        index = 0
        for wsi, count in enumerate(per_ws):
            street = self.streets[self.workstations[wsi].street]
            for _ in range(count):
                # The first employers cover every ownership type.
                ownership = codes[index] if index < len(codes) else ownership_picker.pick(rng)
                name, industry = self._unit_name(rng, ownership, street, names)
                share, (low, high), union_share = OWNERSHIP[ownership]
                headcount = int(math.exp(rng.uniform(math.log(low), math.log(high))))
                has_union = rng.random() < union_share * (1.2 if headcount > 100 else 0.8)
                prefix = {"public-institution": "12", "social-org": "52", "individual": "92"}.get(
                    ownership, "91"
                )
                credit = (
                    credit_code(prefix, self.district_code, serials(index))
                    if rng.random() < 0.93
                    else ""
                )
                unit_id = self.t_unit.take_id()
                add(
                    self.t_unit,
                    (
                        unit_id, self.workstations[wsi].id, name, credit,
                        self.ownership_ids[ownership], industry, headcount, has_union,
                        f"{name}工会委员会" if has_union else "",
                        f"{words.DISTRICT_NAME}{street.name}{rng.choice(words.ROADS)}"
                        f"{rng.randint(1, 999)}号",
                    ),
                )  # fmt: skip
                self.unit_ids.append(unit_id)
                self.unit_ws.append(wsi)
                self.unit_names.append(name)
                self.unit_industry.append(industry)
                headcounts.append(headcount)
                index += 1
        self.unit_headcounts = headcounts

    def _unit_name(self, rng, ownership: str, street: StreetInfo, taken: set[str]):
        place = street.name[:2]
        for attempt in range(50):
            industry = rng.choice(list(words.INDUSTRIES))
            word = rng.choice(words.INDUSTRIES[industry])
            brand = rng.choice(words.BRANDS)
            sub = rng.choice(words.COMMUNITIES)
            if ownership == "state":
                pattern, fixed = rng.choice(words.STATE_NAMES)
                name = pattern.format(place=place, sub=sub, brand=brand, industry=word)
                industry = fixed or industry
            elif ownership == "collective":
                pattern, industry = rng.choice(words.COLLECTIVES)
                name = pattern.format(place=place, sub=sub, brand=brand)
            elif ownership == "foreign":
                where = rng.choice(("中国", words.REGION, place))
                name = f"{rng.choice(words.FOREIGN_BRANDS)}{word}（{where}）有限公司"
            elif ownership == "hmt":
                name = f"{brand}{word}（{rng.choice((words.REGION, place))}）有限公司"
            elif ownership == "joint-stock":
                name = f"{rng.choice((words.REGION, place))}{brand}{word}股份有限公司"
            elif ownership == "public-institution":
                pattern, industry = rng.choice(words.INSTITUTIONS)
                name = pattern.format(place=place, sub=sub, n=rng.randint(1, 60))
            elif ownership == "social-org":
                pattern, industry = rng.choice(words.SOCIAL_ORGS)
                name = pattern.format(place=place, sub=sub, brand=brand)
            elif ownership == "individual":
                shop, industry = rng.choice(words.SHOPS)
                surname = rng.choice(words.SURNAMES)[0]
                name = f"{words.DISTRICT_NAME}{place}{surname}记{shop}"
            else:
                name = f"{rng.choice((words.REGION, place))}{brand}{word}有限公司"
            if attempt >= 20:  # a crowded name: a branch of it
                if name.endswith("有限公司"):
                    name = f"{name}{place}{sub}分公司"
                else:
                    name = f"{name}（{sub}分部）"
            if name not in taken:
                taken.add(name)
                return name, industry
        raise GeneratorError("单位名称重复过多，无法生成")

    # --- cadres ----------------------------------------------------------------------

    def _cadres(self) -> None:
        rng, add = self.rng("cadres"), self.writer.add
        self._choose_bench_workstation()
        self.district_cadres: list[int] = []
        self.reviewers: list[int] = []
        bench_ws = self.workstations[self.bench_ws]
        bench_street = bench_ws.street

        def cadre(role, title, *, account=None, district=None, street=None, ws=None, phone=""):
            name, stem, _male = person(rng)
            login = account or self._username(stem)
            user_id = self.t_user.take_id()
            staff = role == "cadre"
            joined = self.window_start - rng.randrange(30, 900) * DAY
            add(
                self.t_user,
                (user_id, self.password_hash, None, False, login, "", "", "", staff, True,
                 self.stamp(joined), name),
            )  # fmt: skip
            group = self.group_ids[CADRE_GROUP if staff else REVIEWER_GROUP]
            add(self.t_user_group, (self.t_user_group.take_id(), user_id, group))
            add(
                self.t_post,
                (self.t_post.take_id(), user_id, role, district, street, ws, title, phone, True),
            )
            if account:
                self.accounts[account] = name
            return user_id

        for i, title in enumerate(words.DISTRICT_TITLES):
            self.district_cadres.append(
                cadre("cadre", title, account="bench-district" if i == 0 else None,
                      district=self.district_id, phone=f"025-577123{i:02d}")
            )  # fmt: skip
        for i, title in enumerate(words.REVIEWER_TITLES + words.REVIEWER_TITLES[-1:]):
            self.reviewers.append(
                cadre("reviewer", title, account="bench-reviewer" if i == 0 else None,
                      district=self.district_id, phone=f"025-577124{i:02d}")
            )  # fmt: skip
        for si, street in enumerate(self.streets):
            for k, title in enumerate(words.STREET_TITLES[street.kind]):
                account = "bench-street" if si == bench_street and k == 0 else None
                street.cadres.append(
                    cadre("cadre", title, account=account, street=street.id,
                          phone=f"025-577{si + 1:02d}0{k:02d}")
                )  # fmt: skip
        for wsi, ws in enumerate(self.workstations):
            titles = words.WORKSTATION_TITLES[: 3 if rng.random() < 0.3 else 2]
            for k, title in enumerate(titles):
                account = "bench-cadre" if wsi == self.bench_ws and k == 0 else None
                ws.cadres.append(
                    cadre("cadre", title, account=account, ws=ws.id,
                          phone=f"025-577{ws.street + 1:02d}{wsi % 1000:03d}")
                )  # fmt: skip

    def _username(self, stem: str) -> str:
        login, n = stem, 1
        while login in self.usernames:
            n += 1
            login = f"{stem}{n}"
        self.usernames.add(login)
        return login

    def _choose_bench_workstation(self) -> None:
        """Members per unit are fixed here; the bench workstation has a middling load."""
        unlisted = self.sizes.members * 3 // 100
        weights = [h**0.85 for h in self.unit_headcounts]
        self.unit_members = allocate(self.sizes.members - unlisted, weights)
        load = [0.0] * len(self.workstations)
        for ui, count in enumerate(self.unit_members):
            load[self.unit_ws[ui]] += count
        self.ws_members = load
        order = sorted(range(len(load)), key=lambda i: (load[i] * self.workstations[i].activity, i))
        self.bench_ws = order[len(order) // 2]
        # bench-worker and bench-poster work at the bench workstation's biggest employer.
        units_here = [u for u in range(len(self.unit_ids)) if self.unit_ws[u] == self.bench_ws]
        self.bench_unit = max(units_here, key=lambda u: (self.unit_members[u], -u))
        if self.unit_members[self.bench_unit] < 2:
            donor = max(range(len(self.unit_members)), key=lambda u: self.unit_members[u])
            moved = 2 - self.unit_members[self.bench_unit]
            self.unit_members[donor] -= moved
            self.unit_members[self.bench_unit] += moved
        self.unlisted = unlisted

    # --- workers ---------------------------------------------------------------------

    def _members(self) -> None:
        rng, s, add, cal, stamp = (
            self.rng("members"),
            self.sizes,
            self.writer.add,
            self.cal,
            self.stamp,
        )
        now = self.now
        total = s.members
        # Registration moments: a third before the two-year window, the rest within it,
        # more of them lately; ids follow registration order.
        oldest = now - MEMBER_HISTORY_DAYS * DAY
        created = []
        for _ in range(total):
            if rng.random() < 0.35:
                created.append(oldest + int((self.window_start - oldest) * rng.random()))
            else:
                created.append(self.window_start + int(WINDOW_DAYS * DAY * recency(rng, 0.8)))
        created.sort()
        # Who works where: one slot per worker, shuffled over the registration order.
        slots = array("l")
        for ui, count in enumerate(self.unit_members):
            slots.extend([ui] * count)
        slots.extend([-1] * self.unlisted)
        slots = list(slots)
        rng.shuffle(slots)
        for position in (0, 1):  # bench-worker and bench-poster registered first
            other = slots.index(self.bench_unit, position)
            slots[position], slots[other] = slots[other], slots[position]
        ws_picker = Picker(range(len(self.workstations)), [max(w, 0.5) for w in self.ws_members])

        mobiles = Scramble(10**8, rng)
        ids = Scramble(15_000 * 500, rng)
        prefixes = words.MOBILE_PREFIXES
        self.member_base = self.t_member.next_id
        self.user_base = self.t_user.next_id
        self.m_unit = array("l")
        self.m_ws = array("l")
        self.m_created = array("q")
        self.unlisted_names: dict[int, str] = {}
        statement = seeding.APPLICATION_STATEMENT
        birth_first = self.today - dt.timedelta(days=18 * 365 + 15_000)
        for i in range(total):
            t = created[i]
            ui = slots[i]
            member_id = self.t_member.take_id()
            user_id = self.t_user.take_id()
            if ui >= 0:
                wsi, unit_id, unit_name = self.unit_ws[ui], self.unit_ids[ui], self.unit_names[ui]
            else:
                wsi, unit_id = ws_picker.pick(rng), None
                street = self.streets[self.workstations[wsi].street]
                industry = rng.choice(list(words.INDUSTRIES))
                unit_name = (
                    f"{street.name[:2]}{rng.choice(words.BRANDS)}"
                    f"{rng.choice(words.INDUSTRIES[industry])}工作室"
                )
                self.unlisted_names[i] = unit_name
            self.m_unit.append(ui)
            self.m_ws.append(wsi)
            self.m_created.append(t)
            name, _stem, male = person(rng)
            k = i // len(prefixes)
            mobile = f"{prefixes[i % len(prefixes)]}{mobiles(k):08d}"
            if i == 0 or i == 1:
                login = ACCOUNTS[i]
                self.accounts[login] = name
            else:
                login = mobile
            id_number = ""
            if rng.random() < 0.65 or i < 2:
                code = ids(i)
                birth = birth_first + dt.timedelta(days=code % 15_000)
                sequence = (code // 15_000) * 2 + (1 if male else 0)
                first17 = f"{rng.choice(words.ID_REGIONS)}{birth:%Y%m%d}{sequence:03d}"
                id_number = first17 + id_check_digit(first17)
            # Membership: most are members; some applied lately, some were turned down.
            status, number, joined, updated = "non_member", None, None, t
            roll = rng.random() if i >= 2 else 0.0
            application = None
            if roll < 0.80:
                applied = t + rng.randrange(HOUR, 30 * DAY)
                decided = self._work_moment(rng, applied + DAY + rng.randrange(9 * DAY))
                if decided < now - HOUR:
                    status, number = "member", f"{self.district_code}{member_id:08d}"
                    joined = cal.date_text[cal.day(decided)]
                    application = ("approved", "", applied, decided)
                    updated = decided
                else:
                    roll = 0.81  # still waiting
            if 0.80 <= roll < 0.84:
                applied = max(t + HOUR, now - rng.randrange(HOUR, 30 * DAY))
                if applied < now - MINUTE:
                    status = "pending"
                    application = ("pending", "", applied, None)
                    updated = applied
            elif 0.84 <= roll < 0.87:
                applied = t + rng.randrange(HOUR, 30 * DAY)
                decided = self._work_moment(rng, applied + DAY + rng.randrange(9 * DAY))
                if decided < now - HOUR:
                    application = ("rejected", rng.choice(APPLICATION_REJECTIONS), applied, decided)
                    updated = decided
            add(
                self.t_user,
                (user_id, self.password_hash, None, False, login, "", "", "", False, True,
                 stamp(t), name),
            )  # fmt: skip
            add(
                self.t_member,
                (member_id, user_id, mobile, id_number, self.workstations[wsi].id, unit_id,
                 unit_name, status, number, joined, stamp(t), stamp(updated)),
            )  # fmt: skip
            hired = cal.day(t) - rng.randrange(0, 8 * 365)
            hired_on = (cal.first + dt.timedelta(days=hired)).isoformat()
            add(
                self.t_employment,
                (self.t_employment.take_id(), member_id, unit_id, unit_name,
                 self.workstations[wsi].id, hired_on, None, None),
            )  # fmt: skip
            if application is not None:
                state, reason, applied, decided = application
                decider = rng.choice(self.workstations[wsi].cadres) if decided else None
                add(
                    self.t_application,
                    (self.t_application.take_id(), member_id, statement, state, reason,
                     stamp(applied), stamp(decided), decider),
                )  # fmt: skip
            if i >= 2:
                pool = self.workstations[wsi]
                pool.pool.append(i)
                pool.pool_created.append(t)
        self.bench_worker, self.bench_poster = 0, 1

    def _work_moment(self, rng: random.Random, t: int) -> int:
        """The first working-hours moment at or after ``t`` (a cadre deciding something)."""
        cal = self.cal
        rank = cal.workday_rank_from(t, 16 * HOUR)
        day = cal.workday_at(rank)
        moment = cal.midnight[day] + WORK_START_S + rng.randrange(8 * HOUR)
        moment = max(moment, t + 5 * MINUTE)
        return moment + (moment % 60 == 0)

    # --- finishing -------------------------------------------------------------------

    def _vacuum(self) -> None:
        """On PostgreSQL, mark the freshly written pages all-visible, as autovacuum would
        soon after a real district's writes: counts over an index can then skip the table.
        VACUUM cannot run inside a transaction (a caller's, such as a test's): then skipped."""
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return
        with connection.cursor() as cursor:
            for table in self.writer.tables:
                if table.written:
                    cursor.execute(f'VACUUM (ANALYZE) "{table.name}"')

    def _finish(self) -> None:
        self.writer.finish()
        with connection.cursor() as cursor:
            # Supports moved by merges arrive after their need's row was written.
            need, support = Need._meta.db_table, Support._meta.db_table
            cursor.execute(
                f'UPDATE "{need}" SET support_count = (SELECT COUNT(*) FROM "{support}" '
                f'WHERE "{support}".need_id = "{need}".id) '
                f'WHERE id IN (SELECT need_id FROM "{support}")'
            )
        # The named staff accounts get their staff flag and groups the way load_demo's do.
        for user in get_user_model().objects.filter(
            username__in=["bench-cadre", "bench-street", "bench-district", "bench-reviewer"]
        ):
            cadre_grant_access(user)
        self.writer.analyze()
