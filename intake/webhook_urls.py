"""The provider-facing endpoints: the WhatsApp Cloud API webhook and the SMS gateway's inbound endpoint."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
