import unicodedata

from crispy_forms.helper import FormHelper
from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.urls import reverse_lazy

from apps.core.forms import BoundedUsernameMixin, CleanTextMixin
from apps.workstations.models import Unit, Workstation

from .models import Member
from .validators import mobile_validator


def unit_name_widget() -> forms.TextInput:
    """The employer field: suggestions come from the directory as the worker types."""
    return forms.TextInput(
        attrs={
            "list": "unit-options",
            "autocomplete": "off",
            "data-unit-search": reverse_lazy("workstations:unit-search"),
        }
    )


class EmployerFieldsMixin:
    """The employer is picked from the directory by name, or typed in with a workstation."""

    unit_help = "输入单位名称，可从提示中选择；名录中没有时，请完整填写并选择所在工作站。"

    def clean_employer(self, cleaned_data):
        name = (cleaned_data.get("unit_name") or "").strip()
        workstation = cleaned_data.get("workstation")
        if not name:
            if "unit_name" not in self.errors:  # "required" has already said it
                self.add_error("unit_name", "请填写工作单位。")
            return cleaned_data
        unit = Unit.objects.select_related("workstation").filter(name=name).first()
        cleaned_data["unit"] = unit
        cleaned_data["unit_name"] = name
        if unit is None and workstation is None:
            self.add_error("workstation", "该单位不在名录中，请选择单位所在的网格化工会工作站。")
        return cleaned_data


class MobileField(forms.CharField):
    """A mobile number; full-width digits (１３８…, typed with a Chinese input method) count.

    NFKC turns them into ASCII digits, as Django's login form does with user names;
    ``mobile_validator`` then accepts ASCII digits only.
    """

    def to_python(self, value):
        value = super().to_python(value)
        return unicodedata.normalize("NFKC", value) if value else value


class RegistrationForm(CleanTextMixin, EmployerFieldsMixin, forms.Form):
    name = forms.CharField(
        label="真实姓名", max_length=50, help_text="请与身份证一致，便于入会审核。"
    )
    mobile = MobileField(
        label="手机号码",
        max_length=11,
        validators=[mobile_validator],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
    )
    username = forms.RegexField(
        label="用户名",
        max_length=30,
        regex=r"^[A-Za-z0-9_.-]{3,30}$",
        error_messages={"invalid": "用户名为 3–30 位字母、数字或 _ . -。"},
        help_text="登录时使用，也可以直接用手机号码登录。",
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    unit_name = forms.CharField(
        label="工作单位",
        max_length=150,
        widget=unit_name_widget(),
        help_text=EmployerFieldsMixin.unit_help,
    )
    workstation = forms.ModelChoiceField(
        label="所在工作站（单位不在名录中时必选）",
        queryset=Workstation.objects.active().select_related("street"),
        required=False,
        empty_label="— 请选择 —",
    )
    password1 = forms.CharField(
        label="密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="至少 8 位，不能全是数字，不能过于常见。",
    )
    password2 = forms.CharField(
        label="确认密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean_username(self):
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("该用户名已被使用，请换一个。")
        return username

    def clean_mobile(self):
        mobile = self.cleaned_data["mobile"]
        User = get_user_model()
        if (
            Member.objects.filter(mobile=mobile).exists()
            or User.objects.filter(username=mobile).exists()
        ):
            raise forms.ValidationError("该手机号码已注册。如忘记密码，请联系所属工作站。")
        return mobile

    def clean(self):
        cleaned_data = super().clean()
        cleaned_data = self.clean_employer(cleaned_data)
        password1, password2 = cleaned_data.get("password1"), cleaned_data.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "两次输入的密码不一致。")
        if password1:
            probe = get_user_model()(
                username=cleaned_data.get("username", ""), name=cleaned_data.get("name", "")
            )
            try:
                password_validation.validate_password(password1, probe)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned_data


class LoginForm(CleanTextMixin, BoundedUsernameMixin, AuthenticationForm):
    """Log in with the username or the registered mobile number."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "用户名或手机号码"

    def clean(self):
        username = self.cleaned_data.get("username")
        if username and username.isdigit():
            member = Member.objects.select_related("user").filter(mobile=username).first()
            if member is not None:
                self.cleaned_data["username"] = member.user.username
        return super().clean()


class MembershipApplicationForm(CleanTextMixin, forms.Form):
    statement = forms.CharField(
        label="申请说明（可不填）",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="例如：自愿加入工会，遵守工会章程，按期交纳会费。",
    )


class ChangeEmployerForm(CleanTextMixin, EmployerFieldsMixin, forms.Form):
    unit_name = forms.CharField(
        label="新工作单位",
        max_length=150,
        widget=unit_name_widget(),
        help_text=EmployerFieldsMixin.unit_help,
    )
    workstation = forms.ModelChoiceField(
        label="所在工作站（单位不在名录中时必选）",
        queryset=Workstation.objects.active().select_related("street"),
        required=False,
        empty_label="— 请选择 —",
    )

    def clean(self):
        return self.clean_employer(super().clean())


class RejectionForm(forms.Form):
    reason = forms.CharField(
        label="驳回理由（职工可见）",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class MemberAdminChangeForm(forms.ModelForm):
    class Meta:
        model = Member
        fields = ["mobile", "id_number", "unit", "unit_name", "workstation"]

    def clean(self):
        cleaned_data = super().clean()
        unit = cleaned_data.get("unit")
        if unit is not None:
            cleaned_data["unit_name"] = unit.name
            cleaned_data["workstation"] = unit.workstation
            self.instance.unit_name = unit.name
            self.instance.workstation = unit.workstation
        return cleaned_data


class MemberAdminAddForm(forms.ModelForm):
    name = forms.CharField(label="姓名", max_length=50)

    class Meta:
        model = Member
        fields = ["mobile", "unit", "unit_name", "workstation"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit_name"].required = False
        self.fields["workstation"].required = False

    def clean_mobile(self):
        mobile = self.cleaned_data["mobile"]
        if get_user_model().objects.filter(username=mobile).exists():
            raise forms.ValidationError("该手机号码已注册。")
        return mobile

    def clean(self):
        cleaned_data = super().clean()
        unit = cleaned_data.get("unit")
        if unit is None and not (cleaned_data.get("unit_name") and cleaned_data.get("workstation")):
            raise forms.ValidationError("请选择名录中的单位，或填写单位名称并选择所在工作站。")
        return cleaned_data

    def _post_clean(self):
        # The instance is built by the service in save_model, not validated here.
        pass
