from django.urls import path

from registry import import_views, mfa_views, views

app_name = "registry"
urlpatterns = [
    path("akun/2fa/", mfa_views.mfa_account, name="mfa_account"),
    path("akun/2fa/verifikasi/", mfa_views.mfa_verify, name="mfa_verify"),
    path("akun/2fa/daftar/", mfa_views.mfa_enrol, name="mfa_enrol"),
    path("akun/2fa/petugas/<int:pk>/reset/", mfa_views.mfa_reset, name="mfa_reset"),
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
    path("audit/akses/ekspor.<str:fmt>", views.accesslog_export, name="accesslog_export"),
    path("penduduk/impor/", import_views.import_list, name="import_list"),
    path("penduduk/impor/contoh.csv", import_views.import_sample, name="import_sample"),
    path("penduduk/impor/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("penduduk/impor/<int:pk>/batal/", import_views.import_cancel, name="import_cancel"),
    path("penduduk/impor/<int:pk>/laporan.<str:fmt>", import_views.import_report, name="import_report"),
]
