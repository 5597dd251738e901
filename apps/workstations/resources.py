"""Import and export of employers (CSV/XLSX), limited to the cadre's jurisdiction.

The import is all-or-nothing: a file with any bad row is rejected as a whole,
with a per-row report of what is wrong, and nothing is saved. Column headers
and messages are Chinese because cadres prepare these files in Excel.

``ScopedModelResource`` and the widgets here are shared with
``apps.members.resources``.
"""

from __future__ import annotations

import re
from collections import defaultdict

from django.core.exceptions import BadRequest, ValidationError
from django.core.validators import RegexValidator
from import_export import resources, widgets
from import_export.fields import Field
from import_export.results import RowResult

from .jurisdiction import Jurisdiction
from .models import OwnershipType, Unit, Workstation
from .services import unit_sync_members


def cell_text(value) -> str:
    """A cell as stripped text; spreadsheets hand over numbers for digit-only cells."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


class ImportRejected(BadRequest):
    """Raised when a confirmed (non dry-run) import still has bad rows.

    The admin only offers "confirm" after a clean dry run, so this means the
    data changed in between (or the request was forged). The transaction has
    already been rolled back when it is raised; Django answers 400.
    """

    def __init__(self):
        super().__init__(
            "导入文件中有不符合要求的行，已全部撤销，未保存任何数据。请重新上传文件查看逐行错误。"
        )


class RowErrors(defaultdict):
    """Column header → list of Chinese messages, raised as one ValidationError."""

    def __init__(self):
        super().__init__(list)

    def add(self, column: str, message: str) -> None:
        self[column].append(message)

    def raise_if_any(self) -> None:
        if self:
            raise ValidationError(dict(self))


# --- Widgets: parse a cell on import (ValueError carries the Chinese reason), render on export.


class TextWidget(widgets.Widget):
    def __init__(self, required=False, max_length=None, validators=(), upper=False):
        super().__init__(coerce_to_string=True)
        self.required = required
        self.max_length = max_length
        self.validators = list(validators)
        self.upper = upper

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if self.upper:
            text = text.upper()
        if not text:
            if self.required:
                raise ValueError("不能为空")
            return ""
        if self.max_length and len(text) > self.max_length:
            raise ValueError(f"不能超过 {self.max_length} 个字")
        for validator in self.validators:
            try:
                validator(text)
            except ValidationError as exc:
                raise ValueError("；".join(exc.messages)) from exc
        return text

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class YesNoWidget(widgets.Widget):
    """是/否 (also 1/0, true/false); an empty cell means 否."""

    TRUE = {"是", "1", "true", "t", "yes", "y", "有", "√"}
    FALSE = {"否", "0", "false", "f", "no", "n", "无", "×", ""}

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            return value
        text = cell_text(value).lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(f"“{cell_text(value)}”无法识别，请填写“是”或“否”")

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return "是" if value else "否"


class CountWidget(widgets.Widget):
    """A non-negative whole number; an empty cell means 0."""

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            raise ValueError("应为不小于 0 的整数")
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        else:
            text = cell_text(value)
            if not text:
                return 0
            if not re.fullmatch(r"\d+", text):
                raise ValueError(f"“{text}”不是不小于 0 的整数")
            number = int(text)
        if number < 0:
            raise ValueError(f"“{number}”不是不小于 0 的整数")
        return number

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return value if kwargs.get("force_native_type") else str(value)


class OwnershipWidget(widgets.Widget):
    """所有制 by its Chinese name (or its code)."""

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if not text:
            raise ValueError("不能为空")
        if not hasattr(self, "_by_key"):  # reference data: read once per import
            self._by_key = {}
            for ownership in OwnershipType.objects.order_by("-order"):
                self._by_key[ownership.code.lower()] = ownership
                self._by_key[ownership.name.lower()] = ownership
        ownership = self._by_key.get(text.lower())
        if ownership is None:
            names = "、".join(OwnershipType.objects.values_list("name", flat=True))
            raise ValueError(f"未知的所有制“{text}”，可填：{names}")
        return ownership

    def render(self, value, obj=None, **kwargs):
        return value.name if value is not None else ""


class WorkstationCodeWidget(widgets.Widget):
    """网格化工会工作站 by its code."""

    def __init__(self, required=True):
        super().__init__(coerce_to_string=True)
        self.required = required

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if not text:
            if self.required:
                raise ValueError("不能为空")
            return None
        workstation = Workstation.objects.select_related("street").filter(code__iexact=text).first()
        if workstation is None:
            raise ValueError(f"工作站编码“{text}”不存在")
        return workstation

    def render(self, value, obj=None, **kwargs):
        return value.code if value is not None else ""


# --- The shared base: jurisdiction, all-or-nothing, blank rows, duplicates within the file.


class ScopedModelResource(resources.ModelResource):
    """A resource acting for one cadre (``user``), all-or-nothing on import.

    Subclasses declare ``required_columns`` (added empty when missing, so every
    row reports them) and ``unique_columns`` (a value may appear once per file).
    """

    required_columns: tuple[str, ...] = ()
    unique_columns: tuple[str, ...] = ()

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user
        self._missing_columns: set[str] = set()
        self._duplicate_of: dict[tuple[str, int], int] = {}

    @property
    def jurisdiction(self) -> Jurisdiction:
        return Jurisdiction.for_user(self.user)

    def covers(self, workstation) -> bool:
        return self.jurisdiction.covers_workstation(workstation)

    # Export: the admin already scopes the queryset; scope again in case of other callers.
    def filter_export(self, queryset, **kwargs):
        model = queryset.model
        return queryset.filter(self.jurisdiction.q_for(model))

    # Import -----------------------------------------------------------------------------

    def import_data(
        self,
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=None,
        collect_failed_rows=False,
        rollback_on_validation_errors=False,
        **kwargs,
    ):
        """Always in a transaction, rolled back when any row is invalid or failed.

        A real (non dry-run) import that still finds a bad row raises
        ``ImportRejected`` after the rollback, so the admin can never report a
        partial file as imported.
        """
        result = super().import_data(
            dataset,
            dry_run=dry_run,
            raise_errors=raise_errors,
            use_transactions=True,
            collect_failed_rows=collect_failed_rows,
            rollback_on_validation_errors=True,
            **kwargs,
        )
        if not dry_run and (result.has_errors() or result.has_validation_errors()):
            raise ImportRejected()
        return result

    def before_import(self, dataset, **kwargs):
        headers = [cell_text(header) for header in (dataset.headers or [])]
        if headers:
            dataset.headers = headers
        self._missing_columns = {col for col in self.required_columns if col not in headers}
        if dataset.height:
            for column in sorted(self._missing_columns):
                dataset.append_col([""] * dataset.height, header=column)
        self._duplicate_of = {}
        first_seen: dict[tuple[str, str], int] = {}
        for number, values in enumerate(dataset.dict, 1):
            for column in self.unique_columns:
                key = cell_text(values.get(column)).upper()
                if not key:
                    continue
                if (column, key) in first_seen:
                    self._duplicate_of[(column, number)] = first_seen[(column, key)]
                else:
                    first_seen[(column, key)] = number

    def import_row(self, row, instance_loader, **kwargs):
        # Spreadsheets often carry empty lines; they are neither data nor errors.
        if all(cell_text(value) == "" for value in row.values()):
            row_result = self.get_row_result_class()()
            row_result.import_type = RowResult.IMPORT_TYPE_SKIP
            return row_result
        return super().import_row(row, instance_loader, **kwargs)

    def check_columns(self, row, errors: RowErrors, **kwargs) -> None:
        """Missing required columns and values repeated from an earlier row."""
        for column in self.required_columns:
            if column in self._missing_columns:
                errors.add(column, "文件中没有这一列")
        number = kwargs.get("row_number")
        for column in self.unique_columns:
            earlier = self._duplicate_of.get((column, number))
            if earlier is not None:
                errors.add(column, f"与第 {earlier} 行重复，同一文件中只能出现一次")

    def import_fields_into(self, instance, row, errors: RowErrors, **kwargs) -> None:
        """Set every importable field, collecting each cell's error under its header."""
        for field in self.get_import_fields():
            if field.readonly or field.column_name in self._missing_columns:
                continue
            try:
                self.import_field(field, instance, row, **kwargs)
            except ValueError as exc:
                errors.add(field.column_name, str(exc))


