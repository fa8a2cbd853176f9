"""The contract's /api routes as DRF views. Errors are raised, not returned: the
project's exception handler (service/exceptions.py) shapes every answer."""
from __future__ import annotations

import re
import time

from django.db import connection
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import User
from .serializers import NewUserSerializer, UserSerializer

INT4_MAX = 2**31 - 1  # users.id is a PostgreSQL integer
INTEGER = re.compile(r"^-?\d{1,18}$")


class BadParameter(APIException):
    """A path or query parameter that doesn't parse: 400 BAD_REQUEST."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Invalid request parameter"
    default_code = "bad_request"


def milliseconds(request) -> int:
    raw = request.query_params.get("ms", "100")
    if not INTEGER.match(raw) or not 0 <= int(raw) <= 30_000:
        raise BadParameter("ms must be an integer between 0 and 30000")
    return int(raw)


USER_FIELDS = ("id", "name", "email")


class UserList(APIView):
    def get(self, request):
        # Plain rows, not UserSerializer(many=True): a serializer per row is slow, and
        # this read needs no per-field logic.
        return Response(list(User.objects.values(*USER_FIELDS)))

    def post(self, request):
        serializer = NewUserSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)  # → 422 with every bad field
        user = serializer.save()
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED,
                        headers={"Location": f"/api/users/{user.pk}"})


class UserDetail(APIView):
    def get(self, request, user_id: str):
        if not INTEGER.match(user_id):
            raise BadParameter("id must be an integer")
        user = None
        if abs(int(user_id)) <= INT4_MAX:  # beyond it no row can match
            user = User.objects.filter(pk=int(user_id)).values(*USER_FIELDS).first()
        if user is None:
            raise NotFound(f"User {user_id} not found")
        return Response(user)


class Slow(APIView):
    def get(self, request):
        ms = milliseconds(request)
        time.sleep(ms / 1000)
        return Response({"slept_ms": ms})


class SlowQuery(APIView):
    """Holds one pooled connection for ``ms`` milliseconds."""

    def get(self, request):
        ms = milliseconds(request)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(%s / 1000.0)", [ms])
        return Response({"slept_ms": ms})


class Boom(APIView):
    def get(self, request):
        raise RuntimeError("boom: an unexpected failure")
