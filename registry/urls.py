from django.urls import path

from registry import views

app_name = "registry"
urlpatterns = [
    path("penduduk/", views.resident_list, name="resident_list"),
    path("penduduk/<int:pk>/", views.resident_detail, name="resident_detail"),
    path("penduduk/<int:pk>/nik/", views.resident_reveal_nik, name="resident_reveal_nik"),
    path("wilayah/desa/", views.region_desa_options, name="region_desa_options"),
    path("audit/akses/", views.accesslog_list, name="accesslog_list"),
]
