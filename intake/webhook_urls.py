"""The provider-facing endpoints: the WhatsApp Cloud API webhook and the SMS gateway's inbound endpoint.
No secret and no message content is ever in these URLs (the SMS token comes in a header or the form body)."""

from django.urls import path

from intake import webhooks

app_name = "webhook"
urlpatterns = [
    path("whatsapp/", webhooks.whatsapp_webhook, name="whatsapp"),
    path("sms/", webhooks.sms_inbound, name="sms"),
]
