from django.urls import path
from django.views.generic import TemplateView

from . import views

app_name = "testimonies"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("testimonies/", views.SearchView.as_view(), name="search"),
    path(
        "testimonies/<slug:slug>/", views.TestimonyDetailView.as_view(), name="detail"
    ),
    path("testimonies/<slug:slug>/media", views.MediaView.as_view(), name="media"),
    path(
        "testimonies/<slug:slug>/captions.vtt",
        views.CaptionsView.as_view(),
        name="captions",
    ),
    path(
        "testimonies/<slug:slug>/transcript.txt",
        views.TranscriptTextView.as_view(),
        name="transcript",
    ),
    path("themes/<slug:slug>/", views.ThemeView.as_view(), name="theme"),
    path("job-types/<slug:slug>/", views.JobTypeView.as_view(), name="job_type"),
    path(
        "episodes/<slug:series>/<slug:episode>/",
        views.EpisodeView.as_view(),
        name="episode",
    ),
    path("narrators/<slug:slug>/", views.NarratorView.as_view(), name="narrator"),
    path("requests/", views.NarratorRequestView.as_view(), name="request"),
    path(
        "about/",
        TemplateView.as_view(template_name="testimonies/about.html"),
        name="about",
    ),
    path(
        "ethics/",
        TemplateView.as_view(template_name="testimonies/ethics.html"),
        name="ethics",
    ),
    path(
        "consent/",
        TemplateView.as_view(template_name="testimonies/consent.html"),
        name="consent",
    ),
]
