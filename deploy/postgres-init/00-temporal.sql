-- Temporal's databases and their role. The role `temporal` owns temporal and
-- temporal_visibility and nothing else: not a superuser, cannot create databases or roles,
-- cannot connect to the case database (vcs: 01-vcs.sh revokes CONNECT from PUBLIC).
--
-- Run once by the postgres image's entrypoint (/docker-entrypoint-initdb.d), as the
-- superuser, when the data volume is first initialised. The password is read from the secret
-- file TEMPORAL_DB_PASSWORD_FILE names (psql's backquote), and quoted by psql (:'...').
\set ON_ERROR_STOP on
\set temporal_password `cat "$TEMPORAL_DB_PASSWORD_FILE"`

SELECT format('CREATE ROLE temporal LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION '
              'NOBYPASSRLS PASSWORD %L', :'temporal_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'temporal')
\gexec

SELECT 'CREATE DATABASE temporal OWNER temporal ENCODING ''UTF8'' TEMPLATE template0'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'temporal')
\gexec

SELECT 'CREATE DATABASE temporal_visibility OWNER temporal ENCODING ''UTF8'' TEMPLATE template0'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'temporal_visibility')
\gexec

REVOKE ALL ON DATABASE temporal FROM PUBLIC;
REVOKE ALL ON DATABASE temporal_visibility FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE temporal TO temporal;
GRANT CONNECT, TEMPORARY ON DATABASE temporal_visibility TO temporal;
