from django.urls import path

from telcodesk.playbooks import views

app_name = "playbooks"

urlpatterns = [
    path("side-panel/", views.side_panel_view, name="side_panel"),
    path("start/", views.start_view, name="start"),
    path("adherence/", views.adherence_view, name="adherence"),
    path("runs/<int:run_id>/", views.run_view, name="run"),
    path("runs/<int:run_id>/panel/", views.panel_view, name="panel"),
    path("runs/<int:run_id>/answer/", views.answer_view, name="answer"),
    path("runs/<int:run_id>/check/", views.check_view, name="check"),
    path("runs/<int:run_id>/action/", views.action_view, name="action"),
    path("runs/<int:run_id>/pick/", views.pick_view, name="pick"),
    path("runs/<int:run_id>/complete/", views.complete_view, name="complete"),
    path("runs/<int:run_id>/finish/", views.finish_view, name="finish"),
    path("runs/<int:run_id>/skip/", views.skip_view, name="skip"),
    path("runs/<int:run_id>/abandon/", views.abandon_view, name="abandon"),
]
