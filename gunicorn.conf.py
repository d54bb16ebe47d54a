"""gunicorn for the portal from a checkout: ``gunicorn -c gunicorn.conf.py wsgi:app``.

The settings and hooks live in the package, ``station_portal/web/gunicorn_conf.py``, so
an installed wheel carries them too (``gunicorn -c python:station_portal.web.gunicorn_conf
'station_portal:create_app()'``); this file takes all of them (docs/OPERATIONS.md).
"""

from station_portal.web.gunicorn_conf import *  # noqa: F403
