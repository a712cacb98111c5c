from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from delivery.health_views import healthz
from delivery.home_views import home

admin.site.site_header = "Back office e-KTP"
admin.site.site_title = "Back office e-KTP"

urlpatterns = [
    path("", home, name="home"),
    path("masuk/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("keluar/", auth_views.LogoutView.as_view(), name="logout"),
    path("bahasa/", login_not_required(require_POST(set_language)), name="set_language"),
    path("healthz", healthz, name="healthz"),
    path("", include("registry.urls")),
    path("", include("cards.urls")),
    path("", include("queueing.urls")),
    path("", include("delivery.urls")),
    path("", include("intake.urls")),
    path("webhook/", include("intake.webhook_urls")),
    path("admin/", admin.site.urls),
]
