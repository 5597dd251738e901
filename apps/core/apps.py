from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    verbose_name = "站点"

    def ready(self):
        from django.contrib import admin
        from django.db.backends.signals import connection_created

        from . import admin_site  # noqa: F401  (titles the admin in Chinese)
        from .audit import register_audited_models
        from .db import register_sqlite_functions

        register_audited_models()

        admin.site.enable_nav_sidebar = True
        connection_created.connect(
            register_sqlite_functions, dispatch_uid="core.register_sqlite_functions"
        )
