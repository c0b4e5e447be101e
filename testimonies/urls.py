from django.urls import path

from . import views

app_name = "testimonies"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path(
        "testimonies/<slug:slug>/", views.TestimonyDetailView.as_view(), name="detail"
    ),
    path("requests/", views.NarratorRequestView.as_view(), name="request"),
]
