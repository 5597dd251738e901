import pytest

from apps.needs import services
from apps.needs.models import Need, ServiceArea


@pytest.fixture
def make_need(reference):
    """Submit a need through the service, as a worker would."""

    def make(member, **overrides):
        fields = {
            "kind": Need.Kind.COMPLAINT,
            "area": ServiceArea.objects.get(code="rights"),
            "rights_type": Need.RightsType.LABOUR_ECONOMIC,
            "title": "公司拖欠三个月工资",
            "description": "车间二十多名职工的工资从八月起一直没有发放。",
        }
        fields.update(overrides)
        return services.need_submit(member=member, **fields)

    return make


@pytest.fixture
def need(make_need, worker):
    """Alice's complaint, waiting at her workstation (ws_a1)."""
    return make_need(worker)
