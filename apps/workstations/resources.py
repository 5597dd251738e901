"""Import and export of employers (CSV/XLSX), limited to the cadre's jurisdiction."""

from import_export import resources

from .models import Unit


class UnitResource(resources.ModelResource):
    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user

    class Meta:
        model = Unit
        fields = ["id", "name", "industry", "headcount", "has_union", "union_name"]
