"""Notifications: the outbox sender, in-app notifications, the SMS gateway adapter, live updates."""
