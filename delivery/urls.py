from django.urls import path

from delivery import outbox_views, pickup_views, register_views, shipment_views, views

app_name = "delivery"
urlpatterns = [
    path("permohonan/<int:pk>/suket/", views.suket_create, name="suket_create"),
    path("suket/", register_views.suket_register_page, name="suket_register"),
    path("suket/ekspor.<str:fmt>", register_views.suket_register_export, name="suket_register_export"),
    path("suket/<int:pk>/surat.pdf", views.suket_pdf, name="suket_pdf"),
    path("suket/cek/<str:code>/", views.suket_verify, name="suket_verify"),
    path("pengambilan/", pickup_views.pickup_list, name="pickup_list"),
    path("pos/", shipment_views.shipment_list, name="shipment_list"),
    path("permohonan/<int:pk>/pos/", shipment_views.shipment_create, name="shipment_create"),
    path("permohonan/<int:pk>/pos/diterima/", shipment_views.shipment_delivered, name="shipment_delivered"),
    path("permohonan/<int:pk>/pos/gagal/", shipment_views.shipment_failed, name="shipment_failed"),
    path("pesan-keluar/gagal/", outbox_views.outbox_list, name="outbox_list"),
    path("pesan-keluar/kirim-ulang/", outbox_views.outbox_resend, name="outbox_resend"),
]
