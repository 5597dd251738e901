from django.urls import reverse

from apps.workstations.models import Unit


def test_home_shows_the_network(client, unit_a1, ws_b1):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="zh-Hans">' in body
    assert "跳到主要内容" in body
    assert 'id="main"' in body


def test_bootstrap_is_served_by_the_project(client, db):
    body = client.get("/").content.decode()
    assert "/static/vendor/bootstrap/css/bootstrap.min.css" in body
    assert "cdn" not in body.lower()


def test_workstation_finder_lists_by_street_with_cadres_and_unit_counts(
    client, cadre, unit_a1, unit_b1, ws_a2
):
    body = client.get(reverse("workstations:workstation-list")).content.decode()
    assert "东湖街道" in body and "高新开发区" in body
    assert "开发区" in body
    assert "李站长" in body
    # The whole district's employers are counted, not listed (thousands in a real one).
    assert "覆盖单位 1 家。" in body and "覆盖单位 0 家。" in body
    assert unit_a1.name not in body and unit_b1.name not in body


def test_workstation_finder_lists_a_streets_employers(client, street_a, unit_a1, unit_b1):
    url = reverse("workstations:workstation-list")
    body = client.get(url, {"street": street_a.pk}).content.decode()
    assert "覆盖单位（1 家）" in body
    assert unit_a1.name in body and unit_b1.name not in body


def test_workstation_finder_filters_by_street(client, street_a, street_b, unit_a1, unit_b1):
    url = reverse("workstations:workstation-list")
    body = client.get(url, {"street": street_b.pk}).content.decode()
    assert "高新园区网格工作站" in body
    assert "东湖第一网格工作站" not in body


def test_workstation_finder_search_by_unit(client, unit_a1, unit_b1, ownerships):
    Unit.objects.create(
        workstation=unit_b1.workstation, name="高新精密制造公司", ownership=ownerships["state"]
    )
    body = client.get(reverse("workstations:workstation-list"), {"q": "电子"}).content.decode()
    assert "高新园区网格工作站" in body
    assert "东湖第一网格工作站" not in body
    # Only the employers that match are listed, with the workstation's full count.
    assert "覆盖单位 2 家，其中名称含“电子”的 1 家" in body
    assert unit_b1.name in body and "高新精密制造公司" not in body


def test_workstation_finder_ignores_bad_filter_values(client, unit_a1):
    response = client.get(reverse("workstations:workstation-list"), {"street": "abc"})
    assert response.status_code == 200


def test_workstation_finder_query_count_is_fixed(
    client, ws_a1, ws_a2, ws_b1, cadre, other_cadre, unit_a1, unit_b1, django_assert_num_queries
):
    # workstations with street and unit counts, their cadres (prefetch), streets
    with django_assert_num_queries(3):
        client.get(reverse("workstations:workstation-list"))
    # a street's: the street chosen (validation), the same three, and its units (prefetch)
    with django_assert_num_queries(5):
        client.get(reverse("workstations:workstation-list"), {"street": ws_a1.street_id})
