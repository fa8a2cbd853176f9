from django.urls import include, path

from . import health

urlpatterns = [
    path("health", health.health),
    path("health/ready", health.ready),
    path("metrics", health.metrics),
    path("api/", include("api.urls")),
]

# JSON instead of Django's HTML error pages (used when DEBUG is off)
handler400 = "service.exceptions.bad_request"
handler403 = "service.exceptions.permission_denied"
handler404 = "service.exceptions.not_found"
handler500 = "service.exceptions.server_error"
