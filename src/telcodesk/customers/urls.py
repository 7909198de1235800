from django.urls import path

from telcodesk.customers import views

app_name = "customers"

urlpatterns = [
    path("", views.home_view, name="home"),
]
