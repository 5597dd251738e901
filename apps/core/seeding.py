"""Loading the seed files under seeds/: reference data and the demo district.

Everything is read from CSV files (UTF-8, header row) and loaded idempotently by
natural key (codes, names, mobiles, usernames), inside one transaction: a bad
line stops the load with a ``SeedError`` naming the file and line, and nothing
is half-loaded.

Two registries make the load extensible without new parsing code:

* ``register_reference(TableSpec(...))`` — one more reference file (service
  areas, channels, …): the file plus a spec of its columns and natural key.
* ``demo_step(order=...)`` / ``demo_table(spec, order=...)`` — one more step of
  the demo load (needs, projects, …), run in ``order`` after the built-in steps
  below (10–60) and before the demo accounts (900).

An app registers them in its own ``seeding`` module (``apps/<app>/seeding.py``),
which ``discover()`` imports before every load. For example::

    # apps/needs/seeding.py
    from apps.core.seeding import Column, TableSpec, demo_step, integer, register_reference

    register_reference(TableSpec("reference/service_areas.csv", ServiceArea, key=("code",),
                                 columns=(Column("code"), Column("name"), Column("order", integer))))

    @demo_step(order=100)
    def needs(ctx): ...
"""

from __future__ import annotations

import csv
import datetime as dt
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from auditlog.context import disable_auditlog
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from apps.members import services as member_services
from apps.members.models import Member, MembershipApplication
from apps.members.validators import mobile_validator
from apps.workstations.models import (
    CadreAssignment,
    District,
    OwnershipType,
    Street,
    Unit,
    Workstation,
)
from apps.workstations.roles import ensure_role_groups
from apps.workstations.services import cadre_grant_access

DEMO_PASSWORD = "demo12345"
DEBUG_REQUIRED = (
    "演示数据只能在开发环境中加载：演示账号 worker / cadre / reviewer / admin 的密码是公开的 "
    "demo12345，DEBUG 关闭时拒绝创建。请使用 config.settings.local 或设置 DEBUG=true。"
    "（load_demo refuses to run when DEBUG is off.）"
)


# --- errors ----------------------------------------------------------------------------


def _display(path: Path) -> str:
    """The path relative to the working directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class SeedError(CommandError):
    """A seed file that cannot be loaded; the message names the file and the line."""

    def __init__(self, path: Path, line: int, message: str):
        self.path, self.line = path, line
        where = f"{_display(path)}:{line}" if line else _display(path)
        super().__init__(f"{where}: {message}")


def _describe(error: ValidationError) -> str:
    """A ValidationError as one line of text."""
    if hasattr(error, "error_dict"):
        return "；".join(
            f"{name}：{'，'.join(messages)}" if name != "__all__" else "，".join(messages)
            for name, messages in error.message_dict.items()
        )
    return "；".join(error.messages)


# --- value parsers: str -> value, raising ValueError with a Chinese message ------------


def text(value: str) -> str:
    """Any text, as written."""
    return value


def integer(value: str) -> int:
    """A whole number."""
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"“{value}”不是整数") from None


_TRUE = {"是", "true", "yes", "y", "1"}
_FALSE = {"否", "false", "no", "n", "0"}


def boolean(value: str) -> bool:
    """是/否 (or true/false, yes/no, 1/0)."""
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ValueError(f"“{value}”应为“是”或“否”")


def day(value: str) -> date:
    """A date: 2025-03-14, or ``today`` / ``today-N`` (N days before the load day)."""
    today = timezone.localdate()
    if value == "today":
        return today
    if value.startswith("today-"):
        try:
            return today - timedelta(days=int(value.removeprefix("today-")))
        except ValueError:
            pass
    else:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"“{value}”不是日期（应为 2025-03-14 或 today-30 这样的写法）")


def mobile(value: str) -> str:
    """An 11-digit mainland mobile number."""
    try:
        mobile_validator(value)
    except ValidationError as error:
        raise ValueError(f"“{value}”：{_describe(error)}") from None
    return value


def username(value: str) -> str:
    """A login name valid for the user model."""
    try:
        get_user_model().username_validator(value)
    except ValidationError as error:
        raise ValueError(f"“{value}”：{_describe(error)}") from None
    return value


def choice(choices: type[models.Choices]) -> Callable[[str], Any]:
    """One of a Choices' values (or its Chinese label)."""
    by_label = {str(label): value for value, label in choices.choices}

    def parse(value: str):
        if value in choices.values:
            return value
        if value in by_label:
            return by_label[value]
        raise ValueError(f"“{value}”不是有效的取值（可选：{'、'.join(choices.values)}）")

    return parse


