from django.urls import path

from telcodesk.visits import views

app_name = "visits"

urlpatterns = [
    path("", views.board_view, name="board"),
    path("ticket/", views.ticket_visit_view, name="ticket_visit"),
    path("ticket/<int:ticket_id>/book/", views.visit_book_view, name="book"),
    path("<int:visit_id>/reschedule/", views.visit_reschedule_view, name="reschedule"),
    path("<int:visit_id>/cancel/", views.visit_cancel_view, name="cancel"),
    path("<int:visit_id>/complete/", views.visit_complete_view, name="complete"),
    path("<int:visit_id>/work-order/", views.work_order_view, name="work_order"),
]
