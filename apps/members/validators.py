from django.core.validators import RegexValidator

# [0-9], not \d: in Python \d also matches the digits of other scripts (٣, ３, …).
mobile_validator = RegexValidator(
    regex=r"^1[3-9][0-9]{9}$",
    message="请输入 11 位中国大陆手机号码，例如 13812345678。",
    code="invalid_mobile",
)

id_number_validator = RegexValidator(
    regex=r"^[0-9]{17}[0-9Xx]$",
    message="身份证号码应为 18 位，最后一位可以是数字或 X。",
    code="invalid_id_number",
)
