#!/bin/sh
# One-shot (service temporal-schema, temporalio/admin-tools): Temporal's schema in the databases
# temporal and temporal_visibility, which deploy/postgres-init/00-temporal.sql made for the role
# temporal (not a superuser). Safe to re-run: setup-schema keeps an existing schema and
# update-schema applies only the versions not yet applied.
set -eu
SQL_PASSWORD="$(cat "${SQL_PASSWORD_FILE:?SQL_PASSWORD_FILE must name the temporal role's password file}")"
export SQL_PASSWORD
schema=/etc/temporal/schema/postgresql/v12
for db in temporal temporal_visibility; do
  dir=temporal
  [ "$db" = temporal_visibility ] && dir=visibility
  temporal-sql-tool --db "$db" setup-schema -v 0.0
  temporal-sql-tool --db "$db" update-schema -d "$schema/$dir/versioned"
done
echo "temporal schema ready"
