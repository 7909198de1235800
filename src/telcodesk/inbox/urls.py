from django.urls import path

from telcodesk.inbox import views

app_name = "inbox"

urlpatterns = [
    path("", views.inbox_view, name="list"),
    path("list/", views.list_partial, name="list_partial"),
    path("<int:conversation_id>/", views.thread_view, name="thread"),
    path("<int:conversation_id>/messages/", views.messages_partial, name="messages"),
    path("<int:conversation_id>/composer/", views.composer_partial, name="composer"),
    path("<int:conversation_id>/send/", views.send_view, name="send"),
    path("<int:conversation_id>/template/", views.template_send_view, name="template"),
    path("<int:conversation_id>/upload/", views.media_send_view, name="upload"),
    path("<int:conversation_id>/buttons/", views.buttons_send_view, name="buttons"),
    path("<int:conversation_id>/list/", views.list_send_view, name="list_send"),
    path("<int:conversation_id>/media/<int:message_id>/", views.media_view, name="media"),
    path(
        "<int:conversation_id>/email/<int:message_id>/files/<int:index>/",
        views.email_attachment_view,
        name="email_attachment",
    ),
    path("<int:conversation_id>/assign/", views.assign_view, name="assign"),
    path("<int:conversation_id>/take/", views.take_view, name="take"),
    path("<int:conversation_id>/status/", views.status_view, name="status"),
    path("<int:conversation_id>/lead/", views.lead_create_view, name="lead_create"),
]
