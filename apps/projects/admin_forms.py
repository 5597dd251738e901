"""Forms of the cadres' admin for service projects: creating, editing and the action panel.

They only validate; the admin hands the cleaned data to ``apps.projects.services``.
Errors are worded for the cadre: which field, what is wrong, what to write instead.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.admin.widgets import AdminDateWidget
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from apps.needs import attachments
from apps.needs.models import ServiceArea
from apps.workstations.jurisdiction import Jurisdiction
from apps.workstations.models import CadreAssignment, Street, Workstation

from .models import Evidence, Indicator, Reward, ServiceProject
from .workflow import RUNNING, Action

# Not a workflow action: evidence is added while the project runs and waits for acceptance.
EVIDENCE = "evidence"
EVIDENCE_STATUSES = frozenset({ServiceProject.Status.IN_PROGRESS, ServiceProject.Status.ASSESSED})
MAX_PHOTOS = 9

# Shown wherever an assessment is made or read.
SCORE_FORMULA = "考核得分 = Σ(权重 × min(实际值 ÷ 目标值, 1)) ÷ Σ权重 × 100"


def _text(label: str, *, required: bool = True, rows: int = 3, max_length: int = 2000, **kw):
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows, "cols": 60}),
        **kw,
    )


def plain(number: Decimal) -> str:
    """5, 150, 12.5: a decimal without trailing zeros (and never in exponent form)."""
    return (
        f"{number.normalize():f}"
        if number == number.to_integral_value()
        else f"{number:f}".rstrip("0")
    )


def _money(label: str, **kw):
    return forms.DecimalField(
        label=label,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        error_messages={
            "invalid": "请填写金额（数字，单位：元）。",
            "min_value": "金额不能为负数。",
        },
        **kw,
    )


def user_label(user) -> str:
    return user.name or user.username


class CadreChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user_label(user)


def _cadres(posts):
    return (
        get_user_model()
        .objects.filter(is_active=True, pk__in=posts.values("user"))
        .order_by("name", "username")
    )


def _cadre_posts():
    return CadreAssignment.objects.active().filter(role=CadreAssignment.Role.CADRE)


def cadres_covering_project(project: ServiceProject):
    """Active cadres whose post covers the project's owner: who may lead it."""
    node = Q(street=project.street_id) | Q(district=project.street.district_id)
    if project.workstation_id:
        node |= Q(workstation=project.workstation_id)
    return _cadres(_cadre_posts().filter(node))


def cadres_near(jurisdiction: Jurisdiction):
    """Cadres who could lead a project somewhere in the jurisdiction (checked again on save)."""
    if jurisdiction.everything:
        return _cadres(_cadre_posts())
    workstations = Workstation.objects.within(jurisdiction)
    streets = Street.objects.filter(
        Q(pk__in=workstations.values("street")) | Q(pk__in=sorted(jurisdiction.street_ids))
    )
    posts = _cadre_posts().filter(
        Q(workstation__in=workstations)
        | Q(street__in=streets.values("pk"))
        | Q(district__in=streets.values("district"))
    )
    return _cadres(posts)


# --- the owner: a street's union itself or one of its workstations ----------------------


def owner_value(street_id: int, workstation_id: int | None) -> str:
    return f"w{workstation_id}" if workstation_id else f"s{street_id}"


class OwnerField(forms.ChoiceField):
    """One select for "who runs it": grouped by street, the street's union first.

    A workstation cadre may only pick their workstation(s); street-run projects
    are for cadres of the street or the district (the workstation cadre could not
    see them afterwards).
    """

    def __init__(self, jurisdiction: Jurisdiction, **kwargs):
        workstations = list(
            Workstation.objects.active().within(jurisdiction).select_related("street")
        )
        streets = {w.street_id: w.street for w in workstations}
        own_streets = Street.objects.all()
        if not jurisdiction.everything:
            own_streets = own_streets.filter(
                Q(pk__in=sorted(jurisdiction.street_ids))
                | Q(district__in=sorted(jurisdiction.district_ids))
            )
        own_streets = list(own_streets)
        self.may_own_street = {s.pk for s in own_streets}
        streets.update({s.pk: s for s in own_streets})
        self.streets = streets
        self.workstations = {w.pk: w for w in workstations}
        groups = []
        for street in sorted(streets.values(), key=lambda s: (s.order, s.code)):
            options = []
            if street.pk in self.may_own_street:
                options.append((f"s{street.pk}", f"{street.name}工会（街道直接承办）"))
            options += [(f"w{w.pk}", w.name) for w in workstations if w.street_id == street.pk]
            if options:
                groups.append((street.name, options))
        super().__init__(choices=[("", "— 请选择 —"), *groups], **kwargs)

    def to_street_and_workstation(self, value: str):
        kind, pk = value[0], int(value[1:])
        if kind == "w":
            workstation = self.workstations[pk]
            return workstation.street, workstation
        return self.streets[pk], None


