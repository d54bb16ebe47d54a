# Station Portal: one image for the web hosts and the schedulers (compose.yaml).
#   web:        gunicorn -c gunicorn.conf.py wsgi:app   (the default command)
#   scheduler:  station-portal scheduler                (one active, a second stands by)
#   migrate:    deploy/bin/portal-migrate               (db upgrade before a release starts)
# The settings are environment variables (deploy/portal.env.example, docs/OPERATIONS.md).
# Not built or run on the machines of issue 15 (no container runtime): scripts/topology
# starts the same services from the same files as plain processes, and that is what the
# tests exercise; tests/process/test_wheel.py builds and runs the same wheel, installed
# from the same lock, outside the checkout.
#
# Two stages: the wheel is built from the sources (it carries migrations/, data/ and
# assets/), then installed into a slim image with its dependencies pinned by
# requirements.lock (every hash checked). No checkout, no editable install, no compiler.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY station_portal station_portal
COPY migrations migrations
COPY data data
COPY assets assets
RUN pip wheel --no-deps --wheel-dir /dist .

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORTAL_INSTANCE_DIR=/var/lib/station-portal/instance

# pg_dump and pg_restore for deploy/bin/portal-backup and `station-portal backup`: Debian
# bookworm's 15, the major version of compose.yaml's postgres:15 (they must be as new as the
# server).
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 portal \
 && useradd --system --uid 10001 --gid portal --home-dir /srv/portal --shell /usr/sbin/nologin portal

# The dependencies first (their layer changes only with the lock), then the wheel alone.
COPY requirements.lock /tmp/requirements.lock
RUN pip install --require-hashes --no-deps -r /tmp/requirements.lock && rm /tmp/requirements.lock
COPY --from=build /dist/ /tmp/dist/
RUN pip install --no-deps /tmp/dist/station_portal-*.whl && rm -r /tmp/dist \
 && mkdir -p /var/lib/station-portal/uploads /var/lib/station-portal/instance \
 && chown -R portal:portal /var/lib/station-portal

WORKDIR /srv/portal
# gunicorn.conf.py and wsgi.py import everything from the installed package
# (station_portal/web/gunicorn_conf.py); they keep the command the topology runs.
# The wheel alone: gunicorn -c python:station_portal.web.gunicorn_conf 'station_portal:create_app()'
COPY gunicorn.conf.py wsgi.py ./
COPY deploy/bin deploy/bin

USER portal
EXPOSE 8050
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
