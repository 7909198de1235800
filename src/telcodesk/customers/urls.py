from django.urls import path

from telcodesk.customers import views

app_name = "customers"

urlpatterns = [
    path("", views.home_view, name="home"),
    path("customers/", views.customer_list_view, name="list"),
    path("customers/new/", views.customer_create_view, name="create"),
    path("customers/<int:customer_id>/", views.customer_detail_view, name="detail"),
    path("customers/<int:customer_id>/edit/", views.customer_edit_view, name="edit"),
    path("customers/<int:customer_id>/phones/", views.phone_add_view, name="phone_add"),
    path("customers/<int:customer_id>/emails/", views.email_add_view, name="email_add"),
    path(
        "customers/<int:customer_id>/contacts/<int:contact_id>/confirm/",
        views.contact_confirm_view,
        name="contact_confirm",
    ),
    path(
        "customers/<int:customer_id>/contacts/<int:contact_id>/delete/",
        views.contact_delete_view,
        name="contact_delete",
    ),
    path("customers/<int:customer_id>/documents/", views.document_add_view, name="document_add"),
    path("customers/<int:customer_id>/addresses/", views.address_add_view, name="address_add"),
    path("customers/<int:customer_id>/<slug:tab>/", views.customer_detail_view, name="detail_tab"),
]
