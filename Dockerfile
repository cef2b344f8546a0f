# The Victim Contact Scheme worker, console, codec server and the VLO's CLI (starter.py) as one
# image.
#
#   docker build -t vcs .
#   docker run --rm vcs                          # python worker.py
#   docker run --rm -it vcs python starter.py --help
#
# Configuration comes from the environment and, for secrets, from files the *_FILE variables
# name (compose `secrets:`, mounted at /run/secrets; see docker-compose.yml). The image holds
# no secret: no key, password or token is copied in or set here (.dockerignore keeps secrets/,
# data/ and the development key file out of the build context), and without keys the
# processes refuse to start rather than make one.

# The console's GOV.UK Frontend assets, from the npm registry (package-lock.json pins them).
FROM node:22.20-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Project metadata and the pinned versions of every dependency.
COPY pyproject.toml constraints.txt ./
# The source: packages listed in [tool.setuptools] plus the entry-point scripts.
COPY models/ ./models/
COPY activities/ ./activities/
COPY workflows/ ./workflows/
COPY service/ ./service/
COPY cli/ ./cli/
COPY web/ ./web/
COPY ops/ ./ops/
COPY worker.py starter.py codec_server.py console.py alembic.ini ./
COPY migrations/ ./migrations/
COPY --from=assets /build/node_modules/govuk-frontend/dist/govuk ./node_modules/govuk-frontend/dist/govuk

RUN pip install -c constraints.txt . \
    && rm -rf build ./*.egg-info

# Run as an unprivileged user; the source stays root-owned and read-only to it.
RUN groupadd --system --gid 10001 vcs \
    && useradd --system --uid 10001 --gid vcs --create-home --home-dir /home/vcs vcs
USER vcs:vcs

CMD ["python", "worker.py"]
