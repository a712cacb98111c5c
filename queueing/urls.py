from django.urls import path, register_converter

from queueing import export_views, planning_views, printing_views, views
from queueing.converters import IsoDateConverter

register_converter(IsoDateConverter, "isodate")

app_name = "queueing"
urlpatterns = [
    path("loket/", views.counter, name="counter"),
    path("loket/tiket/", views.ticket_issue, name="ticket_issue"),
    path("loket/tiket/<int:pk>/", views.ticket_print, name="ticket_print"),
    path("loket/panggil/", views.ticket_call_next, name="ticket_call_next"),
    path("loket/hadir/", views.check_in, name="check_in"),
    path("permohonan/<int:pk>/jadwal/", views.booking_create, name="booking_create"),
    path("permohonan/<int:pk>/jadwal/batal/", views.booking_cancel, name="booking_cancel"),
    path("blangko/", printing_views.blanks, name="blanks"),
    path("blangko/mutasi/ekspor.<str:fmt>", export_views.blank_ledger_export, name="blank_ledger_export"),
    path("blangko/terima/", printing_views.blanks_receive, name="blanks_receive"),
    path("blangko/rusak/", printing_views.blanks_spoil, name="blanks_spoil"),
    path("blangko/cetak/", printing_views.print_batch_create, name="print_batch_create"),
    path("blangko/cetak/<int:pk>/", printing_views.print_batch_print, name="print_batch_print"),
    path("blangko/batch/<int:pk>/", printing_views.print_batch_detail, name="print_batch_detail"),
    path("blangko/batch/<int:pk>/lembar.pdf", printing_views.print_batch_sheet, name="print_batch_sheet"),
    path("blangko/batch/<int:pk>/ekspor.<str:fmt>", export_views.printbatch_export, name="printbatch_export"),
    path("blangko/batch/<int:pk>/simpan/", printing_views.print_batch_store, name="print_batch_store"),
    path("permohonan/<int:pk>/cetak/", printing_views.counter_print, name="counter_print"),
    path("permohonan/<int:pk>/gagal-cetak/", printing_views.print_misprint, name="print_misprint"),
    path("loket/undangan/", views.invitations_send, name="invitations_send"),
    path("permohonan/<int:pk>/jadwal/surat.pdf", views.booking_letter, name="booking_letter"),
    path("loket/tutup/", views.day_close, name="day_close"),
    path("loket/panggilan/selesai/", views.call_end, name="call_end"),
    path("loket/tiket/<int:pk>/layani/", views.walk_in_serve, name="walk_in_serve"),
    path("loket/hadir/hari-ini/", views.walk_in_wrong_day, name="walk_in_wrong_day"),
    path("loket/undangan/daftar/", views.invitation_list, name="invitation_list"),
    path("loket/undangan/surat.pdf", views.invitation_letters, name="invitation_letters"),
    path("kalender/", planning_views.coming_days, name="coming_days"),
    path("kalender/<isodate:day>/", planning_views.day_expected, name="day_expected"),
    path("kalender/<isodate:day>/ekspor.<str:fmt>", export_views.day_export, name="day_export"),
    path("kalender/kuota/", planning_views.quota_settings, name="quota_settings"),
]
