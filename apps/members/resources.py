"""Import and export of workers (CSV/XLSX), limited to the cadre's jurisdiction.

Export: one row per worker, the mobile masked — exported files circulate.
Import: workers a cadre collected offline (e.g. an employer's roster). A new
mobile registers the worker (account without a password, to be claimed later);
a known mobile inside the jurisdiction updates the name and, when it changed,
the employer (keeping the employment history). All-or-nothing, see
``apps.workstations.resources.ScopedModelResource``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.utils import timezone
from import_export.fields import Field

from apps.core.privacy import mask_mobile
from apps.workstations.models import Unit, Workstation
from apps.workstations.resources import (
    RowErrors,
    ScopedModelResource,
    TextWidget,
    WorkstationCodeWidget,
    cell_text,
)

from . import services
from .models import Member
from .validators import mobile_validator


@dataclass
class _Employer:
    """What one import row asks for, resolved and validated."""

    name: str
    unit: Unit | None
    unit_name: str
    workstation: Workstation
    renamed: bool = False
    moved: bool = False


class MemberResource(ScopedModelResource):
    NAME = "姓名"
    MOBILE = "手机号码"
    UNIT = "工作单位"
    WORKSTATION_CODE = "所属工作站编码"

    id = Field("id", "系统编号", readonly=True)
    name = Field("user__name", NAME, widget=TextWidget(required=True, max_length=50))
    mobile = Field(
        "mobile", MOBILE, widget=TextWidget(required=True, validators=[mobile_validator])
    )
    unit = Field("unit_name", UNIT, widget=TextWidget(required=True, max_length=150))
    workstation = Field("workstation__name", "所属工作站", readonly=True)
    workstation_code = Field(
        "workstation", WORKSTATION_CODE, widget=WorkstationCodeWidget(required=False)
    )
    status = Field("status", "会员状态", readonly=True)
    member_number = Field("member_number", "会员编号", readonly=True)
    joined_on = Field("joined_on", "入会日期", readonly=True)
    created_at = Field("created_at", "登记时间", readonly=True)

    EXPORT_FIELDS = (
        "id",
        "name",
        "mobile",
        "unit",
        "workstation",
        "status",
        "member_number",
        "joined_on",
        "created_at",
    )
    IMPORT_FIELDS = ("name", "mobile", "unit", "workstation_code")

    required_columns = (NAME, MOBILE, UNIT)
    unique_columns = (MOBILE,)

    class Meta:
        model = Member
        fields = (
            "id",
            "name",
            "mobile",
            "unit",
            "workstation",
            "workstation_code",
            "status",
            "member_number",
            "joined_on",
            "created_at",
        )
        import_id_fields = ["mobile"]
        report_skipped = True
        clean_model_instances = False
        use_transactions = True
        name = "职工"

    # The export and import carry different columns.
    def get_export_order(self):
        return self.EXPORT_FIELDS

    def get_import_order(self):
        return self.IMPORT_FIELDS

    # Export -----------------------------------------------------------------------------

    def dehydrate_name(self, member):
        return member.user.name

    def dehydrate_mobile(self, member):
        return mask_mobile(member.mobile)

    def dehydrate_workstation(self, member):
        return member.workstation.name

    def dehydrate_status(self, member):
        return member.get_status_display()

    def dehydrate_member_number(self, member):
        return member.member_number or ""

    def dehydrate_joined_on(self, member):
        return member.joined_on.isoformat() if member.joined_on else ""

    def dehydrate_created_at(self, member):
        return timezone.localtime(member.created_at).strftime("%Y-%m-%d %H:%M")

    # Import -----------------------------------------------------------------------------

    def get_instance(self, instance_loader, row):
        mobile = cell_text(row.get(self.MOBILE))
        if not mobile:
            return None
        return (
            Member.objects.select_related("user", "unit", "workstation__street")
            .filter(mobile=mobile)
            .first()
        )

    def _clean(self, column, widget, row, errors: RowErrors):
        if column in self._missing_columns:
            return None
        try:
            return widget.clean(row.get(column))
        except ValueError as exc:
            errors.add(column, str(exc))
            return None

    def import_instance(self, instance, row, **kwargs):
        errors = RowErrors()
        self.check_columns(row, errors, **kwargs)
        fields = self.fields
        name = self._clean(self.NAME, fields["name"].widget, row, errors)
        mobile = self._clean(self.MOBILE, fields["mobile"].widget, row, errors)
        unit_text = self._clean(self.UNIT, fields["unit"].widget, row, errors)
        code_widget = fields["workstation_code"].widget
        code_given = bool(cell_text(row.get(self.WORKSTATION_CODE)))
        workstation = self._clean(self.WORKSTATION_CODE, code_widget, row, errors)

        existing = instance.pk is not None
        if existing and not self.covers(instance.workstation):
            # Never reveal who holds the number or where.
            errors.add(self.MOBILE, "手机号码已被其他工作站登记")
        elif not existing and mobile and get_user_model().objects.filter(username=mobile).exists():
            errors.add(self.MOBILE, "手机号码已被其他账号使用")

        employer = None
        if unit_text:
            employer = self._resolve_employer(
                instance, name, unit_text, workstation, code_given, errors
            )
        errors.raise_if_any()

        if existing:
            employer.renamed = name != instance.user.name
            employer.moved = self._moves(instance, employer)
            instance.user.name = name
        else:
            # Unsaved: lets the preview show the name; the service creates the account.
            instance.user = get_user_model()(username=mobile, name=name)
            instance.mobile = mobile
        instance.unit, instance.unit_name = employer.unit, employer.unit_name
        instance.workstation = employer.workstation
        instance._import_employer = employer

    def _resolve_employer(self, instance, name, unit_text, workstation, code_given, errors):
        """A unit in the directory decides the workstation; otherwise the code does."""
        unit = Unit.objects.select_related("workstation__street").filter(name=unit_text).first()
        if unit is not None:
            if workstation is not None and workstation.pk != unit.workstation_id:
                errors.add(
                    self.WORKSTATION_CODE,
                    "与单位名录中该单位的所属工作站不一致（可留空，由单位决定）",
                )
            if not self.covers(unit.workstation):
                errors.add(self.UNIT, f"单位“{unit.name}”不在您的管辖范围内")
            return _Employer(name, unit, unit.name, unit.workstation)
        keeps_unlisted_employer = (
            instance.pk is not None
            and self.covers(instance.workstation)  # never borrow another jurisdiction's data
            and instance.unit_id is None
            and instance.unit_name == unit_text
        )
        if workstation is None and not code_given and keeps_unlisted_employer:
            # An unlisted employer the worker already has: they stay where they are.
            workstation = instance.workstation
        if workstation is None:
            if not code_given:
                errors.add(self.WORKSTATION_CODE, "单位不在名录中时必须填写所属工作站编码")
            return None
        if not self.covers(workstation):
            errors.add(self.WORKSTATION_CODE, f"工作站“{workstation.code}”不在您的管辖范围内")
        return _Employer(name, None, unit_text, workstation)

    @staticmethod
    def _moves(member, employer: _Employer) -> bool:
        if employer.unit is not None:
            return employer.unit.pk != member.unit_id
        return (
            member.unit_id is not None
            or member.unit_name != employer.unit_name
            or member.workstation_id != employer.workstation.pk
        )

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors or original is None or original.pk is None:
            return False
        employer = getattr(instance, "_import_employer", None)
        return employer is not None and not (employer.renamed or employer.moved)

    def do_instance_save(self, instance, is_create):
        employer = instance._import_employer
        if is_create:
            member = services.member_register_offline(
                name=employer.name,
                mobile=instance.mobile,
                unit=employer.unit,
                unit_name=employer.unit_name,
                workstation=employer.workstation,
            )
            _take_state(instance, member)
            instance.user = member.user
            return
        if employer.renamed:
            instance.user.save(update_fields=["name"])
        if employer.moved:
            # The service ends the stored employment, so it gets the member as stored.
            member = Member.objects.get(pk=instance.pk)
            member = services.member_change_unit(
                member=member,
                unit=employer.unit,
                unit_name=employer.unit_name,
                workstation=employer.workstation,
                by=self.user,
            )
            _take_state(instance, member)


def _take_state(instance: Member, member: Member) -> None:
    """Make the resource's row instance the saved member (for the result and admin log)."""
    for field in Member._meta.concrete_fields:
        setattr(instance, field.attname, getattr(member, field.attname))
    instance._state.adding = False
    instance._state.db = member._state.db
