#!/usr/bin/env bash
# Creates the case database's application roles (issue 16 item 2; models/roles.py):
#   vcs_worker  the worker          password from VCS_WORKER_DB_PASSWORD(_FILE)
#   vcs_app     the console and CLI password from VCS_APP_DB_PASSWORD(_FILE)
# Neither owns anything; their privileges are granted by the owner `vcs` after each migration
# (`python -m models.migrate` applies models/grants.sql when the roles exist).
#
# Run once by the postgres image's entrypoint (/docker-entrypoint-initdb.d), after 01-vcs.sh, when
# the data volume is first initialised. On an existing volume, run it by hand:
#   docker compose exec postgresql bash /docker-entrypoint-initdb.d/02-vcs-roles.sh
# then `docker compose run --rm migrate` to grant their privileges.
set -eo pipefail  # no -u: the entrypoint sources this script if its exec bit is lost

secret() {  # the value of $1, or of the file named by ${1}_FILE (compose secrets)
  local name="$1" file_name="${1}_FILE"
  if [ -n "${!file_name:-}" ]; then cat "${!file_name}"; else printf '%s' "${!name:-}"; fi
}
worker_password="$(secret VCS_WORKER_DB_PASSWORD)"
app_password="$(secret VCS_APP_DB_PASSWORD)"
if [ -z "$worker_password" ] || [ -z "$app_password" ]; then
  # Not configured yet: the worker and the CLI keep using the owner `vcs` (as before this
  # script), and `python -m models.migrate` grants nothing. Say so loudly; change nothing.
  echo "02-vcs-roles.sh: VCS_WORKER_DB_PASSWORD and VCS_APP_DB_PASSWORD (or _FILE) are not" \
       "both set: vcs_worker and vcs_app NOT created (README, 'Database roles')" >&2
else  # (no `exit`: the entrypoint sources this script if its exec bit is lost)

# Passwords go in as psql variables, quoted by psql (:'...'), so any character is safe.
psql -v ON_ERROR_STOP=1 \
    --username "${POSTGRES_USER:-postgres}" \
    --dbname postgres \
    -v worker_password="${worker_password}" \
    -v app_password="${app_password}" <<'SQL'
SELECT format('CREATE ROLE vcs_worker LOGIN NOINHERIT PASSWORD %L', :'worker_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vcs_worker')
\gexec
SELECT format('CREATE ROLE vcs_app LOGIN NOINHERIT PASSWORD %L', :'app_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vcs_app')
\gexec

GRANT CONNECT ON DATABASE vcs TO vcs_worker, vcs_app;
SQL
fi
