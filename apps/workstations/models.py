"""The organisation: district → street/zone → grid workstation → employer (unit)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .jurisdiction import JurisdictionQuerySet


class OwnershipType(models.Model):
    """所有制 — reference data loaded from seeds/reference/ownership_types.csv."""

    code = models.SlugField("代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=50, unique=True)
    order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "所有制类型"
        verbose_name_plural = "所有制类型"
        ordering = ["order", "id"]

    def __str__(self):
        return self.name


class District(models.Model):
    """县区级工会 — the district (county-level) union."""

    code = models.CharField("行政区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=100)
    union_name = models.CharField("工会名称", max_length=100)
    address = models.CharField("地址", max_length=200, blank=True)
    phone = models.CharField("联系电话", max_length=30, blank=True)

    objects = JurisdictionQuerySet.as_manager()
    JURISDICTION_LOOKUPS = {
        "district": "",
        "street": "streets",
        "workstation": "streets__workstations",
    }

    class Meta:
        verbose_name = "县区工会"
        verbose_name_plural = "县区工会"
        ordering = ["code"]

    def __str__(self):
        return self.union_name or self.name


class Street(models.Model):
    """街道 or 开发区 — a sub-district the district union oversees."""

    class Kind(models.TextChoices):
        STREET = "street", "街道"
        ZONE = "zone", "开发区"

    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="streets", verbose_name="县区"
    )
    code = models.CharField("编码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=10, choices=Kind.choices, default=Kind.STREET)
    order = models.PositiveSmallIntegerField("排序", default=0)

    objects = JurisdictionQuerySet.as_manager()
    JURISDICTION_LOOKUPS = {"district": "district", "street": "", "workstation": "workstations"}

    class Meta:
        verbose_name = "街道（开发区）"
        verbose_name_plural = "街道（开发区）"
        ordering = ["order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="street_unique_name"),
        ]

    def __str__(self):
        return self.name


class WorkstationQuerySet(JurisdictionQuerySet):
    def active(self):
        return self.filter(is_active=True)


class Workstation(models.Model):
    """网格化工会工作站 — the grid; its cadres are the workers' first contact."""

    street = models.ForeignKey(
        Street, on_delete=models.PROTECT, related_name="workstations", verbose_name="街道（开发区）"
    )
    code = models.CharField("编码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=100)
    address = models.CharField("地址", max_length=200)
    hours = models.CharField("服务时间", max_length=100, help_text="例如：工作日 8:30–17:30")
    phone = models.CharField("服务电话", max_length=30, blank=True)
    grid_area = models.CharField("网格范围", max_length=300, blank=True)
    is_active = models.BooleanField("运行中", default=True)

    objects = WorkstationQuerySet.as_manager()
    JURISDICTION_LOOKUPS = {"district": "street__district", "street": "street", "workstation": ""}

    class Meta:
        verbose_name = "网格化工会工作站"
        verbose_name_plural = "网格化工会工作站"
        ordering = ["street__order", "code"]

    def __str__(self):
        return self.name


class UnitQuerySet(JurisdictionQuerySet):
    def search(self, text: str):
        return self.filter(Q(name__icontains=text) | Q(credit_code__iexact=text))


class Unit(models.Model):
    """单位 / 企业 — an employer; it belongs to exactly one grid workstation."""

    workstation = models.ForeignKey(
        Workstation, on_delete=models.PROTECT, related_name="units", verbose_name="所属工作站"
    )
    name = models.CharField("单位名称", max_length=150, unique=True)
    credit_code = models.CharField(
        "统一社会信用代码", max_length=18, blank=True, help_text="18 位，可不填"
    )
    ownership = models.ForeignKey(
        OwnershipType, on_delete=models.PROTECT, related_name="units", verbose_name="所有制"
    )
    industry = models.CharField("行业", max_length=50)
    headcount = models.PositiveIntegerField("职工人数", default=0)
    has_union = models.BooleanField("已建基层工会", default=False)
    union_name = models.CharField("基层工会名称", max_length=150, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)

    objects = UnitQuerySet.as_manager()
    JURISDICTION_LOOKUPS = {
        "district": "workstation__street__district",
        "street": "workstation__street",
        "workstation": "workstation",
    }

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = "单位"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~Q(credit_code=""),
                name="unit_unique_credit_code",
            ),
            models.CheckConstraint(
                condition=Q(has_union=False) | ~Q(union_name=""),
                name="unit_union_has_name",
            ),
        ]

    def __str__(self):
        return self.name


class CadreAssignmentQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class CadreAssignment(models.Model):
    """A staff user's post at one node of the organisation.

    A cadre's jurisdiction is the node and everything below it. A reviewer
    (考核人员) is posted to a district and reads its reports.
    """

    class Role(models.TextChoices):
        CADRE = "cadre", "工会干部"
        REVIEWER = "reviewer", "考核人员"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="assignments",
        verbose_name="用户",
    )
    role = models.CharField("角色", max_length=10, choices=Role.choices, default=Role.CADRE)
    district = models.ForeignKey(
        District, on_delete=models.CASCADE, null=True, blank=True, verbose_name="县区"
    )
    street = models.ForeignKey(
        Street, on_delete=models.CASCADE, null=True, blank=True, verbose_name="街道（开发区）"
    )
    workstation = models.ForeignKey(
        Workstation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="assignments",
        verbose_name="工作站",
    )
    title = models.CharField("职务", max_length=50, help_text="例如：站长、网格员、主席")
    office_phone = models.CharField("办公电话", max_length=30, blank=True)
    is_active = models.BooleanField("在岗", default=True)

    objects = CadreAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = "干部任职"
        verbose_name_plural = "干部任职"
        ordering = ["district", "street", "workstation", "id"]
        constraints = [
            # Exactly one node: the post is at one level of the organisation.
            models.CheckConstraint(
                condition=(
                    Q(district__isnull=False, street__isnull=True, workstation__isnull=True)
                    | Q(district__isnull=True, street__isnull=False, workstation__isnull=True)
                    | Q(district__isnull=True, street__isnull=True, workstation__isnull=False)
                ),
                name="assignment_exactly_one_node",
            ),
            # Reviewers read district-wide reports; they are posted to a district.
            models.CheckConstraint(
                condition=~Q(role="reviewer") | Q(district__isnull=False),
                name="assignment_reviewer_at_district",
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.node} · {self.title}"

    @property
    def node(self):
        return self.workstation or self.street or self.district

    @property
    def level_label(self) -> str:
        if self.workstation_id:
            return "工作站"
        if self.street_id:
            return "街道"
        return "县区"