class ProjectCreateForm(forms.Form):
    """The intermediate page of "create a project from the selected needs"."""

    title = forms.CharField(
        label="项目名称",
        max_length=80,
        help_text="会在项目公示页展示，请勿写入职工姓名、单位等个人信息。",
        widget=forms.TextInput(attrs={"size": 50}),
    )
    summary = _text("项目简介", rows=4, help_text="为什么做、为谁做、做什么。公开展示。")
    kind = forms.ChoiceField(
        label="类别",
        choices=ServiceProject.Kind.choices,
        widget=forms.RadioSelect,
        help_text="好事：惠及面广的服务；实事：具体可办的事；难事：需要协调多方的难题。",
    )
    area = forms.ModelChoiceField(label="服务领域", queryset=ServiceArea.objects.all())
    beneficiary = forms.ChoiceField(
        label="服务对象（三服务）",
        choices=ServiceProject.Beneficiary.choices,
        initial=ServiceProject.Beneficiary.WORKERS,
        widget=forms.RadioSelect,
    )
    owner = forms.ChoiceField(label="承办单位")  # replaced by an OwnerField in __init__
    lead = CadreChoiceField(label="项目负责人", queryset=get_user_model().objects.none())
    planned_start = forms.DateField(label="计划开始", widget=AdminDateWidget)
    planned_end = forms.DateField(label="计划完成", widget=AdminDateWidget)
    budget = _money("预算（元）", initial=Decimal("0"), help_text="从基层活动经费中列支；可为 0。")

    use_required_attribute = False

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.jurisdiction = Jurisdiction.for_user(user)
        self.fields["owner"] = OwnerField(
            self.jurisdiction,
            label="承办单位",
            help_text="工作站承办，或由街道（开发区）工会直接承办。",
        )
        self.fields["lead"].queryset = cadres_near(self.jurisdiction)
        self.fields["lead"].help_text = "须是管辖承办单位的在岗工会干部；默认是您本人。"

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("planned_start"), cleaned.get("planned_end")
        if start and end and end < start:
            self.add_error("planned_end", "计划完成日期不能早于计划开始日期。")
        owner = cleaned.get("owner")
        if owner:
            street, workstation = self.fields["owner"].to_street_and_workstation(owner)
            cleaned["street"], cleaned["workstation"] = street, workstation
        return cleaned


class ProjectLinkForm(forms.Form):
    """The intermediate page of "add the selected needs to a project"."""

    project = forms.ModelChoiceField(
        label="服务项目",
        queryset=ServiceProject.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"invalid_choice": "该服务项目已不能加入诉求，请重新选择。"},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = running_projects(user)
        self.fields["project"].label_from_instance = lambda p: str(p)


def running_projects(user):
    """Projects of the cadre's jurisdiction that still take needs."""
    return (
        ServiceProject.objects.within_jurisdiction_of(user)
        .filter(status__in=RUNNING)
        .select_related("area", "street", "workstation")
    )


# --- the change form ----------------------------------------------------------------------


