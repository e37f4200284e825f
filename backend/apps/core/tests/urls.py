"""Test-only URLs exercising the shared API machinery (error shape, pagination)."""

from django.db import connection
from django.urls import include, path
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.models import Heartbeat


class HeartbeatSerializer(serializers.ModelSerializer):
    class Meta:
        model = Heartbeat
        fields = ["id", "name"]


class HeartbeatList(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = HeartbeatSerializer
    queryset = Heartbeat.objects.order_by("id")


class EchoSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=5)
    count = serializers.IntegerField(min_value=1)
    items = serializers.ListField(child=serializers.IntegerField())


class Echo(APIView):
    permission_classes = [AllowAny]

    def post(self, request):
        serializer = EchoSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class NonField(APIView):
    permission_classes = [AllowAny]

    def post(self, request):
        raise ValidationError("The two dates are in the wrong order.")


class Private(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({})


class Broken(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("secret internal detail")


class DatabaseDown(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        from django.db import OperationalError

        raise OperationalError(f"connection to {connection.vendor} failed: password=hunter2")


class DatabaseRefuses(APIView):
    """The database errors that are not an outage: `?kind=data|integrity|programming`."""

    permission_classes = [AllowAny]

    def get(self, request):
        from django.db import DataError, IntegrityError, ProgrammingError

        kind = {"data": DataError, "integrity": IntegrityError, "programming": ProgrammingError}
        raise kind[request.query_params["kind"]]("value 99999999999 password=hunter2")


urlpatterns = [
    path(
        "api/v1/",
        include(
            [
                path("heartbeats/", HeartbeatList.as_view()),
                path("echo/", Echo.as_view()),
                path("nonfield/", NonField.as_view()),
                path("private/", Private.as_view()),
                path("broken/", Broken.as_view()),
                path("dbdown/", DatabaseDown.as_view()),
                path("dbrefuses/", DatabaseRefuses.as_view()),
            ]
        ),
    ),
]
handler404 = "apps.core.exceptions.json_not_found"
