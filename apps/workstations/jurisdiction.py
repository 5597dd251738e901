"""Jurisdiction scoping: the one rule for which records a cadre may see and act on.

A cadre posted to a workstation sees that workstation's records; at a street,
every workstation of the street; at the district, everything in it. Superusers
see everything. Every view, admin class, filter, export and report scopes its
queryset through ``Jurisdiction`` — never by re-writing the rule.

Each scoped model declares ``JURISDICTION_LOOKUPS``: the lookup from the model
to its district, street and workstation ("" meaning the model itself).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.db.models import Q

_CACHE_ATTR = "_jurisdiction_cache"


@dataclass(frozen=True)
class Jurisdiction:
    everything: bool = False
    district_ids: frozenset[int] = frozenset()
    street_ids: frozenset[int] = frozenset()
    workstation_ids: frozenset[int] = frozenset()

    @classmethod
    def for_user(cls, user, role: str = "cadre") -> Jurisdiction:
        """The union of the user's active posts in ``role``; cached on the user object."""
        if user is None or not user.is_authenticated or not user.is_active:
            return cls()
        if user.is_superuser:
            return cls(everything=True)
        cache = getattr(user, _CACHE_ATTR, None)
        if cache is None:
            cache = {}
            setattr(user, _CACHE_ATTR, cache)
        if not cache:
            # Every role's posts in one query: a page asking as cadre and as reviewer
            # (the admin's sidebar does) pays for one look-up, not one per role.
            from .models import CadreAssignment

            posts = CadreAssignment.objects.active().filter(user=user)
            rows = list(posts.values_list("role", "district_id", "street_id", "workstation_id"))
            for post_role in {r for r, _, _, _ in rows} | {role}:
                mine = [row for row in rows if row[0] == post_role]
                cache[post_role] = cls(
                    district_ids=frozenset(d for _, d, _, _ in mine if d),
                    street_ids=frozenset(s for _, _, s, _ in mine if s),
                    workstation_ids=frozenset(w for _, _, _, w in mine if w),
                )
        return cache.get(role, cls())

    @classmethod
    def forget(cls, user) -> None:
        """Drop the cached jurisdiction after the user's posts change."""
        if hasattr(user, _CACHE_ATTR):
            delattr(user, _CACHE_ATTR)

    @property
    def is_empty(self) -> bool:
        return not (self.everything or self.district_ids or self.street_ids or self.workstation_ids)

    def q_for(self, model: type[models.Model]) -> Q:
        """A Q object selecting the rows of ``model`` inside this jurisdiction."""
        if self.everything:
            return Q()
        lookups = model.JURISDICTION_LOOKUPS
        q = Q(pk__in=[])  # matches nothing: an empty jurisdiction sees nothing
        for level, ids in (
            ("district", self.district_ids),
            ("street", self.street_ids),
            ("workstation", self.workstation_ids),
        ):
            if ids:
                lookup = lookups[level]
                q |= Q(**{f"{lookup}__in" if lookup else "pk__in": sorted(ids)})
        return q

    def needs_distinct(self, model: type[models.Model]) -> bool:
        """Lookups that run through a reverse relation can repeat rows."""
        if self.everything:
            return False
        lookups = model.JURISDICTION_LOOKUPS
        levels = {
            "district": self.district_ids,
            "street": self.street_ids,
            "workstation": self.workstation_ids,
        }
        return any(
            ids and _through_reverse_relation(model, lookups[level])
            for level, ids in levels.items()
        )

    def covers_workstation(self, workstation) -> bool:
        """Whether a given workstation (object) lies inside this jurisdiction."""
        if workstation is None:
            return self.everything
        if self.everything:
            return True
        return (
            workstation.pk in self.workstation_ids
            or workstation.street_id in self.street_ids
            or workstation.street.district_id in self.district_ids
        )


def _through_reverse_relation(model, lookup: str) -> bool:
    opts = model._meta
    for part in lookup.split("__") if lookup else []:
        field = opts.get_field(part)
        if field.one_to_many or field.many_to_many:
            return True
        opts = field.related_model._meta
    return False


class JurisdictionQuerySet(models.QuerySet):
    """Adds ``within(jurisdiction)`` and ``within_jurisdiction_of(user)``."""

    def within(self, jurisdiction: Jurisdiction):
        qs = self.filter(jurisdiction.q_for(self.model))
        if jurisdiction.needs_distinct(self.model):
            qs = qs.distinct()
        return qs

    def within_jurisdiction_of(self, user, role: str = "cadre"):
        return self.within(Jurisdiction.for_user(user, role))
