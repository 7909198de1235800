from django.urls import path

from telcodesk.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.password_change_view, name="password_change"),
    path("preferences/", views.preferences_view, name="preferences"),
    path("language/", views.language_switch_view, name="language"),
]
