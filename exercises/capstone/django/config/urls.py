from django.urls import path

from users import views

urlpatterns = [
    path("health", views.health),
    path("health/ready", views.ready),
    path("api/users", views.users),
    path("api/users/<int:user_id>", views.user_detail),
    path("api/slow", views.slow),
    path("api/slow-query", views.slow_query),
    path("api/boom", views.boom),
]
