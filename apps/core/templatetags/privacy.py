from django import template

from apps.core import privacy

register = template.Library()

register.filter("mask_mobile", privacy.mask_mobile)
register.filter("mask_id_number", privacy.mask_id_number)
register.filter("mask_name", privacy.mask_name)
