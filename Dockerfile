# The Victim Contact Scheme worker (and the VLO's CLI, starter.py) as one image.
#
#   docker build -t vcs .
#   docker run --rm vcs                          # python worker.py
#   docker run --rm -it vcs python starter.py --help
#
# Configuration comes from the environment only (see docker-compose.yml):
# TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, VCS_DATABASE_URL, VCS_TASK_QUEUE, VCS_CODE_EDITION,
# VCS_MAX_CACHED_WORKFLOWS, VCS_MAX_CONCURRENT_ACTIVITIES.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Project metadata and the pinned versions of every dependency.
COPY pyproject.toml constraints.txt ./
# The source: packages listed in [tool.setuptools] plus the two entry-point scripts.
COPY models/ ./models/
COPY activities/ ./activities/
COPY workflows/ ./workflows/
COPY service/ ./service/
COPY cli/ ./cli/
COPY web/ ./web/
COPY worker.py starter.py codec_server.py alembic.ini ./
COPY migrations/ ./migrations/

RUN pip install -c constraints.txt . \
    && rm -rf build ./*.egg-info

# Run as an unprivileged user; the source stays root-owned and read-only to it.
RUN groupadd --system --gid 10001 vcs \
    && useradd --system --uid 10001 --gid vcs --create-home --home-dir /home/vcs vcs
USER vcs:vcs

CMD ["python", "worker.py"]
