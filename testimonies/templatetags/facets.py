"""What the search page shows of the facets, read from their declarations."""

from django import template
from django.template.defaulttags import querystring

register = template.Library()


@register.simple_tag(takes_context=True)
def facet_querystring(context, facet, value) -> str:
    """This page's query string narrowed to one value of a facet, from page one."""
    return querystring(context, **{facet.parameter: value, "page": None})
