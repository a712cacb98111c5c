from django.urls import path

from registry import import_views, request_views, views

app_name = "registry"
urlpatterns = [
    path("penduduk/", views.resident_list, name="resident_list"),
    path("penduduk/<int:pk>/", views.resident_detail, name="resident_detail"),
    path("penduduk/<int:pk>/nik/", views.resident_reveal_nik, name="resident_reveal_nik"),
    path(
        "penduduk/<int:pk>/status-perkawinan/",
        views.resident_marital_status_set,
        name="resident_marital_status_set",
    ),
    path("wilayah/desa/", views.region_desa_options, name="region_desa_options"),
    path("audit/akses/", views.accesslog_list, name="accesslog_list"),
    path("penduduk/impor/", import_views.import_list, name="import_list"),
    path("penduduk/impor/contoh.csv", import_views.import_sample, name="import_sample"),
    path("penduduk/impor/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("penduduk/impor/<int:pk>/batal/", import_views.import_cancel, name="import_cancel"),
    path("penduduk/impor/<int:pk>/laporan.<str:fmt>", import_views.import_report, name="import_report"),
    path("permohonan/", request_views.cardrequest_list, name="cardrequest_list"),
    path("permohonan/massal/", request_views.cardrequest_bulk, name="cardrequest_bulk"),
    path("permohonan/baru/", request_views.cardrequest_create, name="cardrequest_create"),
    path("permohonan/perekaman/", request_views.cardrequest_recording_queue, name="cardrequest_recording_queue"),
    path("permohonan/<int:pk>/", request_views.cardrequest_detail, name="cardrequest_detail"),
    path("permohonan/<int:pk>/status/", request_views.cardrequest_transition, name="cardrequest_transition"),
    path("permohonan/<int:pk>/lampiran/", request_views.cardrequest_attachment_add, name="cardrequest_attachment_add"),
    path(
        "permohonan/<int:pk>/lampiran/<int:attachment_pk>/",
        request_views.cardrequest_attachment,
        name="cardrequest_attachment",
    ),
    path(
        "permohonan/<int:pk>/persyaratan/",
        request_views.cardrequest_requirement_tick,
        name="cardrequest_requirement_tick",
    ),
    path("permohonan/<int:pk>/mendesak/", request_views.cardrequest_urgent_ask, name="cardrequest_urgent_ask"),
    path(
        "permohonan/<int:pk>/mendesak/keputusan/",
        request_views.cardrequest_urgent_decide,
        name="cardrequest_urgent_decide",
    ),
    path("permohonan/<int:pk>/perekaman/", request_views.cardrequest_biometrics, name="cardrequest_biometrics"),
    path("kiriman/", request_views.dispatch_list, name="dispatch_list"),
    path("kiriman/baru/", request_views.dispatch_create, name="dispatch_create"),
    path("kiriman/<int:pk>/", request_views.dispatch_detail, name="dispatch_detail"),
    path(
        "kiriman/<int:pk>/kartu/<int:item_pk>/terima/",
        request_views.dispatch_item_receive,
        name="dispatch_item_receive",
    ),
    path("sinkronisasi/", request_views.numberlink_list, name="numberlink_list"),
    path("sinkronisasi/<int:pk>/keputusan/", request_views.numberlink_decide, name="numberlink_decide"),
]
