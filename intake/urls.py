"""The inbox pages (clerks and UPTD operators)."""

from django.urls import path

from intake import views

app_name = "intake"
urlpatterns = [
    path("kotak-pesan/", views.thread_list, name="thread_list"),
    path("kotak-pesan/<int:pk>/", views.thread_detail, name="thread_detail"),
    path("kotak-pesan/<int:pk>/ambil/", views.thread_claim, name="thread_claim"),
    path("kotak-pesan/<int:pk>/lepas/", views.thread_release, name="thread_release"),
    path("kotak-pesan/<int:pk>/jawab/", views.thread_answer, name="thread_answer"),
    path("kotak-pesan/<int:pk>/penduduk/", views.thread_link_resident, name="thread_link_resident"),
    path("kotak-pesan/pesan/<int:pk>/berkas/", views.message_media, name="message_media"),
    path("kotak-pesan/pesan/<int:pk>/lampirkan/", views.message_attach, name="message_attach"),
    path("kotak-pesan/pesan/<int:pk>/buka/", views.message_reveal, name="message_reveal"),
]
