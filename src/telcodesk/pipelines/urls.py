from django.urls import path

from telcodesk.pipelines import views

app_name = "pipelines"

urlpatterns = [
    path("", views.pipeline_picker_view, name="picker"),
    path("queue/", views.queue_view, name="queue"),
    path("notifications/read/", views.notifications_read_view, name="notifications_read"),
    path("<int:pipeline_id>/board/", views.board_view, name="board"),
    path("<int:pipeline_id>/list/", views.lead_list_view, name="list"),
    path("<int:pipeline_id>/new/", views.lead_new_view, name="new"),
    path("task/<int:task_id>/done/", views.lead_task_done_view, name="task_done"),
    path("lead/<int:lead_id>/", views.lead_detail_view, name="lead"),
    path("lead/<int:lead_id>/move/", views.lead_move_view, name="move"),
    path("lead/<int:lead_id>/data/", views.lead_data_view, name="data"),
    path("lead/<int:lead_id>/lose/", views.lead_lose_view, name="lose"),
    path("lead/<int:lead_id>/win/", views.lead_win_view, name="win"),
    path("lead/<int:lead_id>/take/", views.lead_take_view, name="take"),
    path("lead/<int:lead_id>/assign/", views.lead_assign_view, name="assign"),
]
