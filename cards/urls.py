from django.urls import path

from cards import data_sync_views, export_views, views

app_name = "cards"
urlpatterns = [
    path("permohonan/", views.cardrequest_list, name="cardrequest_list"),
    path("permohonan/ekspor.<str:fmt>", export_views.cardrequest_export, name="cardrequest_export"),
    path("permohonan/massal/", views.cardrequest_bulk, name="cardrequest_bulk"),
    path("permohonan/baru/", views.cardrequest_create, name="cardrequest_create"),
    path("permohonan/perekaman/", views.cardrequest_recording_queue, name="cardrequest_recording_queue"),
    path("permohonan/<int:pk>/", views.cardrequest_detail, name="cardrequest_detail"),
    path("permohonan/<int:pk>/status/", views.cardrequest_transition, name="cardrequest_transition"),
    path("permohonan/<int:pk>/rute/", views.cardrequest_route, name="cardrequest_route"),
    path("permohonan/<int:pk>/jawaban-pusat/", views.cardrequest_central_answer, name="cardrequest_central_answer"),
    path("permohonan/<int:pk>/lampiran/", views.cardrequest_attachment_add, name="cardrequest_attachment_add"),
    path(
        "permohonan/<int:pk>/lampiran/<int:attachment_pk>/",
        views.cardrequest_attachment,
        name="cardrequest_attachment",
    ),
    path(
        "permohonan/<int:pk>/persyaratan/",
        views.cardrequest_requirement_tick,
        name="cardrequest_requirement_tick",
    ),
    path("permohonan/<int:pk>/mendesak/", views.cardrequest_urgent_ask, name="cardrequest_urgent_ask"),
    path(
        "permohonan/<int:pk>/mendesak/keputusan/",
        views.cardrequest_urgent_decide,
        name="cardrequest_urgent_decide",
    ),
    path("permohonan/<int:pk>/perekaman/", views.cardrequest_biometrics, name="cardrequest_biometrics"),
    path("kiriman/", views.dispatch_list, name="dispatch_list"),
    path("kiriman/baru/", views.dispatch_create, name="dispatch_create"),
    path("kiriman/<int:pk>/", views.dispatch_detail, name="dispatch_detail"),
    path(
        "kiriman/<int:pk>/kartu/<int:item_pk>/terima/",
        views.dispatch_item_receive,
        name="dispatch_item_receive",
    ),
    path("sinkronisasi/", data_sync_views.datasync_list, name="datasync_list"),
    path("sinkronisasi/baru/", data_sync_views.datasync_create, name="datasync_create"),
    path("sinkronisasi/<int:pk>/", data_sync_views.datasync_detail, name="datasync_detail"),
    path(
        "sinkronisasi/<int:pk>/minta-dokumen/",
        data_sync_views.datasync_request_documents,
        name="datasync_request_documents",
    ),
    path(
        "sinkronisasi/<int:pk>/disinkronkan/",
        data_sync_views.datasync_mark_synchronised,
        name="datasync_mark_synchronised",
    ),
    path("sinkronisasi/<int:pk>/tolak/", data_sync_views.datasync_refuse, name="datasync_refuse"),
]
