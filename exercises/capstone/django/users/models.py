from django.db import models


class User(models.Model):
    """The contract's ``users`` table, which already exists: Django doesn't manage it."""

    name = models.TextField(null=True)
    email = models.TextField(null=True)

    class Meta:
        managed = False
        db_table = "users"
