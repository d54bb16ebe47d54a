"""WSGI entry point: ``gunicorn -c gunicorn.conf.py wsgi:app`` (docs/OPERATIONS.md)."""

from station_portal import create_app
from station_portal.config import Config

config = Config.from_env()
config.check_deployment()  # production: no SQLite
app = create_app(config)
