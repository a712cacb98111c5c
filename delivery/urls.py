from django.urls import path

from delivery import views

app_name = "delivery"
urlpatterns = [
    path("permohonan/<int:pk>/suket/", views.suket_create, name="suket_create"),
    path("suket/<int:pk>/surat.pdf", views.suket_pdf, name="suket_pdf"),
    path("suket/cek/<str:code>/", views.suket_verify, name="suket_verify"),
]
