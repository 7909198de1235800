from django.urls import path

from telcodesk.nps import views

app_name = "nps"

urlpatterns = [
    path("", views.dashboard_view, name="dashboard"),
]
