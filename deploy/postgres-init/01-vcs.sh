#!/usr/bin/env bash
# Creates the case database `vcs`, owned by its own role `vcs`, beside Temporal's databases.
#
# Run once by the postgres image's entrypoint (/docker-entrypoint-initdb.d) when the data
# volume is first initialised; it does not run again against an existing volume. To add the
# database to a volume created before this script existed, run it by hand:
#   docker compose exec postgresql bash /docker-entrypoint-initdb.d/01-vcs.sh
#
# VCS_DB_PASSWORD_FILE (a compose secret) or VCS_DB_PASSWORD must be set in the postgresql
# container's environment.
set -eo pipefail  # no -u: the entrypoint sources this script if its exec bit is lost

# The password from the compose secret file VCS_DB_PASSWORD_FILE names, else VCS_DB_PASSWORD.
if [ -n "${VCS_DB_PASSWORD_FILE:-}" ]; then
    VCS_DB_PASSWORD="$(cat "${VCS_DB_PASSWORD_FILE}")"
fi
: "${VCS_DB_PASSWORD:?VCS_DB_PASSWORD_FILE (or VCS_DB_PASSWORD) must be set to create the vcs role}"

# The password goes in as a psql variable and is quoted by psql (:'...'), so any character is safe.
psql -v ON_ERROR_STOP=1 \
    --username "${POSTGRES_USER:-postgres}" \
    --dbname postgres \
    -v vcs_password="${VCS_DB_PASSWORD}" <<'SQL'
SELECT format('CREATE ROLE vcs LOGIN PASSWORD %L', :'vcs_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vcs')
\gexec

SELECT 'CREATE DATABASE vcs OWNER vcs ENCODING ''UTF8'' TEMPLATE template0'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'vcs')
\gexec

REVOKE ALL ON DATABASE vcs FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE vcs TO vcs;
SQL
