"""The web app's parts beside ``ui.py`` (which composes them)."""
