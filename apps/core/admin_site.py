"""Titles and login form of the cadres' admin."""

from django.conf import settings
from django.contrib import admin

from .forms import AdminLoginForm

admin.site.site_header = f"{settings.SITE_NAME} · 工会干部工作台"
admin.site.site_title = f"{settings.SITE_NAME}工作台"
admin.site.index_title = "网格化工会工作站管理"
admin.site.login_form = AdminLoginForm
