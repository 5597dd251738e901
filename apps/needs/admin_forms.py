"""Forms of the cadres' admin for needs: the action panel, bulk actions, offline recording.

They only validate; the admin hands the cleaned data to ``apps.needs.services``.
"""

from __future__ import annotations

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth import get_user_model
from django.db.models import Q

from apps.members.models import Member
from apps.members.validators import mobile_validator
from apps.workstations.jurisdiction import Jurisdiction
from apps.workstations.models import CadreAssignment, Unit, Workstation

from .models import Channel, Need, Referral, ServiceArea
from .workflow import Action

# The fields a template may pre-fill, per action (see ReplyTemplate.action).
TEMPLATE_FIELD = {
    Action.ACCEPT: "public_note",
    Action.REJECT: "reason",
    Action.REPLY: "public_note",
    Action.REFER: "public_note",
    Action.RESOLVE: "resolution",
}


def _note(label: str, *, required: bool = False, rows: int = 3, max_length: int = 3000, **kw):
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows, "cols": 60}),
        **kw,
    )


def _internal_note():
    return _note("内部备注（仅干部可见，可不填）", rows=2)


class NeedActionForm(forms.Form):
    """One action of the change page's panel; its controls belong to their own <form>.

    The panel is drawn between the need's facts and its timeline, inside the
    admin's change form, so each control names its own form with the HTML
    ``form`` attribute: one action posts only its own fields.
    """

    action: str = ""
    label: str = ""
    button: str = ""
    help: str = ""
    danger = False

    use_required_attribute = False  # validated on the server; the message says what is missing

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.action}_%s")
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["form"] = self.html_form_id

    @property
    def html_form_id(self) -> str:
        return f"need-action-{self.action}"

    @property
    def template_field(self) -> str | None:
        return TEMPLATE_FIELD.get(self.action)

    @property
    def template_target_id(self) -> str:
        return f"id_{self.action}_{self.template_field}"


class AcceptForm(NeedActionForm):
    action, label, button = Action.ACCEPT, "受理", "受理"
    help = "受理后开始计算办结时限，您将成为承办人（如尚未指定）。"
    public_note = _note(
        "告知职工（可不填）", rows=2, help_text="不填则告知：您的诉求已受理，我们会尽快办理。"
    )
    internal_note = _internal_note()


class RejectForm(NeedActionForm):
    action, label, button, danger = Action.REJECT, "不予受理", "不予受理", True
    help = "不予受理必须说明理由，职工会看到这段说明。"
    reason = _note("不予受理理由（职工可见）", required=True, max_length=1000)
    internal_note = _internal_note()


class MergeForm(NeedActionForm):
    action, label, button, danger = Action.MERGE, "合并为重复诉求", "合并", True
    help = "本诉求将结束，提出人和支持者转为支持目标诉求，并收到通知；各自的记录保留。"
    into = forms.CharField(
        label="合并到诉求编号",
        max_length=20,
        widget=forms.TextInput(
            attrs={"list": "merge-candidates", "autocomplete": "off", "size": 24}
        ),
    )
    public_note = _note("告知职工（可不填）", rows=2, help_text="不填则告知已与目标诉求合并办理。")
    internal_note = _internal_note()

    def clean_into(self):
        return self.cleaned_data["into"].strip().upper()


class StartForm(NeedActionForm):
    action, label, button = Action.START, "开始办理", "开始办理"
    public_note = _note("告知职工（可不填）", rows=2, help_text="不填则告知：工作站正在办理。")


class ReplyForm(NeedActionForm):
    action, label, button = Action.REPLY, "回复职工", "发送回复"
    help = "回复会出现在职工的诉求进度中，并通知职工。"
    public_note = _note("回复内容（职工可见）", required=True)
    internal_note = _internal_note()


class NoteForm(NeedActionForm):
    action, label, button = Action.NOTE, "内部备注", "记录备注"
    help = "仅工会干部可见，职工看不到。"
    internal_note = _note("备注内容", required=True)


class ReferForm(NeedActionForm):
    action, label, button = Action.REFER, "转介", "转介"
    help = "转介后请在下方“转介”中持续记录跟进情况。"
    target = forms.ChoiceField(label="转介去向", choices=Referral.Target.choices)
    target_detail = forms.CharField(label="具体部门（可不填）", max_length=100, required=False)
    public_note = _note(
        "告知职工（职工可见）", required=True, help_text="例如：去哪里、带什么材料、联系电话。"
    )
    internal_note = _internal_note()


class ResolveForm(NeedActionForm):
    action, label, button = Action.RESOLVE, "办结", "办结"
    help = "办理结果会告知职工，并请职工评价是否解决。"
    resolution = _note("办理结果（职工可见）", required=True, rows=4)
    internal_note = _internal_note()


class PublishForm(NeedActionForm):
    action, label, button = Action.PUBLISH, "公开征集“我也有此需求”", "公开"
    help = (
        "公开后，其他职工可在“大家的诉求”中表示“我也有此需求”。"
        "请自行撰写标题和说明，不得包含姓名、电话、单位、身份证号等任何个人信息。"
    )
    public_title = forms.CharField(label="公开标题", max_length=60)
    public_summary = _note("公开说明（可不填）", rows=3, max_length=1000)


class UnpublishForm(NeedActionForm):
    action, label, button = Action.UNPUBLISH, "取消公开", "取消公开"
    help = "取消后不再出现在公开列表中，已有的支持保留。"


ACTION_FORMS: dict[str, type[NeedActionForm]] = {
    form.action: form
    for form in (
        AcceptForm,
        RejectForm,
        StartForm,
        ReplyForm,
        NoteForm,
        ReferForm,
        ResolveForm,
        MergeForm,
        PublishForm,
        UnpublishForm,
    )
}


