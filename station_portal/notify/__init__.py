"""Notifications: the in-app bell, email, and what each user wants to receive."""
