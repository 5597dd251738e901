"""Import and export of workers (CSV/XLSX), limited to the cadre's jurisdiction."""

from import_export import resources

from .models import Member


class MemberResource(resources.ModelResource):
    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user

    class Meta:
        model = Member
        fields = ["id", "mobile", "unit_name", "status", "member_number"]
