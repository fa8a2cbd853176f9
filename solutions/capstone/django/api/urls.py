from django.urls import path

from . import views

urlpatterns = [
    path("users", views.UserList.as_view()),
    path("users/<str:user_id>", views.UserDetail.as_view()),
    path("slow", views.Slow.as_view()),
    path("slow-query", views.SlowQuery.as_view()),
    path("boom", views.Boom.as_view()),
]
