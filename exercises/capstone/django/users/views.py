import json
import time

from django.db import connection
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .models import User

FIELDS = ("id", "name", "email")


def health(request):
    return JsonResponse({"status": "ok"})


def ready(request):
    return JsonResponse({"status": "ok"})  # (Hint: ready for what? It never asks the database.)


@csrf_exempt
def users(request):
    if request.method == "POST":
        body = json.loads(request.body)  # (Hint: what if name is missing, or a number?)
        user = User.objects.create(name=body.get("name"), email=body.get("email"))
        return JsonResponse({"id": user.id, "name": user.name, "email": user.email}, status=201)
    return JsonResponse(list(User.objects.order_by("id").values(*FIELDS)), safe=False)


def user_detail(request, user_id):
    user = User.objects.filter(pk=user_id).values(*FIELDS).first()
    if user is None:
        raise Http404("not found")
    return JsonResponse(user)


def slow(request):
    ms = int(request.GET.get("ms", 100))
    time.sleep(ms / 1000)
    return JsonResponse({"slept_ms": ms})


def slow_query(request):
    ms = int(request.GET.get("ms", 100))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s / 1000.0)", [ms])
    return JsonResponse({"slept_ms": ms})


def boom(request):
    raise RuntimeError("boom: an unexpected failure")
