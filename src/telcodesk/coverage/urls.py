from django.urls import path

from telcodesk.coverage import views

app_name = "coverage"

urlpatterns = [
    path("", views.coverage_index_view, name="index"),
    path("check/", views.coverage_check_view, name="check"),
    path("leads/<int:lead_id>/check/", views.lead_coverage_check_view, name="lead_check"),
]
