"""The reviewer's acceptance form (验收): it validates; ``services.project_review`` decides."""

from __future__ import annotations

from decimal import Decimal

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout
from django import forms

from apps.core.forms import CleanTextMixin
from apps.needs.forms import RadioSelect

from .models import PASS_SCORE, Review


class ReviewForm(CleanTextMixin, forms.Form):
    verdict = forms.ChoiceField(
        label="验收结论",
        choices=Review.Verdict.choices,
        widget=RadioSelect,
        error_messages={
            "required": "请选择验收结论。",
            "invalid_choice": "验收结论只能是“通过”或“不通过”。",
        },
    )
    score = forms.DecimalField(
        label="评分",
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        max_digits=4,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
        error_messages={
            "required": "请填写评分。",
            "invalid": "评分须是 0 到 100 之间的数字。",
            "min_value": "评分须在 0 到 100 之间。",
            "max_value": "评分须在 0 到 100 之间。",
            "max_digits": "评分须在 0 到 100 之间。",
            "max_decimal_places": "评分最多保留一位小数。",
            "max_whole_digits": "评分须在 0 到 100 之间。",
        },
    )
    comments = forms.CharField(
        label="验收意见",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=(
            "对照项目标准、考核指标和验收材料写明意见，不超过 2000 字；"
            "不通过时请写明理由，诉求会据此退回工作站继续办理。"
        ),
        error_messages={
            "required": "请填写验收意见。",
            "max_length": "验收意见不能超过 2000 字。",
        },
    )

    def __init__(self, *args, assessment_score=None, **kwargs):
        super().__init__(*args, **kwargs)
        hint = f"考核得分为 {assessment_score} 分。" if assessment_score is not None else ""
        self.fields["score"].help_text = (
            f"0–100 分，可保留一位小数。{hint}验收得分取评审组的平均分："
            f"多数评审通过且平均分不低于 {PASS_SCORE:.0f} 分，项目即验收通过。"
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(InlineRadios("verdict"), "score", "comments")
