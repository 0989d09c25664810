"""The client profile's tabs and actions, under /<business>/clients/<pk>/.

Each tab is served by the app that owns its data; the default profile page
(`clients:detail`) shows the overview with the History tab.
"""

from django.urls import path

from appointments import profile_tabs as appointment_tabs
from audit import views as audit_views
from clients import profile_tabs as client_tabs
from sales import cards_views
from sales import profile_tabs as sale_tabs
from vouchers import profile_tabs as voucher_tabs

app_name = "profile"

urlpatterns = [
    path("history/", client_tabs.history_tab, name="history"),
    path("appointments/", appointment_tabs.appointments_tab, name="appointments"),
    path("sales/", sale_tabs.sales_tab, name="sales"),
    path("notes/", client_tabs.notes_tab, name="notes"),
    path("notes/add/", client_tabs.note_add, name="note-add"),
    path("notes/<int:note_pk>/edit/", client_tabs.note_edit, name="note-edit"),
    path("notes/<int:note_pk>/pin/", client_tabs.note_toggle_pin, name="note-pin"),
    path("notes/<int:note_pk>/delete/", client_tabs.note_remove, name="note-delete"),
    path("documents/add/", client_tabs.document_add, name="document-add"),
    path("documents/<int:document_pk>/", client_tabs.document_download, name="document"),
    path(
        "documents/<int:document_pk>/delete/",
        client_tabs.document_remove,
        name="document-delete",
    ),
    path("feedback/", sale_tabs.feedback_tab, name="feedback"),
    path("tips/", sale_tabs.tips_tab, name="tips"),
    path("cards/", sale_tabs.cards_tab, name="cards"),
    path("cards/add/", cards_views.card_add, name="card-add"),
    path("cards/add/<int:setup_pk>/", cards_views.card_setup, name="card-setup"),
    path(
        "cards/add/<int:setup_pk>/done/",
        cards_views.card_setup_complete,
        name="card-setup-complete",
    ),
    path("cards/<int:card_pk>/default/", cards_views.card_make_default, name="card-default"),
    path("cards/<int:card_pk>/remove/", cards_views.card_delete, name="card-remove"),
    path("vouchers/", voucher_tabs.vouchers_tab, name="vouchers"),
    path("activity/", audit_views.activity_tab, name="activity"),
    path("activity/<int:entry_pk>/revert/", audit_views.activity_revert, name="activity-revert"),
]
