from django.apps import AppConfig


class NeedsConfig(AppConfig):
    name = "apps.needs"
    verbose_name = "职工诉求"
