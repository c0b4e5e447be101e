"""Public pages: configuration and one delegation each."""

from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import render
from django.views.generic import DetailView, FormView, ListView, TemplateView

from . import search, services
from .forms import NarratorRequestForm, SearchForm
from .models import Segment, Testimony


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


class VisibleTestimoniesMixin:
    def get_queryset(self):
        return Testimony.objects.visible_to(self.request.user).select_related(
            "narrator"
        )


class HomeView(VisibleTestimoniesMixin, ListView):
    template_name = "testimonies/home.html"
    context_object_name = "testimonies"
    paginate_by = 50


class SearchView(TemplateView):
    template_name = "testimonies/search.html"

    def get_context_data(self, **kwargs):
        form = SearchForm(self.request.GET)
        results = search.search(
            form.query(),
            Testimony.objects.visible_to(self.request.user),
            form.filters(),
            form.page(),
        )
        return super().get_context_data(form=form, results=results, **kwargs)


class TestimonyDetailView(VisibleTestimoniesMixin, DetailView):
    template_name = "testimonies/detail.html"
    context_object_name = "testimony"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .prefetch_related(
                "themes",
                "narrator__job_types",
                Prefetch(
                    "segments",
                    queryset=Segment.objects.only(
                        "testimony_id",
                        "position",
                        "start",
                        "end",
                        "speaker",
                        "public_text",
                    ),
                ),
            )
        )


class NarratorRequestView(FormView):
    template_name = "testimonies/request.html"
    form_class = NarratorRequestForm

    def form_valid(self, form):
        services.narrator_request_submit(**form.cleaned_data)
        # The same answer whatever the code, so that nobody can probe codes.
        return render(self.request, "testimonies/request_received.html")
