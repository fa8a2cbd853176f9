from rest_framework import serializers

from .models import User


class StrictStringMixin:
    """DRF's CharField turns 5 into "5"; a JSON number is not a name."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictCharField(StrictStringMixin, serializers.CharField):
    default_error_messages = {"not_a_string": "Must be a string."}


class StrictEmailField(StrictStringMixin, serializers.EmailField):
    default_error_messages = {"not_a_string": "Must be a string."}


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "name", "email"]


class NewUserSerializer(serializers.Serializer):
    """POST /api/users: every field is checked and every problem reported."""

    name = StrictCharField(max_length=100, trim_whitespace=True)
    email = StrictEmailField(max_length=254)

    def create(self, validated_data):
        return User.objects.create(**validated_data)
