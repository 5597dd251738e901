from django.db import models


class WorkdayOverride(models.Model):
    """A day the district declares a holiday or a make-up working day (调休).

    The statutory calendar comes from the ``chinese_calendar`` package; rows
    here win over it, so a year the package does not know yet (the State
    Council publishes each year's holidays late in the year before) can be
    entered by hand.
    """

    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField("是工作日", help_text="勾选：调休上班；不勾选：放假")
    note = models.CharField("说明", max_length=50, blank=True, help_text="例如：春节、国庆调休")

    class Meta:
        verbose_name = "节假日调整"
        verbose_name_plural = "节假日调整"
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {'上班' if self.is_workday else '放假'} {self.note}".strip()
