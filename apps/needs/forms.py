"""Forms of the worker's pages: raising a need, rating it, withdrawing it."""

from __future__ import annotations

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Fieldset, Layout
from django import forms

from apps.core.forms import CleanTextMixin
from apps.workstations.models import Workstation

from . import attachments
from .models import Need, Rating, ServiceArea

TITLE_HELP = "一句话说明问题，不超过 60 个字。例如：公司拖欠三个月工资。"
DESCRIPTION_HELP = (
    "发生了什么、从什么时候开始、涉及多少人、您希望工会做什么。不超过 3000 字。"
    "请不要在这里填写身份证号等与诉求无关的个人信息。"
)
CONFIDENTIAL_HELP = (
    "勾选后，除了为您办理的工会干部，谁都不会知道这件事是您反映的。"
    "即使工作站把同类问题公开征集“我也有此需求”，也只显示干部另写的标题和说明，"
    "不会出现您的姓名、电话和单位。反映本单位欠薪、违法用工等情况时建议勾选。"
)


def _helper(*layout) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    if layout:
        helper.layout = Layout(*layout)
    return helper


class RadioSelect(forms.RadioSelect):
    """Radios whose field points at the first option, so an error summary can link to it."""

    def id_for_label(self, id_, index="0"):
        return super().id_for_label(id_, index)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by ``attachments.validate_uploads``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": attachments.ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        errors = []
        for upload in files:
            try:
                super().clean(upload, initial)
            except forms.ValidationError as error:
                name = getattr(upload, "name", "") or "附件"
                errors.extend(f"“{name}”：{message}" for message in error.messages)
        if errors:
            raise forms.ValidationError(errors)
        return attachments.validate_uploads(files)


class DescribeForm(CleanTextMixin, forms.Form):
    """Step 1: what the problem is, so similar published needs can be shown."""

    title = forms.CharField(
        label="诉求标题",
        max_length=60,
        help_text=TITLE_HELP,
        error_messages={"required": "请用一句话写明诉求标题。"},
    )
    description = forms.CharField(
        label="具体情况",
        max_length=3000,
        error_messages={"required": "请说明具体情况。"},
        help_text=DESCRIPTION_HELP,
        widget=forms.Textarea(attrs={"rows": 6}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper()


class NeedForm(CleanTextMixin, forms.ModelForm):
    """Step 2: the whole need. Routing is not a field: the need goes to the worker's
    workstation, except that a worker whose employer is not in the directory may
    choose the workstation (it starts as the one they chose at registration)."""

    workstation = forms.ModelChoiceField(
        label="受理工作站",
        queryset=Workstation.objects.active().select_related("street"),
        empty_label=None,
        help_text="您的单位不在名录中，请确认由哪个网格化工会工作站受理。",
    )
    attachments = MultipleFileField(
        label="附件（可不传）", required=False, help_text=attachments.rules_text()
    )

    class Meta:
        model = Need
        fields = [
            "title",
            "description",
            "kind",
            "area",
            "rights_type",
            "urgency",
            "confidential",
            "follow_up_consent",
        ]
        labels = {
            "title": "诉求标题",
            "kind": "诉求类型",
            "area": "属于哪方面",
            "rights_type": "涉及哪类权益",
            "confidential": "保密：不让干部以外的人知道是我反映的",
            "follow_up_consent": "同意县区总工会电话回访，了解办理情况",
        }
        help_texts = {
            "title": TITLE_HELP,
            "description": DESCRIPTION_HELP,
            "kind": "与 12351 职工服务热线的分类相同。",
            "rights_type": (
                "劳动经济权益：工资、劳动合同、社会保险、安全卫生、工时休假等；"
                "民主政治权益：职代会、厂务公开、集体协商、民主参与等。"
            ),
            "urgency": "紧急：正在发生、拖延会造成损失；特殊：涉及人身安全或多人的突发情况。",
            "confidential": CONFIDENTIAL_HELP,
            "follow_up_consent": "回访只问办理情况，不会泄露给您的单位。",
        }
        error_messages = {
            "title": {"required": "请用一句话写明诉求标题。"},
            "description": {"required": "请说明具体情况。"},
            "kind": {"required": "请选择诉求类型。"},
            "area": {"required": "请选择属于哪方面。"},
            "rights_type": {"required": "请选择涉及哪类权益。"},
            "urgency": {"required": "请选择紧急程度。"},
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 6}),
            "kind": RadioSelect,
            "rights_type": RadioSelect,
            "urgency": RadioSelect,
        }

    def __init__(self, *args, member, **kwargs):
        super().__init__(*args, **kwargs)
        self.member = member
        self.fields["area"].queryset = ServiceArea.objects.all()
        self.fields["area"].empty_label = "— 请选择 —"
        # Model choice fields offer a blank; a need must have a kind and rights type.
        for name in ("kind", "rights_type"):
            self.fields[name].choices = [c for c in self.fields[name].choices if c[0]]
        self.fields["urgency"].choices = Need.Urgency.choices
        if member.unit_id:
            del self.fields["workstation"]
        else:
            self.fields["workstation"].initial = member.workstation_id
        self.helper = _helper(
            Fieldset("您遇到的问题", "title", "description"),
            Fieldset(
                "分类",
                InlineRadios("kind"),
                "area",
                Field("rights_type"),
                InlineRadios("urgency"),
                *(["workstation"] if "workstation" in self.fields else []),
            ),
            Fieldset("隐私与回访", "confidential", "follow_up_consent"),
            Fieldset("证明材料", "attachments"),
        )

    def _post_clean(self):
        # The need is built by services.need_submit, not from this instance.
        pass


class RatingForm(CleanTextMixin, forms.Form):
    outcome = forms.ChoiceField(
        label="问题解决了吗？",
        choices=Rating.Outcome.choices,
        widget=RadioSelect,
        error_messages={"required": "请选择问题是否解决。"},
    )
    score = forms.TypedChoiceField(
        label="您对办理的满意度",
        choices=[
            (5, "5 分 非常满意"),
            (4, "4 分 满意"),
            (3, "3 分 基本满意"),
            (2, "2 分 不满意"),
            (1, "1 分 很不满意"),
        ],
        coerce=int,
        widget=RadioSelect,
        error_messages={"required": "请选择满意度。"},
    )
    comment = forms.CharField(
        label="您的意见（可不填）",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="选择“未解决”或打 1–2 分时，诉求会重新交给工作站办理，请写明原因。",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "rate")
        super().__init__(*args, **kwargs)
        self.helper = _helper(InlineRadios("outcome"), "score", "comment")


class WithdrawForm(CleanTextMixin, forms.Form):
    reason = forms.CharField(
        label="撤回原因（可不填）",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="例如：问题已自行解决。撤回后工作站将停止办理。",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "withdraw")
        super().__init__(*args, **kwargs)
        self.helper = _helper()
