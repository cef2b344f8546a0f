#!/bin/sh
# One-shot (service temporal-namespace, temporalio/admin-tools): the namespace the engine runs
# in, made with the set-up job's admin token (permissions: temporal-system:admin) over mutual
# TLS with the ops certificate. Leaves an existing namespace as it is.
set -eu
token="$(cat "${TEMPORAL_API_KEY_FILE:?TEMPORAL_API_KEY_FILE must name the admin token file}")"
if [ -z "$token" ]; then  # emptied once the stack was set up: nothing to do, nothing can be
  echo "no admin token: the namespace is left as it is"
  exit 0
fi
ns="${TEMPORAL_NAMESPACE:-default}"
tls="--tls-ca-path /run/secrets/temporal_ca.pem --tls-server-name temporal
     --tls-cert-path /run/secrets/temporal_ops.pem --tls-key-path /run/secrets/temporal_ops.key"
# shellcheck disable=SC2086  # $tls is a list of flags
if temporal operator namespace describe --namespace "$ns" --api-key "$token" $tls >/dev/null 2>&1; then
  echo "namespace $ns exists"
else
  # shellcheck disable=SC2086
  temporal operator namespace create --namespace "$ns" \
    --retention "${VCS_TEMPORAL_RETENTION:-30d}" --api-key "$token" $tls
  echo "namespace $ns created"
fi
