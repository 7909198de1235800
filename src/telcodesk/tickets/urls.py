from django.urls import path

from telcodesk.tickets import views

app_name = "tickets"

urlpatterns = [
    path("", views.queue_view, name="queue"),
    path("new/", views.ticket_new_view, name="new"),
    path("sla-policies/", views.sla_policies_view, name="sla_policies"),
    path("customer/<int:customer_id>/", views.customer_tickets_view, name="customer_tickets"),
    path("<int:ticket_id>/", views.ticket_detail_view, name="detail"),
    path("<int:ticket_id>/status/", views.ticket_status_view, name="status"),
    path("<int:ticket_id>/take/", views.ticket_take_view, name="take"),
    path("<int:ticket_id>/assign/", views.ticket_assign_view, name="assign"),
    path("<int:ticket_id>/reply/", views.ticket_reply_view, name="reply"),
    path(
        "<int:ticket_id>/replies/<int:comment_id>/resend/",
        views.ticket_reply_resend_view,
        name="reply_resend",
    ),
    path("<int:ticket_id>/note/", views.ticket_note_view, name="note"),
    path("<int:ticket_id>/answers/", views.ticket_answers_view, name="answers"),
    path("<int:ticket_id>/charges/", views.ticket_charge_add_view, name="charge_add"),
    path(
        "<int:ticket_id>/charges/<int:charge_id>/<str:decision>/",
        views.ticket_charge_decide_view,
        name="charge_decide",
    ),
    path("<int:ticket_id>/attachments/", views.ticket_attachment_add_view, name="attachment_add"),
    path(
        "<int:ticket_id>/attachments/<int:attachment_id>/",
        views.attachment_download_view,
        name="attachment",
    ),
]