def ref(model: type[models.Model], field_name: str = "code") -> Callable[[str], models.Model]:
    """The row of ``model`` whose ``field_name`` equals the value (already loaded)."""

    def parse(value: str):
        try:
            return model._default_manager.get(**{field_name: value})
        except model.DoesNotExist:
            field_label = model._meta.get_field(field_name).verbose_name
            raise ValueError(
                f"找不到{field_label}为“{value}”的{model._meta.verbose_name}"
            ) from None

    return parse


# --- reading files ---------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One CSV column: its header, how to parse it, and the model field it fills."""

    name: str
    parse: Callable[[str], Any] = text
    required: bool = True  # a value must be given on every line
    default: Any = ""  # the value of an empty optional cell
    field: str = ""  # the model field, when it differs from the header

    @property
    def field_name(self) -> str:
        return self.field or self.name


@dataclass
class Row:
    """One parsed line of a seed file."""

    path: Path
    line: int
    values: dict[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def error(self, message: str) -> SeedError:
        return SeedError(self.path, self.line, message)


def read_rows(path: Path, columns: Iterable[Column]) -> list[Row]:
    """Parse every line of a CSV file; the header must name exactly ``columns``."""
    columns = list(columns)
    if not path.is_file():
        raise SeedError(path, 0, "文件不存在")
    rows = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = [cell.strip() for cell in next(reader)]
        except StopIteration:
            raise SeedError(path, 1, "文件为空，缺少表头行") from None
        except (csv.Error, UnicodeDecodeError) as error:
            raise SeedError(path, 1, f"无法读取（应为 UTF-8 编码的 CSV）：{error}") from None
        names = {column.name for column in columns}
        missing = [column.name for column in columns if column.name not in header]
        if missing:
            raise SeedError(path, 1, f"表头缺少列：{'、'.join(missing)}")
        unknown = [name for name in header if name not in names]
        if unknown or len(set(header)) != len(header):
            raise SeedError(path, 1, f"表头有未知或重复的列：{'、'.join(unknown) or header}")
        line = reader.line_num
        while True:
            start = line + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            except (csv.Error, UnicodeDecodeError) as error:
                raise SeedError(path, start, f"无法读取：{error}") from None
            line = reader.line_num
            if not cells or not any(cell.strip() for cell in cells):
                continue  # blank line
            if len(cells) != len(header):
                raise SeedError(path, start, f"应有 {len(header)} 个字段，实际有 {len(cells)} 个")
            raw = dict(zip(header, (cell.strip() for cell in cells), strict=True))
            values = {}
            for column in columns:
                cell = raw[column.name]
                if cell == "":
                    if column.required:
                        raise SeedError(path, start, f"“{column.name}”不能为空")
                    values[column.name] = column.default
                    continue
                try:
                    values[column.name] = column.parse(cell)
                except ValueError as error:
                    raise SeedError(path, start, f"{column.name}：{error}") from None
            rows.append(Row(path, start, values))
    return rows


# --- the load context and its tally ----------------------------------------------------


@dataclass
class DemoAccount:
    """A demo login, for the table printed after the load."""

    username: str
    name: str
    role: str
    can_zh: str
    can_en: str


@dataclass
class SeedContext:
    """What a step needs: where the files are, and where to report what it did."""

    seeds_dir: Path
    now: datetime = field(default_factory=timezone.now)
    tally: dict[str, dict[str, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    accounts: list[DemoAccount] = field(default_factory=list)

    def path(self, file: str) -> Path:
        return self.seeds_dir / file

    def read(self, file: str, columns: Iterable[Column]) -> list[Row]:
        return read_rows(self.path(file), columns)

    def count(self, label: str, outcome: str) -> None:
        """Record one row as ``created``, ``updated`` or ``unchanged``."""
        counts = self.tally.setdefault(label, {"created": 0, "updated": 0, "unchanged": 0})
        counts[outcome] += 1

    @property
    def changed(self) -> bool:
        return any(c["created"] or c["updated"] for c in self.tally.values())


# --- generic tables --------------------------------------------------------------------


@dataclass(frozen=True)
class TableSpec:
    """A seed file whose lines map one-to-one onto rows of ``model``."""

    file: str  # relative to the seeds directory, e.g. "reference/ownership_types.csv"
    model: type[models.Model]
    key: tuple[str, ...]  # the natural key: column names
    columns: tuple[Column, ...]
    label: str = ""  # for the summary; defaults to the model's plural name

    @property
    def title(self) -> str:
        return self.label or str(self.model._meta.verbose_name_plural)


def _field_value(obj: models.Model, field: models.Field):
    return getattr(obj, field.attname)


def _as_field_value(field: models.Field, value):
    if field.is_relation:
        return value.pk if value is not None else None
    return value


def upsert_table(ctx: SeedContext, spec: TableSpec) -> None:
    """Create or update one row per line, by natural key; unchanged rows are not written."""
    model, opts = spec.model, spec.model._meta
    by_name = {column.name: column for column in spec.columns}
    seen: dict[tuple, int] = {}
    for row in ctx.read(spec.file, spec.columns):
        key_values = tuple(row[name] for name in spec.key)
        if key_values in seen:
            raise row.error(f"与第 {seen[key_values]} 行重复：{'、'.join(map(str, key_values))}")
        seen[key_values] = row.line
        lookup = {by_name[name].field_name: row[name] for name in spec.key}
        obj = model._default_manager.filter(**lookup).first()
        outcome = "unchanged" if obj is not None else "created"
        if obj is None:
            obj = model(**lookup)
        for column in spec.columns:
            model_field = opts.get_field(column.field_name)
            wanted = _as_field_value(model_field, row[column.name])
            if outcome != "created" and _field_value(obj, model_field) != wanted:
                outcome = "updated"
            setattr(obj, model_field.attname, wanted)
        if outcome != "unchanged":
            try:
                obj.full_clean()
                obj.save()
            except ValidationError as error:
                raise row.error(_describe(error)) from None
            except IntegrityError as error:
                raise row.error(f"与已有数据冲突：{error}") from None
        ctx.count(spec.title, outcome)


class HistoryClock:
    """Moments of one demo record's history, strictly increasing and never in the future.

    Used by the demo steps that replay needs and projects through their services.
    """

    def __init__(self, now: dt.datetime, spread: int):
        self.now, self.spread, self.last = now, spread, None

    def on(self, when: dt.date, start: dt.time, window: int, *, bits: int = 0) -> dt.datetime:
        """A moment on ``when`` within ``window`` minutes after ``start``."""
        minutes = (self.spread >> bits) % max(window, 1)
        moment = timezone.make_aware(dt.datetime.combine(when, start)) + dt.timedelta(
            minutes=minutes
        )
        return self.take(moment)

    def after(self, minutes: int) -> dt.datetime:
        return self.take(self.last + dt.timedelta(minutes=minutes))

    def take(self, moment: dt.datetime) -> dt.datetime:
        if self.last is not None and moment <= self.last:
            moment = self.last + dt.timedelta(minutes=7)
        if moment >= self.now:
            # Squeeze what would lie in the future between the last moment and now.
            base = self.last or self.now - dt.timedelta(hours=1)
            moment = base + (self.now - base) / 3
        self.last = moment
        return moment


# --- registries ------------------------------------------------------------------------

_REFERENCE_TABLES: dict[str, TableSpec] = {}


def register_reference(spec: TableSpec) -> TableSpec:
    """Add a reference file to ``load_reference`` (idempotent: keyed by file)."""
    _REFERENCE_TABLES[spec.file] = spec
    return spec


def reference_tables() -> list[TableSpec]:
    return list(_REFERENCE_TABLES.values())


@dataclass(frozen=True)
class Step:
    """One step of the demo load."""

    name: str
    run: Callable[[SeedContext], None]
    order: int


_DEMO_STEPS: dict[str, Step] = {}


def demo_step(order: int, name: str = ""):
    """Decorator: run ``func(ctx)`` as a demo step, sorted by ``order`` then name."""

    def register(func: Callable[[SeedContext], None]):
        step_name = name or f"{func.__module__}.{func.__qualname__}"
        _DEMO_STEPS[step_name] = Step(step_name, func, order)
        return func

    return register


def demo_table(spec: TableSpec, order: int) -> TableSpec:
    """Register a demo step that loads one ``TableSpec``."""
    _DEMO_STEPS[spec.file] = Step(spec.file, lambda ctx: upsert_table(ctx, spec), order)
    return spec


def demo_steps() -> list[Step]:
    return sorted(_DEMO_STEPS.values(), key=lambda step: (step.order, step.name))


def discover() -> None:
    """Import every installed app's ``seeding`` module so its registrations run."""
    autodiscover_modules("seeding")


# --- reference data --------------------------------------------------------------------

register_reference(
    TableSpec(
        "reference/ownership_types.csv",
        OwnershipType,
        key=("code",),
        columns=(Column("code"), Column("name"), Column("order", integer)),
    )
)


def load_reference(ctx: SeedContext) -> None:
    """Load every reference table, then the role groups and their permissions."""
    for spec in reference_tables():
        upsert_table(ctx, spec)
    ensure_role_groups()


# --- the demo district: organisation ----------------------------------------------------

demo_table(
    TableSpec(
        "demo/districts.csv",
        District,
        key=("code",),
        columns=(
            Column("code"),
            Column("name"),
            Column("union_name"),
            Column("address", required=False),
            Column("phone", required=False),
        ),
    ),
    order=10,
)
demo_table(
    TableSpec(
        "demo/streets.csv",
        Street,
        key=("code",),
        columns=(
            Column("code"),
            Column("district", ref(District)),
            Column("name"),
            Column("kind", choice(Street.Kind)),
            Column("order", integer),
        ),
    ),
    order=20,
)
demo_table(
    TableSpec(
        "demo/workstations.csv",
        Workstation,
        key=("code",),
        columns=(
            Column("code"),
            Column("street", ref(Street)),
            Column("name"),
            Column("address"),
            Column("hours"),
            Column("phone", required=False),
            Column("grid_area", required=False),
        ),
    ),
    order=30,
)
demo_table(
    TableSpec(
        "demo/units.csv",
        Unit,
        key=("name",),
        columns=(
            Column("name"),
            Column("workstation", ref(Workstation)),
            Column("credit_code", required=False),
            Column("ownership", ref(OwnershipType)),
            Column("industry"),
            Column("headcount", integer),
            Column("has_union", boolean),
            Column("union_name", required=False),
            Column("address", required=False),
        ),
    ),
    order=40,
)


# --- the demo district: people ----------------------------------------------------------


def _ensure_user(ctx: SeedContext, login: str, name: str):
    """The account ``login`` with display name ``name``; new ones cannot log in."""
    user_model = get_user_model()
    user = user_model.objects.filter(username=login).first()
    if user is None:
        user = user_model(username=login, name=name)
        user.set_unusable_password()
        user.save()
        ctx.count("干部账号", "created")
    elif user.name != name:
        user.name = name
        user.save(update_fields=["name"])
        ctx.count("干部账号", "updated")
    else:
        ctx.count("干部账号", "unchanged")
    return user


CADRE_COLUMNS = (
    Column("username", username),
    Column("name"),
    Column("role", choice(CadreAssignment.Role)),
    Column("district", ref(District), required=False, default=None),
    Column("street", ref(Street), required=False, default=None),
    Column("workstation", ref(Workstation), required=False, default=None),
    Column("title"),
    Column("office_phone", required=False),
)
NODES = ("district", "street", "workstation")


@demo_step(order=50, name="cadres")
def load_cadres(ctx: SeedContext) -> None:
    """Cadres and reviewers: an account, one post per line, then staff flag and groups."""
    names: dict[str, tuple[str, int]] = {}
    posts: dict[tuple, int] = {}
    users = {}
    for row in ctx.read("demo/cadres.csv", CADRE_COLUMNS):
        login, nodes = row["username"], {n: row[n] for n in NODES if row[n] is not None}
        if len(nodes) != 1:
            raise row.error("district、street、workstation 三列必须且只能填写一列（任职的那一级）")
        if row["role"] == CadreAssignment.Role.REVIEWER and "district" not in nodes:
            raise row.error("考核人员只能任职于县区（填写 district 列）")
        if login in names and names[login][0] != row["name"]:
            raise row.error(f"账号“{login}”在第 {names[login][1]} 行的姓名不同")
        names.setdefault(login, (row["name"], row.line))
        key = (login, row["role"], *(getattr(row[n], "pk", None) for n in NODES))
        if key in posts:
            raise row.error(f"与第 {posts[key]} 行是同一任职")
        posts[key] = row.line

        user = users.get(login) or _ensure_user(ctx, login, row["name"])
        users[login] = user
        lookup = {"user": user, "role": row["role"], **{n: row[n] for n in NODES}}
        wanted = {"title": row["title"], "office_phone": row["office_phone"], "is_active": True}
        post = CadreAssignment.objects.filter(**lookup).first()
        if post is None:
            post, outcome = CadreAssignment(**lookup, **wanted), "created"
        elif any(getattr(post, k) != v for k, v in wanted.items()):
            outcome = "updated"
            for k, v in wanted.items():
                setattr(post, k, v)
        else:
            outcome = "unchanged"
        if outcome != "unchanged":
            try:
                post.full_clean()
            except ValidationError as error:
                raise row.error(_describe(error)) from None
            post.save()
        ctx.count("干部任职", outcome)
    for user in users.values():
        cadre_grant_access(user)


class Membership(models.TextChoices):
    """The membership history a seeded worker is given."""

    MEMBER = "member", "会员"
    PENDING = "pending", "申请中"
    REJECTED = "rejected", "申请未通过"
    NONE = "none", "未入会"


WORKER_COLUMNS = (
    Column("mobile", mobile),
    Column("name"),
    Column("username", username, required=False),
    Column("unit", ref(Unit, "name"), required=False, default=None),
    Column("unit_name", required=False),
    Column("workstation", ref(Workstation), required=False, default=None),
    Column("hired_on", day),
    Column("registered_on", day),
    Column("membership", choice(Membership)),
    Column("applied_on", day, required=False, default=None),
    Column("decided_on", day, required=False, default=None),
    Column("reason", required=False),
)
APPLICATION_STATEMENT = "本人自愿加入中华全国总工会，承认并遵守工会章程，按期缴纳会费，请予批准。"


def _check_worker(row: Row) -> tuple[Unit | None, str, Workstation]:
    """Validate one worker line; return their employer as (unit, unit_name, workstation)."""
    unit, unit_name, workstation = row["unit"], row["unit_name"], row["workstation"]
    if unit is not None:
        if unit_name and unit_name != unit.name:
            raise row.error("填写了名录中的单位（unit）时，unit_name 应留空")
        if workstation is not None and workstation.pk != unit.workstation_id:
            raise row.error(f"workstation 与单位“{unit.name}”所属工作站不一致，应留空")
        unit_name, workstation = unit.name, unit.workstation
    elif not unit_name or workstation is None:
        raise row.error("请填写名录中的单位（unit），或同时填写 unit_name 和 workstation")

    status, applied, decided = row["membership"], row["applied_on"], row["decided_on"]
    needs = {
        Membership.MEMBER: (True, True, False),
        Membership.REJECTED: (True, True, True),
        Membership.PENDING: (True, False, False),
        Membership.NONE: (False, False, False),
    }[status]
    for column, wanted in zip(("applied_on", "decided_on", "reason"), needs, strict=True):
        given = bool(row[column])
        if given != wanted:
            verb = "必须填写" if wanted else "应留空"
            raise row.error(f"membership 为 {status} 时，{column} {verb}")
    today = timezone.localdate()
    dates = [row["registered_on"], applied, decided]
    dates = [d for d in dates if d is not None]
    if row["hired_on"] > today or any(d > today for d in dates):
        raise row.error("日期不能晚于今天")
    if dates != sorted(dates):
        raise row.error("日期顺序应为 registered_on ≤ applied_on ≤ decided_on")
    return unit, unit_name, workstation


def _at(ctx: SeedContext, when: date, minutes: int) -> datetime:
    """A moment on ``when`` (minutes after midnight, local time), never in the future."""
    moment = timezone.make_aware(datetime.combine(when, time()) + timedelta(minutes=minutes))
    return min(moment, ctx.now)


class _Deciders:
    """The cadre who decides a workstation's applications: its own first, else above."""

    def __init__(self):
        self._cache: dict[int, Any] = {}

    def for_workstation(self, workstation: Workstation):
        if workstation.pk not in self._cache:
            posts = CadreAssignment.objects.active().filter(role=CadreAssignment.Role.CADRE)
            post = (
                posts.filter(workstation=workstation).order_by("id").first()
                or posts.filter(street_id=workstation.street_id).order_by("id").first()
                or posts.filter(district_id=workstation.street.district_id).order_by("id").first()
            )
            self._cache[workstation.pk] = post.user if post else None
        return self._cache[workstation.pk]


def _create_worker(ctx, row, unit, unit_name, workstation, deciders: _Deciders) -> None:
    """Register a worker through the services, then replay their membership history."""
    login = row["username"] or row["mobile"]
    spread = int(row["mobile"][-3:])  # a stable spread of times within a day
    member = member_services.member_register(
        username=login,
        name=row["name"],
        mobile=row["mobile"],
        password=None,  # unusable: only the demo accounts can log in
        unit=unit,
        unit_name=unit_name,
        workstation=workstation,
    )
    registered_at = _at(ctx, row["registered_on"], 8 * 60 + spread % 60)
    Member.objects.filter(pk=member.pk).update(created_at=registered_at)
    get_user_model().objects.filter(pk=member.user_id).update(date_joined=registered_at)
    member.employments.update(started_on=row["hired_on"])

    status = row["membership"]
    if status == Membership.NONE:
        return
    application = member_services.membership_apply(member=member, statement=APPLICATION_STATEMENT)
    times = {"submitted_at": _at(ctx, row["applied_on"], 9 * 60 + spread % 240)}
    if status != Membership.PENDING:
        by = deciders.for_workstation(workstation)
        if by is None:
            raise row.error(f"工作站“{workstation.code}”及其上级没有工会干部，无法审核入会申请")
        if status == Membership.MEMBER:
            member_services.membership_approve(application=application, by=by)
            Member.objects.filter(pk=member.pk).update(joined_on=row["decided_on"])
        else:
            member_services.membership_reject(application=application, by=by, reason=row["reason"])
        times["decided_at"] = _at(ctx, row["decided_on"], 14 * 60 + spread % 180)
    MembershipApplication.objects.filter(pk=application.pk).update(**times)


def _update_worker(member: Member, row, unit, unit_name, workstation) -> str:
    """Bring an existing worker's name and employer in line with the file."""
    outcome = "unchanged"
    if member.user.name != row["name"]:
        member.user.name = row["name"]
        member.user.save(update_fields=["name"])
        outcome = "updated"
    wanted = (unit.pk if unit else None, unit_name, workstation.pk)
    if (member.unit_id, member.unit_name, member.workstation_id) != wanted:
        if unit is not None and unit.pk == member.unit_id:
            # Same employer, renamed or moved to another grid: correct, not a job change.
            member.unit_name, member.workstation = unit_name, workstation
            member.save(update_fields=["unit_name", "workstation", "updated_at"])
            member.employments.filter(ended_on__isnull=True).update(
                unit_name=unit_name, workstation=workstation
            )
        else:
            member_services.member_change_unit(
                member=member, unit=unit, unit_name=unit_name, workstation=workstation, by=None
            )
        outcome = "updated"
    return outcome


_EXPECTED_STATUS = {
    Membership.MEMBER: Member.Status.MEMBER,
    Membership.PENDING: Member.Status.PENDING,
    Membership.REJECTED: Member.Status.NON_MEMBER,
    Membership.NONE: Member.Status.NON_MEMBER,
}


@demo_step(order=60, name="workers")
def load_workers(ctx: SeedContext) -> None:
    """Workers by mobile; a new worker's membership history is replayed through the services.

    An existing worker keeps their applications and status (a demo user may have
    decided them since); only their name and employer follow the file.
    """
    existing = {m.mobile: m for m in Member.objects.select_related("user")}
    deciders = _Deciders()
    seen: dict[str, int] = {}
    drifted = 0
    for row in ctx.read("demo/workers.csv", WORKER_COLUMNS):
        if row["mobile"] in seen:
            raise row.error(f"手机号码与第 {seen[row['mobile']]} 行重复")
        seen[row["mobile"]] = row.line
        unit, unit_name, workstation = _check_worker(row)
        member = existing.get(row["mobile"])
        try:
            if member is None:
                _create_worker(ctx, row, unit, unit_name, workstation, deciders)
                outcome = "created"
            else:
                outcome = _update_worker(member, row, unit, unit_name, workstation)
                drifted += member.status != _EXPECTED_STATUS[row["membership"]]
        except (ValidationError, PermissionDenied) as error:
            message = _describe(error) if isinstance(error, ValidationError) else str(error)
            raise row.error(message) from None
        except IntegrityError as error:
            raise row.error(f"与已有数据冲突（账号或手机号码已被使用？）：{error}") from None
        ctx.count("职工", outcome)

    members = Member.objects.filter(mobile__in=seen)
    by_status = dict(members.order_by().values_list("status").annotate(n=models.Count("id")))
    rejected = (
        MembershipApplication.objects.filter(
            member__mobile__in=seen, status=MembershipApplication.Status.REJECTED
        )
        .values("member")
        .distinct()
        .count()
    )
    ctx.notes.append(
        f"职工 {len(seen)} 人：会员 {by_status.get(Member.Status.MEMBER, 0)}，"
        f"入会申请审核中 {by_status.get(Member.Status.PENDING, 0)}，"
        f"未入会 {by_status.get(Member.Status.NON_MEMBER, 0)}（其中入会申请未通过 {rejected}）"
    )
    if drifted:
        ctx.notes.append(
            f"{drifted} 名职工的会员状态与 workers.csv 不同，已保留数据库中的现有记录。"
        )


# --- the demo accounts ------------------------------------------------------------------


class AccountRole(models.TextChoices):
    WORKER = "worker", "职工"
    CADRE = "cadre", "工会干部"
    REVIEWER = "reviewer", "考核人员"
    SUPERUSER = "superuser", "超级管理员"


ACCOUNT_COLUMNS = (
    Column("username", username),
    Column("role", choice(AccountRole)),
    Column("name", required=False),  # only for the superuser; the others come from their files
    Column("can_zh"),
    Column("can_en"),
)


def _check_account(row: Row, user) -> None:
    role = row["role"]
    if role == AccountRole.WORKER:
        ok = Member.objects.filter(user=user).exists()
    else:
        ok = CadreAssignment.objects.active().filter(user=user, role=role).exists()
    if not ok:
        raise row.error(f"账号“{user.username}”不是{AccountRole(role).label}")


@demo_step(order=900, name="accounts")
def load_accounts(ctx: SeedContext) -> None:
    """The demo logins: password demo12345 (only set when it differs); admin is created."""
    if not settings.DEBUG:
        raise CommandError(DEBUG_REQUIRED)
    user_model = get_user_model()
    for row in ctx.read("demo/accounts.csv", ACCOUNT_COLUMNS):
        login, role = row["username"], row["role"]
        user = user_model.objects.filter(username=login).first()
        changed = []
        if role == AccountRole.SUPERUSER:
            if not row["name"]:
                raise row.error("超级管理员需要填写 name")
            if user is None:
                user = user_model(username=login)
            for attr, value in (("name", row["name"]), ("is_staff", True), ("is_superuser", True)):
                if getattr(user, attr) != value:
                    setattr(user, attr, value)
                    changed.append(attr)
        elif user is None:
            raise row.error(f"账号“{login}”不存在：请先在 workers.csv 或 cadres.csv 中登记")
        else:
            _check_account(row, user)
        if not user.is_active:
            user.is_active = True
            changed.append("is_active")
        if not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            changed.append("password")
        outcome = "created" if user.pk is None else "updated" if changed else "unchanged"
        if changed:
            user.save()
        ctx.count("演示账号", outcome)
        ctx.accounts.append(
            DemoAccount(login, user.name, AccountRole(role).label, row["can_zh"], row["can_en"])
        )


# --- running a load ---------------------------------------------------------------------


def seeds_dir(path: str | Path | None = None) -> Path:
    """The seeds directory: the given path, settings.SEEDS_DIR, or <project>/seeds."""
    resolved = Path(path or getattr(settings, "SEEDS_DIR", settings.BASE_DIR / "seeds"))
    if not resolved.is_dir():
        raise CommandError(f"找不到种子数据目录：{resolved}")
    return resolved


def run_reference(path: str | Path | None = None) -> SeedContext:
    """Load the reference data in one transaction."""
    discover()
    ctx = SeedContext(seeds_dir(path))
    with transaction.atomic():
        load_reference(ctx)
    return ctx


def run_demo(path: str | Path | None = None) -> SeedContext:
    """Load the reference data, then every demo step, in one transaction (DEBUG only)."""
    if not settings.DEBUG:
        raise CommandError(DEBUG_REQUIRED)
    discover()
    ctx = SeedContext(seeds_dir(path))
    # The demo district is made up, not edits by anyone: it stays out of the audit history.
    with transaction.atomic(), disable_auditlog():
        load_reference(ctx)
        for step in demo_steps():
            step.run(ctx)
    return ctx


# --- printing ---------------------------------------------------------------------------


def _width(value: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in value)


def render_table(headers: list[str], rows: list[list[Any]]) -> str:
    """A plain-text table whose columns line up with Chinese (double-width) text."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(headers))]

    def line(row):
        padded = (c + " " * (w - _width(c)) for c, w in zip(row, widths, strict=True))
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def render_tally(ctx: SeedContext) -> str:
    """What the load did, per kind of data: created / updated / unchanged."""
    rows = [[label, c["created"], c["updated"], c["unchanged"]] for label, c in ctx.tally.items()]
    return render_table(["数据", "新增", "更新", "未变"], rows)


def render_accounts(ctx: SeedContext) -> str:
    """The demo accounts and what each can do, in Chinese with a short English line."""
    rows = []
    for a in ctx.accounts:
        rows.append([a.username, DEMO_PASSWORD, a.name, a.role, a.can_zh])
        rows.append(["", "", "", "", a.can_en])
    return render_table(["账号", "密码", "姓名", "角色", "可以做什么 / What they can do"], rows)
