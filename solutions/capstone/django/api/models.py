from django.db import models


class User(models.Model):
    """The contract's ``users`` table. It already exists (the platform seeds it), so
    Django doesn't manage it: no migrations."""

    name = models.TextField(null=True)
    email = models.TextField(null=True)

    class Meta:
        managed = False
        db_table = "users"
        ordering = ["id"]