class BulkReasonForm(forms.Form):
    """The intermediate page of "reject selected" and "resolve selected"."""

    text = _note("说明（职工可见）", required=True, rows=4)


def cadres_covering(workstation: Workstation):
    """Active cadres whose post covers a workstation: who may handle its needs."""
    posts = CadreAssignment.objects.active().filter(
        Q(workstation=workstation)
        | Q(street=workstation.street_id)
        | Q(district=workstation.street.district_id),
        role=CadreAssignment.Role.CADRE,
    )
    return (
        get_user_model()
        .objects.filter(is_active=True, pk__in=posts.values("user"))
        .order_by("name", "username")
    )


class NeedAdminForm(forms.ModelForm):
    """The only field a cadre edits directly: who handles the need (承办人)."""

    class Meta:
        model = Need
        fields = ["handler"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "handler" in self.fields and self.instance.pk:
            self.fields["handler"].queryset = cadres_covering(self.instance.workstation)
            self.fields["handler"].help_text = "只能选择管辖范围覆盖本工作站的在岗工会干部。"


class OfflineNeedForm(forms.Form):
    """A need met offline (visit, hotline, forum, letter), recorded for a worker.

    The worker is found by exact mobile inside the cadre's jurisdiction, or
    registered on the spot. A mobile registered elsewhere is refused without
    saying whose it is.
    """

    mobile = forms.CharField(
        label="职工手机号码",
        max_length=11,
        validators=[mobile_validator],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    # A new worker (ignored when the mobile belongs to a worker of the jurisdiction).
    name = forms.CharField(label="职工姓名", max_length=50, required=False)
    unit = forms.ModelChoiceField(
        label="工作单位（名录中的单位）", queryset=Unit.objects.none(), required=False
    )
    unit_name = forms.CharField(label="或填写单位名称", max_length=150, required=False)
    workstation = forms.ModelChoiceField(
        label="单位所在工作站",
        queryset=Workstation.objects.none(),
        required=False,
        help_text="单位不在名录中时必选。",
    )
    # The need.
    channel = forms.ModelChoiceField(
        label="渠道", queryset=Channel.objects.filter(is_online=False), empty_label=None
    )
    kind = forms.ChoiceField(label="诉求类型", choices=Need.Kind.choices)
    area = forms.ModelChoiceField(label="服务领域", queryset=ServiceArea.objects.all())
    rights_type = forms.ChoiceField(label="权益类型", choices=Need.RightsType.choices)
    title = forms.CharField(label="标题", max_length=60)
    description = forms.CharField(
        label="具体情况",
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 60}),
        help_text="按职工的原话记录：什么事、涉及谁、从什么时候开始、希望怎样解决。",
    )
    urgency = forms.ChoiceField(
        label="紧急程度", choices=Need.Urgency.choices, initial=Need.Urgency.NORMAL
    )
    confidential = forms.BooleanField(
        label="保密",
        required=False,
        help_text="职工要求不让承办干部以外的任何人知道是谁提出的（例如针对本单位的欠薪投诉）。",
    )
    follow_up_consent = forms.BooleanField(
        label="同意回访", required=False, initial=True, help_text="同意县区总工会电话回访抽查。"
    )

    use_required_attribute = False

    FOUND, NEW, ELSEWHERE = "found", "new", "elsewhere"

    def __init__(self, *args, user, admin_site=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.jurisdiction = Jurisdiction.for_user(user)
        self.member: Member | None = None
        if admin_site is not None:
            # The admin's own autocomplete, scoped by UnitAdmin like every other unit picker.
            # Select2 takes its width from data-width (style="" is blocked by the CSP).
            self.fields["unit"].widget = AutocompleteSelect(
                Member._meta.get_field("unit"), admin_site, attrs={"data-width": "24em"}
            )
        # Set after the widget: the queryset setter hands the choices to the widget.
        self.fields["unit"].queryset = Unit.objects.within(self.jurisdiction).select_related(
            "workstation"
        )
        self.fields["workstation"].queryset = (
            Workstation.objects.active().within(self.jurisdiction).select_related("street")
        )

    def lookup(self, mobile: str) -> tuple[str | None, Member | None]:
        """Who this mobile belongs to, as far as this cadre may know."""
        if not mobile:
            return None, None
        member = Member.objects.select_related("user", "unit", "workstation").filter(mobile=mobile)
        found = member.first()
        if found is not None:
            if Member.objects.within(self.jurisdiction).filter(pk=found.pk).exists():
                return self.FOUND, found
            return self.ELSEWHERE, None
        if get_user_model().objects.filter(username=mobile).exists():
            return self.ELSEWHERE, None
        return self.NEW, None

    def clean(self):
        cleaned = super().clean()
        mobile = cleaned.get("mobile")
        if not mobile:
            return cleaned
        state, member = self.lookup(mobile)
        if state == self.ELSEWHERE:
            self.add_error(
                "mobile",
                "该手机号码已登记在您管辖范围以外，不能在此代为登记。"
                "请告知职工联系其所属工作站，或转县区总工会处理。",
            )
        elif state == self.FOUND:
            self.member = member
        else:
            if not cleaned.get("name", "").strip():
                self.add_error("name", "新职工请填写姓名。")
            unit = cleaned.get("unit")
            if unit is None and not (cleaned.get("unit_name", "").strip()):
                self.add_error("unit", "请选择名录中的单位，或填写单位名称。")
            elif unit is None and cleaned.get("workstation") is None:
                self.add_error("workstation", "单位不在名录中时，请选择单位所在的工作站。")
        return cleaned
