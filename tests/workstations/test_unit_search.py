"""/workstations/units/?q=: employer suggestions for the registration form."""

import pytest
from django.urls import reverse

from apps.workstations.models import Unit
from apps.workstations.views import UNIT_SEARCH_LIMIT

URL = reverse("workstations:unit-search")


def names(client, q):
    response = client.get(URL, {"q": q})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()["results"]


@pytest.fixture
def directory(ws_a1, ownerships):
    def unit(name):
        return Unit.objects.create(
            workstation=ws_a1, name=name, ownership=ownerships["private"], industry="制造业"
        )

    return [
        unit(name)
        for name in ["东湖机械有限公司", "湖滨东湖超市", "西城物流有限公司", "东湖纺织厂"]
    ]


def test_names_containing_the_text_those_starting_with_it_first(client, directory):
    found = names(client, "东湖")
    # The order among names starting alike follows the database's collation.
    assert set(found[:2]) == {"东湖纺织厂", "东湖机械有限公司"}
    assert found[2:] == ["湖滨东湖超市"]


def test_anyone_may_ask_and_empty_or_blank_text_finds_nothing(client, directory):
    assert names(client, "") == []
    assert names(client, "   ") == []
    assert names(client, "不存在的单位") == []


def test_at_most_twenty_names_in_a_fixed_number_of_queries(
    client, ws_a1, ownerships, django_assert_num_queries
):
    Unit.objects.bulk_create(
        Unit(
            workstation=ws_a1,
            name=f"东湖第{i:03d}公司",
            ownership=ownerships["state"],
            industry="x",
        )
        for i in range(60)
    )
    with django_assert_num_queries(1):
        found = names(client, "东湖第")
    assert len(found) == UNIT_SEARCH_LIMIT == 20
    assert found[0] == "东湖第000公司"


def test_long_text_is_cut_and_only_get_is_answered(client, directory):
    assert names(client, "东湖" * 200) == []
    assert client.post(URL, {"q": "东湖"}).status_code == 405