class ProjectAdminForm(forms.ModelForm):
    """What a cadre edits directly while the project is proposed or approved."""

    class Meta:
        model = ServiceProject
        fields = [
            "title",
            "summary",
            "standard",
            "planned_start",
            "planned_end",
            "budget",
            "lead",
            "panel_size",
        ]
        error_messages = {
            "budget": {"invalid": "请填写金额（数字，单位：元）。"},
            "panel_size": {"invalid": "请填写 1–7 之间的整数。"},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "lead" in self.fields and self.instance.pk:
            self.fields["lead"].queryset = cadres_covering_project(self.instance)
            self.fields["lead"].label_from_instance = user_label
            self.fields[
                "lead"
            ].help_text = "只能选择管辖承办单位的在岗工会干部；负责人不能验收本项目。"
        if "standard" in self.fields:
            self.fields["standard"].widget.attrs.update(rows=6)

    def clean(self):
        cleaned = super().clean()
        start = cleaned.get("planned_start", self.instance.planned_start)
        end = cleaned.get("planned_end", self.instance.planned_end)
        if "planned_end" in self.fields and start and end and end < start:
            self.add_error("planned_end", "计划完成日期不能早于计划开始日期。")
        if (
            "standard" in self.fields
            and self.instance.status == ServiceProject.Status.APPROVED
            and not (cleaned.get("standard") or "").strip()
        ):
            self.add_error("standard", "已立项的项目须有项目标准，项目按标准验收。")
        budget = cleaned.get("budget")
        if (
            budget is not None
            and budget < self.instance.spent
            and not self.instance.overspend_reason
        ):
            self.add_error("budget", f"预算不能低于已支出的 {self.instance.spent} 元。")
        return cleaned


def _width(em: float) -> str:
    """The class giving an input ``em`` wide (static/admin-extra/projects.css); a class
    rather than style="", which the Content-Security-Policy blocks."""
    return "w-em-" + f"{em:g}".replace(".", "-")


def _narrow(em: float, label: str = ""):
    # Text inputs: a non-numeric entry reaches the server and gets a clear message.
    attrs = {"class": _width(em), "inputmode": "decimal"}
    if label:
        attrs["aria-label"] = label
    return forms.TextInput(attrs=attrs)


class IndicatorForm(forms.ModelForm):
    class Meta:
        model = Indicator
        fields = ["name", "target", "unit", "weight", "order"]
        widgets = {
            # The inline table's column headers are not labels: name each field for
            # screen readers too.
            "name": forms.TextInput(attrs={"class": _width(14), "aria-label": "指标"}),
            "target": _narrow(6, label="目标值"),
            "unit": forms.TextInput(attrs={"class": _width(4), "aria-label": "单位"}),
            "weight": _narrow(4, label="权重"),
            "order": forms.NumberInput(attrs={"class": _width(3.5), "aria-label": "排序"}),
        }
        error_messages = {
            "target": {
                "invalid": "目标值须是数字。",
                "min_value": "目标值须大于 0。",
                "max_digits": "目标值太大。",
                "max_decimal_places": "目标值最多两位小数。",
            },
            "weight": {
                "invalid": "权重须是数字。",
                "min_value": "权重须大于 0。",
                "max_digits": "权重太大。",
                "max_decimal_places": "权重最多两位小数。",
            },
        }


class IndicatorFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        weights = [
            form.cleaned_data.get("weight") or Decimal("0")
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if weights and sum(weights) <= 0:
            raise forms.ValidationError("各项考核指标的权重之和必须大于 0。")
        if not weights and self.instance.status == ServiceProject.Status.APPROVED:
            raise forms.ValidationError("已立项的项目至少保留一项考核指标，项目按指标考核。")


# --- the action panel -------------------------------------------------------------------


class ProjectActionForm(forms.Form):
    """One action of the change page's panel; its controls belong to their own <form>.

    As on the need's page, the panel sits inside the admin's change form, so each
    control names its own form with the HTML ``form`` attribute.
    """

    action: str = ""
    label: str = ""
    button: str = ""
    help: str = ""
    danger = False
    multipart = False

    use_required_attribute = False

    def __init__(self, *args, project: ServiceProject, user=None, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.action}_%s")
        self.project, self.user = project, user
        super().__init__(*args, **kwargs)
        self.setup()
        for field in self.fields.values():
            field.widget.attrs["form"] = self.html_form_id

    def setup(self) -> None:
        """Fields that depend on the project."""

    @property
    def html_form_id(self) -> str:
        return f"project-action-{self.action}"


class ApproveForm(ProjectActionForm):
    action, label, button = Action.APPROVE, "批准立项", "批准立项"
    help = "批准后项目在项目公示页公开，关联诉求的职工会收到通知。须已写明项目标准并设置考核指标。"
    note = _text("审批意见（可不填）", required=False, rows=2, max_length=1000)


class StartForm(ProjectActionForm):
    action, label, button = Action.START, "开始实施", "开始实施"
    help = "关联诉求的职工会收到通知。"
    on = forms.DateField(label="实际开始日期", widget=AdminDateWidget)

    def setup(self):
        self.fields["on"].initial = timezone.localdate()

    def clean_on(self):
        on = self.cleaned_data["on"]
        if on > timezone.localdate():
            raise forms.ValidationError("实际开始日期不能晚于今天。")
        return on


class PhotosInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos in one input, each accepted by its content (Pillow), not its name."""

    def __init__(self, *args, **kwargs):
        accept = ".jpg,.jpeg,.png,.webp,image/jpeg,image/png,image/webp"
        kwargs.setdefault("widget", PhotosInput(attrs={"accept": accept}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            return []
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(
                f"每次最多上传 {MAX_PHOTOS} 张照片，您选择了 {len(files)} 张。"
            )
        errors = []
        for upload in files:
            try:
                super().clean(upload, initial)
                attachments.validate_upload(upload)
                if not upload.content_type.startswith("image/"):
                    raise forms.ValidationError(f"“{upload.name}”不是照片（JPG、PNG、WebP）。")
            except forms.ValidationError as error:
                errors.extend(error.messages)
        if errors:
            raise forms.ValidationError(errors)
        return files


class ProgressForm(ProjectActionForm):
    action, label, button, multipart = Action.PROGRESS, "发布进展", "发布进展", True
    help = "进展公开展示在项目公示页，并通知所有提出或支持关联诉求的职工。"
    text = _text("进展情况（公开）", rows=3, help_text="做了什么、服务了多少人。请勿写入个人信息。")
    percent = forms.IntegerField(
        label="完成进度（%）",
        min_value=0,
        max_value=100,
        error_messages={
            "invalid": "完成进度须是 0–100 的整数。",
            "min_value": "完成进度须是 0–100 的整数。",
            "max_value": "完成进度须是 0–100 的整数。",
        },
        widget=forms.NumberInput(attrs={"class": _width(6)}),
    )
    photos = PhotosField(
        label="照片（可不传）",
        required=False,
        help_text=f"JPG、PNG 或 WebP，可多选，最多 {MAX_PHOTOS} 张。照片会公开展示，请避免拍到职工的姓名、工牌、证件等个人信息。",
    )

    def setup(self):
        last = self.project.updates.order_by("-created_at", "-id").first()
        self.last_percent = last.percent if last else 0
        self.fields["percent"].initial = self.last_percent
        if last:
            self.fields["percent"].help_text = f"上次发布为 {last.percent}%，进度不能回退。"


class LinkForm(ProjectActionForm):
    action, label, button = Action.LINK, "关联诉求", "关联"
    help = "按诉求编号关联；也可以在诉求列表中勾选诉求后选择“将所选诉求加入服务项目”。"
    numbers = forms.CharField(
        label="诉求编号",
        max_length=1000,
        help_text="多个编号用空格、逗号或换行分隔。",
        widget=forms.TextInput(attrs={"size": 50}),
    )

    def clean_numbers(self):
        raw = self.cleaned_data["numbers"].replace(",", " ").replace("，", " ").replace("、", " ")
        numbers = sorted({n.strip().upper() for n in raw.split() if n.strip()})
        if not numbers:
            raise forms.ValidationError("请填写诉求编号。")
        return numbers


class AssessForm(ProjectActionForm):
    action, label, button = Action.ASSESS, "考核（填写实际完成情况）", "完成考核"
    help = "每项指标都须填写实际值，系统按下列公式计算考核得分；考核后等待考核人员验收。"
    spent = _money("实际支出（元）")
    overspend_reason = _text(
        "超支说明", required=False, rows=2, max_length=1000, help_text="支出超过预算时必填。"
    )
    result = _text(
        "项目成果（职工可见）",
        rows=4,
        max_length=3000,
        help_text="验收通过后，作为办理结果告知关联诉求的每位职工。",
    )
    finished_on = forms.DateField(label="实际完成日期", widget=AdminDateWidget)

    def setup(self):
        self.formula = SCORE_FORMULA
        self.indicators = list(self.project.indicators.all())
        indicator_fields = {}
        for indicator in self.indicators:
            indicator_fields[f"actual_{indicator.pk}"] = forms.DecimalField(
                label=f"{indicator.name}（目标 {plain(indicator.target)}{indicator.unit}，"
                f"权重 {plain(indicator.weight)}）",
                max_digits=12,
                decimal_places=2,
                min_value=Decimal("0"),
                initial=indicator.actual,
                error_messages={
                    "required": "请填写实际值。",
                    "invalid": "实际值须是数字。",
                    "min_value": "实际值不能为负数。",
                },
                widget=forms.TextInput(
                    attrs={
                        "class": _width(8),
                        "inputmode": "decimal",
                        "data-target": str(indicator.target),
                        "data-weight": str(indicator.weight),
                    }
                ),
            )
        # The indicators first, in their order.
        self.fields = {**indicator_fields, **self.fields}
        self.fields["spent"].initial = self.project.spent
        self.fields["spent"].help_text = f"预算 {plain(self.project.budget)} 元。"
        self.fields["finished_on"].initial = timezone.localdate()

    def clean(self):
        cleaned = super().clean()
        if not self.indicators:
            raise forms.ValidationError("项目没有考核指标，不能考核。")
        spent = cleaned.get("spent")
        reason = (cleaned.get("overspend_reason") or "").strip()
        if spent is not None and spent > self.project.budget and not reason:
            self.add_error(
                "overspend_reason",
                f"实际支出 {spent} 元超过预算 {self.project.budget} 元，须说明理由。",
            )
        finished = cleaned.get("finished_on")
        if finished and finished > timezone.localdate():
            self.add_error("finished_on", "实际完成日期不能晚于今天。")
        elif finished and self.project.actual_start and finished < self.project.actual_start:
            self.add_error(
                "finished_on",
                f"实际完成日期不能早于实际开始日期（{self.project.actual_start:%Y-%m-%d}）。",
            )
        return cleaned

    @property
    def indicator_fields(self):
        return [self[f"actual_{i.pk}"] for i in self.indicators]

    @property
    def other_fields(self):
        return [self[name] for name in ("spent", "overspend_reason", "result", "finished_on")]

    def actuals(self) -> dict[int, Decimal]:
        return {i.pk: self.cleaned_data[f"actual_{i.pk}"] for i in self.indicators}


class EvidenceForm(ProjectActionForm):
    action, label, button, multipart = EVIDENCE, "添加验收材料", "添加", True
    help = (
        "活动照片、签到表、受益职工签字确认、经费使用明细等，供考核人员验收。仅干部和考核人员可见。"
    )
    kind = forms.ChoiceField(label="类型", choices=Evidence.Kind.choices)
    file = forms.FileField(
        label="文件（可不传）",
        required=False,
        help_text="照片（JPG、PNG、WebP）或 PDF。",
        widget=forms.ClearableFileInput(attrs={"accept": attachments.ACCEPT}),
    )
    note = forms.CharField(label="说明", max_length=200, required=False)
    attendance = forms.IntegerField(
        label="参与人数（可不填）",
        required=False,
        min_value=0,
        error_messages={"invalid": "参与人数须是整数。", "min_value": "参与人数不能为负数。"},
        widget=forms.NumberInput(attrs={"class": _width(6)}),
    )

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload:
            attachments.validate_upload(upload)
        return upload

    def clean(self):
        cleaned = super().clean()
        if (
            not self.errors
            and not cleaned.get("file")
            and not (cleaned.get("note") or "").strip()
            and cleaned.get("attendance") is None
        ):
            raise forms.ValidationError("请上传文件，或填写说明或参与人数。")
        return cleaned


class RewardForm(ProjectActionForm):
    action, label, button = Action.REWARD, "奖励", "确认奖励"
    help = "验收通过的项目由县区工会决定通报表彰或奖励资金，可奖励承办工作站或干部。"
    kind = forms.ChoiceField(label="类型", choices=Reward.Kind.choices, widget=forms.RadioSelect)
    workstation = forms.ModelChoiceField(
        label="获奖工作站", queryset=Workstation.objects.none(), required=False
    )
    cadre = CadreChoiceField(
        label="获奖干部", queryset=get_user_model().objects.none(), required=False
    )
    amount = _money("金额（元）", required=False, help_text="奖励资金须填写金额；通报表彰可不填。")
    reason = _text("奖励理由", rows=2, max_length=1000)

    def setup(self):
        project = self.project
        self.fields["workstation"].queryset = Workstation.objects.filter(
            street__district=project.street.district_id
        ).select_related("street")
        self.fields["workstation"].initial = project.workstation_id
        self.fields["cadre"].queryset = cadres_covering_project(project)
        self.fields["cadre"].help_text = "获奖工作站和获奖干部至少选一项。"

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("workstation") and not cleaned.get("cadre"):
            self.add_error("workstation", "请选择获奖工作站或获奖干部。")
        amount = cleaned.get("amount")
        if cleaned.get("kind") == Reward.Kind.AWARD and not amount:
            self.add_error("amount", "奖励资金须填写大于 0 的金额。")
        cleaned["amount"] = amount or Decimal("0")
        return cleaned


class CancelForm(ProjectActionForm):
    action, label, button, danger = Action.CANCEL, "撤销项目", "撤销项目", True
    help = "撤销后关联诉求退回工作站继续办理，职工会收到通知。"
    reason = _text("撤销理由", rows=2, max_length=1000)


ACTION_FORMS: dict[str, type[ProjectActionForm]] = {
    form.action: form
    for form in (
        ApproveForm,
        StartForm,
        ProgressForm,
        LinkForm,
        AssessForm,
        EvidenceForm,
        RewardForm,
        CancelForm,
    )
}
