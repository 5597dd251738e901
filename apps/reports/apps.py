from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "apps.reports"
    verbose_name = "统计报表"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .context_processors import on_login

        user_logged_in.connect(on_login, dispatch_uid="reports.remember_report_access")
