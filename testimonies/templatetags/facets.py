"""What the search page shows of the facets, read from their declarations."""

from django import template
from django.template.defaulttags import querystring

register = template.Library()


@register.simple_tag(takes_context=True)
def facet_querystring(context, facet, value) -> str:
    """This page's query string narrowed to one value of a facet, from page one."""
    return querystring(context, **{facet.parameter: value, "page": None})


@register.simple_tag(takes_context=True)
def active_filters(context, results) -> list[dict]:
    """The filters chosen on this page, each with its label and the address of
    this page without it (from page one)."""
    request = context["request"]
    labels = {
        (facet.name, str(value.value)): value.label
        for facet, values in results.by_facet
        for value in values
    }
    chosen = []
    for facet, _values in results.by_facet:
        if not facet.parameter:
            continue
        given = request.GET.getlist(facet.parameter)
        for value in facet.parse(given) or ():
            kept = request.GET.copy()
            kept.setlist(
                facet.parameter, [other for other in given if other != str(value)]
            )
            kept.pop("page", None)
            chosen.append(
                {
                    "facet": facet.label,
                    "label": labels.get((facet.name, str(value)), str(value)),
                    "url": "?" + kept.urlencode(),
                }
            )
    return chosen
