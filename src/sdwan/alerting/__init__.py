"""Alerts and webhooks: the alert controller and the webhook dispatcher."""
