"""Template filters of the public site."""

from django import template
from django.conf import settings
from django.urls import reverse, translate_url
from django.utils import translation

from ..timecodes import timecode

register = template.Library()


register.filter("timecode", timecode)


@register.simple_tag(takes_context=True)
def language_alternates(context) -> list[dict]:
    """This page in each language of the site: its code, name and address."""
    request = context["request"]
    current = translation.get_language()
    path = request.get_full_path()
    found = []
    for code, name in settings.LANGUAGES:
        with translation.override(code):
            label = str(name)
        found.append(
            {
                "code": code,
                "name": label,
                "url": request.build_absolute_uri(translate_url(path, code)),
                "current": code == current,
            }
        )
    return found


@register.simple_tag(takes_context=True)
def permanent_url(context, obj) -> str:
    """The address that cites ``obj``: in the archive's default language, which
    has no prefix, so that it stays the same whatever language it was read in."""
    with translation.override(settings.LANGUAGE_CODE):
        path = obj.get_absolute_url()
    return context["request"].build_absolute_uri(path)


@register.filter
def episode_url(value: str) -> str:
    """The page of an episode named as the search names it: ``series/episode``."""
    series, _sep, episode = str(value).partition("/")
    return reverse("testimonies:episode", kwargs={"series": series, "episode": episode})


@register.filter
def language_label(code: str) -> str:
    """A language's name in that language (``français``), or its code if unknown."""
    try:
        return translation.get_language_info(code)["name_local"]
    except KeyError:
        return code
