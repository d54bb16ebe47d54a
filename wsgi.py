"""WSGI entry point: ``gunicorn -w 4 -b 0.0.0.0:8050 wsgi:app``."""

from station_portal import create_app

app = create_app()
