from django.apps import AppConfig


class WorkstationsConfig(AppConfig):
    name = "apps.workstations"
    verbose_name = "组织与网格"
