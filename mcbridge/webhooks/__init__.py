"""Mailchimp → mcbridge, in one place: receiving deliveries (receive), registering the
webhook on an audience (register), and the changes made in Mailchimp that wait for a
leader's review (review)."""

from mcbridge.webhooks.receive import blueprint

__all__ = ["blueprint"]
