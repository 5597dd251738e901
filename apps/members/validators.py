from django.core.validators import RegexValidator

mobile_validator = RegexValidator(
    regex=r"^1[3-9]\d{9}$",
    message="请输入 11 位中国大陆手机号码，例如 13812345678。",
    code="invalid_mobile",
)

id_number_validator = RegexValidator(
    regex=r"^\d{17}[\dXx]$",
    message="身份证号码应为 18 位，最后一位可以是数字或 X。",
    code="invalid_id_number",
)
