"""Forms of 回访抽查 and of the ranking weights admin: they validate, the services decide."""

from __future__ import annotations

import datetime as dt

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout
from django import forms
from django.utils import timezone

from apps.needs.forms import RadioSelect
from apps.workstations.jurisdiction import Jurisdiction
from apps.workstations.models import District, Street

from .filters import MAX_SPAN_DAYS
from .models import FollowUpCall, RankingWeights
from .services import MAX_PER_STREET, follow_up_districts


def last_month(today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the calendar month before ``today``'s."""
    end = today.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


def _helper(*layout) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    helper.layout = Layout(*layout)
    return helper


DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DrawForm(forms.Form):
    """The period and size of a new sample; the street narrows it to one street."""

    start = forms.DateField(
        label="诉求提出起始日",
        widget=DATE,
        error_messages={"required": "请填写起始日期。", "invalid": "起始日期格式应为 2026-03-01。"},
    )
    end = forms.DateField(
        label="诉求提出截止日",
        widget=DATE,
        error_messages={"required": "请填写截止日期。", "invalid": "截止日期格式应为 2026-03-31。"},
    )
    per_street = forms.IntegerField(
        label="每个街道（开发区）抽取件数",
        min_value=1,
        max_value=MAX_PER_STREET,
        initial=5,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": "请填写抽取件数。",
            "invalid": f"抽取件数须是 1–{MAX_PER_STREET} 的整数。",
            "min_value": f"抽取件数须是 1–{MAX_PER_STREET} 的整数。",
            "max_value": f"每个街道（开发区）最多抽取 {MAX_PER_STREET} 件。",
        },
    )
    street = forms.ModelChoiceField(
        label="街道（开发区）",
        queryset=Street.objects.none(),
        required=False,
        empty_label="全部街道（开发区）",
        error_messages={"invalid_choice": "请选择您考核范围内的街道（开发区）。"},
    )
    district = forms.ModelChoiceField(
        label="县区",
        queryset=District.objects.none(),
        required=False,
        error_messages={"invalid_choice": "请选择您考核范围内的县区。"},
    )

    def __init__(self, *args, scope: Jurisdiction, today: dt.date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        self.fields["street"].queryset = (
            Street.objects.within(scope).select_related("district").order_by("order", "id")
        )
        districts = follow_up_districts(scope)
        # Only a user over several districts (a superuser) picks one.
        self.several_districts = scope.everything and districts.count() > 1
        if self.several_districts:
            self.fields["district"].queryset = districts
            self.fields["street"].label_from_instance = lambda s: f"{s.district.name}·{s.name}"
        else:
            del self.fields["district"]
        self.fields["start"].help_text = "按诉求提出日期抽取，起止日期均包含在内。"
        self.fields[
            "per_street"
        ].help_text = "每个街道（开发区）随机抽取的件数；符合条件的诉求不足时全部抽取。"
        fields = ["district"] if self.several_districts else []
        self.helper = _helper(
            Div(
                Div(Field("start"), css_class="col-12 col-sm-6"),
                Div(Field("end"), css_class="col-12 col-sm-6"),
                css_class="row",
            ),
            *fields,
            "street",
            "per_street",
        )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                self.add_error("end", "截止日期不能早于起始日期。")
            elif (end - start).days > MAX_SPAN_DAYS:
                self.add_error("end", "抽查期间最长为 5 年。")
            elif start > self.today:
                self.add_error("start", "起始日期不能晚于今天。")
        if self.several_districts and not data.get("district") and not data.get("street"):
            self.add_error("district", "请选择县区，或选择一个街道（开发区）。")
        return data


REACHED_CHOICES = [("yes", "接通"), ("no", "未接通")]
SCORE_CHOICES = [(str(i), f"{i} 分") for i in range(5, 0, -1)]


class CallForm(forms.Form):
    """One call's answer: reached?, and then resolved? and how satisfied (1–5)."""

    reached = forms.ChoiceField(
        label="是否接通",
        choices=REACHED_CHOICES,
        widget=RadioSelect,
        error_messages={
            "required": "请选择是否接通。",
            "invalid_choice": "请选择“接通”或“未接通”。",
        },
    )
    outcome = forms.ChoiceField(
        label="问题是否解决（接通时填写）",
        choices=FollowUpCall.Outcome.choices,
        widget=RadioSelect,
        required=False,
        error_messages={"invalid_choice": "请选择“已解决”“部分解决”或“未解决”。"},
    )
    score = forms.TypedChoiceField(
        label="满意度（接通时填写）",
        choices=SCORE_CHOICES,
        coerce=int,
        empty_value=None,
        widget=RadioSelect,
        required=False,
        error_messages={"invalid_choice": "满意度请选择 1–5 分。"},
    )
    note = forms.CharField(
        label="回访记录",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="职工的原话要点，不超过 1000 字。未接通时可注明情况（如无人接听、已停机）。",
        error_messages={"max_length": "回访记录不能超过 1000 字。"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(
            InlineRadios("reached"), InlineRadios("outcome"), InlineRadios("score"), "note"
        )

    @classmethod
    def for_call(cls, call: FollowUpCall, data=None) -> CallForm:
        """The call's form, prefixed by its id so that every form of the page has its own ids."""
        initial = {
            "reached": {True: "yes", False: "no"}.get(call.reached),
            "outcome": call.outcome,
            "score": str(call.score) if call.score else None,
            "note": call.note,
        }
        return cls(data, prefix=f"call-{call.pk}", initial=initial)

    def clean_reached(self):
        return self.cleaned_data["reached"] == "yes"


# --- the admin ---------------------------------------------------------------------------

WEIGHT_ERRORS = {
    "required": "请填写权重（0–100 的整数）。",
    "invalid": "权重须是 0–100 的整数。",
    "min_value": "权重不能小于 0。",
    "max_value": "权重不能超过 100。",
}


def _weight(name: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=RankingWeights._meta.get_field(name).verbose_name,
        min_value=0,
        max_value=100,
        help_text="0–100 的整数",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages=WEIGHT_ERRORS,
    )


class RankingWeightsForm(forms.ModelForm):
    """Weights 0–100, not all zero: the model's constraints, told in Chinese.

    "Not all zero" is the model's check constraint, which the form validates (with
    its Chinese message) before anything reaches the database.
    """

    responsiveness = _weight("responsiveness")
    resolution = _weight("resolution")
    satisfaction = _weight("satisfaction")
    projects = _weight("projects")

    class Meta:
        model = RankingWeights
        fields = ["district", *RankingWeights.DEFAULTS]
