from django.urls import path

from registry import import_views, mfa_views, office_views, password_views, staff_views, views

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
    path("akun/kata-sandi/", password_views.password_change, name="password_change"),
    path("petugas/", staff_views.staff_list, name="staff_list"),
    path("petugas/baru/", staff_views.staff_create, name="staff_create"),
    path("petugas/<int:pk>/", staff_views.staff_edit, name="staff_edit"),
    path("petugas/<int:pk>/nonaktifkan/", staff_views.staff_deactivate, name="staff_deactivate"),
    path("petugas/<int:pk>/aktifkan/", staff_views.staff_reactivate, name="staff_reactivate"),
    path("petugas/<int:pk>/kata-sandi/", staff_views.staff_password_reset, name="staff_password_reset"),
    path("petugas/<int:pk>/buka-kunci/", staff_views.staff_unlock, name="staff_unlock"),
    path("kantor/pengaturan/", office_views.office_settings, name="office_settings"),
]