class UnitResource(ScopedModelResource):
    NAME = "单位名称"
    CREDIT_CODE = "统一社会信用代码"
    WORKSTATION = "所属工作站编码"
    UNION_NAME = "基层工会名称"

    name = Field("name", NAME, widget=TextWidget(required=True, max_length=150))
    credit_code = Field(
        "credit_code",
        CREDIT_CODE,
        widget=TextWidget(
            max_length=18,
            upper=True,
            validators=[RegexValidator(r"^[0-9A-Z]{18}$", "应为 18 位数字或大写字母，没有可不填")],
        ),
    )
    ownership = Field("ownership", "所有制", widget=OwnershipWidget())
    industry = Field("industry", "行业", widget=TextWidget(required=True, max_length=50))
    headcount = Field("headcount", "职工人数", widget=CountWidget())
    has_union = Field("has_union", "已建基层工会", widget=YesNoWidget())
    union_name = Field("union_name", UNION_NAME, widget=TextWidget(max_length=150))
    address = Field("address", "地址", widget=TextWidget(max_length=200))
    workstation = Field("workstation", WORKSTATION, widget=WorkstationCodeWidget())

    required_columns = (NAME, "所有制", "行业", WORKSTATION)
    unique_columns = (NAME, CREDIT_CODE)

    class Meta:
        model = Unit
        fields = (
            "name",
            "credit_code",
            "ownership",
            "industry",
            "headcount",
            "has_union",
            "union_name",
            "address",
            "workstation",
        )
        import_id_fields = ["name"]
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = False
        use_transactions = True
        name = "单位"

    def get_instance(self, instance_loader, row):
        # Looked up across the whole district on purpose: a name registered
        # elsewhere must be refused, not re-created as a duplicate.
        name = cell_text(row.get(self.NAME))
        if not name:
            return None
        return Unit.objects.select_related("workstation__street").filter(name=name).first()

    def import_instance(self, instance, row, **kwargs):
        errors = RowErrors()
        self.check_columns(row, errors, **kwargs)
        if instance.pk and not self.covers(instance.workstation):
            # Do not reveal where, or anything else about the existing record.
            errors.add(self.NAME, "该单位名称已被其他工作站登记，不能通过导入修改")
        self.import_fields_into(instance, row, errors, **kwargs)

        workstation = instance.workstation if instance.workstation_id else None
        if self.WORKSTATION not in errors and workstation and not self.covers(workstation):
            errors.add(self.WORKSTATION, f"工作站“{workstation.code}”不在您的管辖范围内")
        if instance.has_union and not instance.union_name and self.UNION_NAME not in errors:
            errors.add(self.UNION_NAME, "已建基层工会的单位须填写基层工会名称")
        if instance.credit_code and self.CREDIT_CODE not in errors:
            taken = Unit.objects.filter(credit_code=instance.credit_code).exclude(pk=instance.pk)
            if taken.exists():
                errors.add(self.CREDIT_CODE, "该统一社会信用代码已被其他单位登记")
        errors.raise_if_any()

    def after_save_instance(self, instance, row, **kwargs):
        # Workers follow their unit to its new workstation (rolled back with a dry run).
        unit_sync_members(unit=instance)
