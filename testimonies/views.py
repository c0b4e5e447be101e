"""Public pages: configuration and one delegation each (reads in ``selectors``)."""

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views.generic import FormView, TemplateView, View
from django_ratelimit.decorators import ratelimit

from . import captions, search, selectors, services
from .forms import NarratorRequestForm, SearchForm, page_number
from .media.serve import public_media_response


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


class HomeView(TemplateView):
    template_name = "testimonies/home.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(**selectors.home(self.request.user), **kwargs)


class SearchView(TemplateView):
    template_name = "testimonies/search.html"

    def get_context_data(self, **kwargs):
        form = SearchForm(self.request.GET)
        results = search.search(
            form.query(),
            selectors.visible(self.request.user),
            form.filters(),
            form.page(),
        )
        return super().get_context_data(form=form, results=results, **kwargs)


class TestimonyDetailView(TemplateView):
    template_name = "testimonies/detail.html"

    def get_context_data(self, **kwargs):
        page = selectors.testimony_page(self.request.user, kwargs["slug"])
        return super().get_context_data(page=page, testimony=page.testimony, **kwargs)


class CaptionsView(TemplateView):
    """The transcript as WebVTT, from public text, to whoever may see it."""

    def get(self, request, slug):
        page = selectors.testimony_page(request.user, slug)
        return HttpResponse(
            captions.webvtt(page.segments), content_type="text/vtt; charset=utf-8"
        )


class TranscriptTextView(TemplateView):
    """The transcript as plain text, from public text, to whoever may see it."""

    def get(self, request, slug):
        page = selectors.testimony_page(request.user, slug)
        address = request.build_absolute_uri(page.testimony.get_absolute_url())
        response = HttpResponse(
            captions.plain_text(page.testimony.title, address, page.segments),
            content_type="text/plain; charset=utf-8",
        )
        response["Content-Disposition"] = f'inline; filename="{slug}.txt"'
        return response


class MediaView(View):
    """The public rendition of a testimony, to whoever may hear it: a signed
    URL of the object store, or a stream with Range support."""

    def get(self, request, slug):
        return public_media_response(request, slug)


class ListingView(TemplateView):
    """A page of a theme, a job type, an episode or a narrator."""

    selector = None

    def get_context_data(self, **kwargs):
        found = type(self).selector(
            self.request.user, page=page_number(self.request.GET), **kwargs
        )
        # What the selector found names the page; the address's own words
        # (a slug) give way to it.
        return {**super().get_context_data(**kwargs), **found}


class ThemeView(ListingView):
    template_name = "testimonies/theme.html"
    selector = staticmethod(selectors.theme_page)


class JobTypeView(ListingView):
    template_name = "testimonies/job_type.html"
    selector = staticmethod(selectors.job_type_page)


class EpisodeView(ListingView):
    template_name = "testimonies/episode.html"
    selector = staticmethod(selectors.episode_page)


class NarratorView(ListingView):
    template_name = "testimonies/narrator.html"
    selector = staticmethod(selectors.narrator_page)


def request_rate(group, request) -> str:
    return settings.ARCHIVE_REQUEST_RATE


@method_decorator(
    ratelimit(key="ip", rate=request_rate, method="POST", block=False), name="post"
)
class NarratorRequestView(FormView):
    """A narrator's request by their reference code; the answer is the same
    whatever the code, and a client that sends too many is asked to wait, so
    that codes cannot be probed."""

    template_name = "testimonies/request.html"
    form_class = NarratorRequestForm

    def post(self, request, *args, **kwargs):
        if getattr(request, "limited", False):
            return render(request, "testimonies/request_limited.html", status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        services.narrator_request_submit(**form.cleaned_data)
        return render(self.request, "testimonies/request_received.html")
