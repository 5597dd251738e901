from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "apps.projects"
    verbose_name = "服务项目"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .context_processors import on_login

        user_logged_in.connect(on_login, dispatch_uid="projects.remember_reviewer_post")
