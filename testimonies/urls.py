from django.urls import path

from . import views

app_name = "testimonies"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("testimonies/", views.SearchView.as_view(), name="search"),
    path(
        "testimonies/<slug:slug>/", views.TestimonyDetailView.as_view(), name="detail"
    ),
    path("requests/", views.NarratorRequestView.as_view(), name="request"),
]
