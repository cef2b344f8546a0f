#!/usr/bin/env bash
# Makes ./secrets/ for docker-compose.yml: random passwords and keys, and the stack's own CA
# with a certificate for the Temporal server and one for each of its clients (mutual TLS).
# Never overwrites a file that exists, so it is safe to re-run after adding a secret.
#
#   deploy/make-secrets.sh [DIR]          # default ./secrets
#
# Then put in the files it leaves empty, from the identity provider (and Notify):
#   notify_api_key                the GOV.UK Notify API key
#   ui_oidc_client_secret         the Web UI's client secret
#   console_oidc_client_secret    the console's client secret
#   temporal_worker_token         the worker's access token (client credentials; permissions
#                                 ["default:write"]), kept fresh by the operator's token agent
#   temporal_app_token            the CLI's, likewise
#   temporal_admin_token          a short-lived token with ["temporal-system:admin"], for the
#                                 set-up jobs only; empty it once they have run
#   gateway.pem, gateway.key      ops-gateway's certificate (the organisation's CA); a
#                                 self-signed one is made here for a trial
#   codec_token                   empty: no break-glass token (openssl rand -hex 32 turns it on)
#
# The directory is 0700 (only its owner on the host can list or read it); the files are
# 0444, since each container reads its secrets as its own user. Back the directory up
# somewhere as safe as the keys deserve: without codec_keys, nothing Temporal stored can be read.
set -euo pipefail
dir="${1:-secrets}"
mkdir -p "$dir"
chmod 0700 "$dir"
cd "$dir"
umask 0222

new() { [ -e "$1" ] && return 1; return 0; }
random() { openssl rand -hex 24; }

for name in postgres_password temporal_db_password vcs_db_password vcs_worker_db_password \
            vcs_app_db_password; do
  new "$name" && random > "$name"
done
# The case database's logins (README, "Database roles"): the owner `vcs` for migrations only,
# `vcs_worker` for the worker, `vcs_app` (least privilege) for the console and the CLI.
url() {  # file, role, password file
  new "$1" && printf 'postgresql+psycopg://%s:%s@postgresql:5432/vcs\n' "$2" "$(cat "$3")" > "$1"
}
url vcs_database_url vcs vcs_db_password
url vcs_worker_database_url vcs_worker vcs_worker_db_password
url vcs_app_database_url vcs_app vcs_app_db_password
# The audit seals' HMAC key: the worker's alone (models/audit_key.py).
new audit_hmac_key && openssl rand -base64 32 > audit_hmac_key
kid="k$(date -u +%Y%m%d)"
new codec_keys && printf '%s:%s\n' "$kid" "$(openssl rand -base64 32)" > codec_keys \
  && echo "VCS_CODEC_ACTIVE_KEY=$kid"
new console_session_key && openssl rand -hex 32 > console_session_key
for name in codec_token notify_api_key ui_oidc_client_secret console_oidc_client_secret \
            temporal_worker_token temporal_app_token temporal_admin_token; do
  new "$name" && : > "$name"
done

# The stack's CA, and its certificates: the server (also its own client between its
# services), and one client certificate per client, so that each can be revoked alone.
days=397
if new temporal_ca.pem; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/CN=vcs temporal CA" -keyout temporal_ca.key -out temporal_ca.pem \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null
fi
issue() {  # name, CN, extended key usage, [subjectAltName]
  new "$1.pem" || return 0
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
    -keyout "$1.key" -out "$1.csr" 2>/dev/null
  local ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=$3"
  [ -n "${4:-}" ] && ext="$ext
subjectAltName=$4"
  openssl x509 -req -in "$1.csr" -CA temporal_ca.pem -CAkey temporal_ca.key -CAcreateserial \
    -days "$days" -out "$1.pem" -extfile <(printf '%s\n' "$ext") 2>/dev/null
  rm -f "$1.csr"
}
issue temporal_server temporal serverAuth,clientAuth "DNS:temporal,DNS:localhost,IP:127.0.0.1"
for client in worker app ui ops; do
  issue "temporal_$client" "vcs-$client" clientAuth
done
if new gateway.pem; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout gateway.key -out gateway.pem 2>/dev/null
  echo "gateway.pem is self-signed, for a trial: replace it with the organisation's"
fi
# Readable by the container users (the directory keeps the host's other users out); the
# CA's key signs nothing more here: keep it offline.
for key in *.key; do [ "$key" = temporal_ca.key ] || chmod 0444 "$key"; done
[ -e temporal_ca.key ] && echo "move $dir/temporal_ca.key offline (it signs client certificates)"
echo "secrets in $dir"
