# Station Portal: one image for the web hosts and the schedulers (compose.yaml).
#   web:        gunicorn -c gunicorn.conf.py wsgi:app   (the default command)
#   scheduler:  station-portal scheduler                (one active, a second stands by)
#   migrate:    deploy/bin/portal-migrate               (db upgrade before a release starts)
# The settings are environment variables (deploy/portal.env.example, docs/OPERATIONS.md).
# Not built or run on the machines of issue 15 (no container runtime): scripts/topology
# starts the same services from the same files as plain processes, and that is what the
# tests exercise.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 portal \
 && useradd --system --uid 10001 --gid portal --home-dir /srv/portal --shell /usr/sbin/nologin portal

WORKDIR /srv/portal
# The portal reads migrations/, data/ and assets/ beside the package: installed from this
# folder in editable mode, as from a checkout (docs/OPERATIONS.md). Switch to the wheel once
# it carries them (issue 15, "a self-contained wheel").
COPY pyproject.toml README.md ./
COPY station_portal station_portal
COPY migrations migrations
COPY data data
COPY assets assets
COPY gunicorn.conf.py wsgi.py ./
COPY deploy/bin deploy/bin
RUN pip install -e . \
 && mkdir -p /var/lib/station-portal/uploads /var/lib/station-portal/instance \
 && chown -R portal:portal /var/lib/station-portal

USER portal
EXPOSE 8050
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
