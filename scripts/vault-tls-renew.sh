#!/bin/sh
# Renews HashiCorp Vault's listener certificate with no human step and reports the certificate each
# server actually serves. Runs as the one container of the renewal CronJob's pod, in the Azure CLI
# image (az and openssl), logged in as the pod's workload identity, which may read the internal CA's
# certificate and key secrets and read and write the server certificate and key secrets, nothing else.
#   renew   1. read the current server certificate (KEY_VAULT_NAME/CERT_SECRET); when it expires within
#              RENEW_BEFORE_DAYS (or is unreadable), sign a new one with the CA: a new P-256 key, the
#              same subject and SANs, VALIDITY_DAYS long; check it chains to the CA and matches its key,
#              then write the key and then the chain (leaf, CA) as new secret versions.
#           2. for each server in VAULT_PEERS, read the certificate it serves (TLS handshake verified
#              against the CA) and log one line `vault-tls served <host> ... status=ok|EXPIRING`; the
#              expiry alert (components/azure/auditAlerts.ts) reads these lines, EXPIRING within
#              ALERT_DAYS. The CSI driver puts new versions into the pods within its rotation interval
#              and the servers' tls-reload sidecar sends SIGHUP, so a served certificate older than the
#              stored one means that path is broken.
# Exits non-zero when the renewal failed or a served certificate is within ALERT_DAYS of expiry, so the
# Job fails visibly too. Key material stays in $WORK_DIR (an in-memory emptyDir) and in no argument.
# POSIX sh.
set -eu

phase="${1:-}"
: "${WORK_DIR:?WORK_DIR must name the in-memory work directory}"

# log, retry and az_login.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
LOG_TAG="vault-tls-renew $phase"

DIR="$WORK_DIR/tls"

# secret_get NAME FILE: the current version of Key Vault secret NAME into FILE.
secret_get() {
    az keyvault secret show --vault-name "$KEY_VAULT_NAME" --name "$1" --query value --output tsv >"$2"
}

# secret_put NAME FILE: FILE's content as a new version of NAME (read by az from the file).
secret_put() {
    az keyvault secret set --vault-name "$KEY_VAULT_NAME" --name "$1" --file "$2" --encoding utf-8 \
        --content-type text/plain --output none
}

# days_left PEM: whole days until the first certificate of PEM expires (GNU or busybox date).
days_left() {
    end=$(openssl x509 -in "$1" -noout -enddate | sed 's/^notAfter=//')
    end_s=$(date -u -d "$end" +%s 2>/dev/null || date -u -D '%b %d %H:%M:%S %Y' -d "${end% GMT}" +%s)
    echo $(((end_s - $(date -u +%s)) / 86400))
}

# expires_within DAYS PEM: true when the first certificate of PEM expires within DAYS days.
expires_within() {
    ! openssl x509 -in "$2" -noout -checkend $(($1 * 86400)) >/dev/null
}

issue() {
    if ! secret_get "$CA_CERT_SECRET" "$DIR/ca.crt" || ! secret_get "$CA_KEY_SECRET" "$DIR/ca.key"; then
        log "FAILED: cannot read the CA ($CA_CERT_SECRET, $CA_KEY_SECRET) from Key Vault $KEY_VAULT_NAME"
        return 1
    fi
    san=""
    for name in $DNS_NAMES; do san="${san:+$san,}DNS:$name"; done
    for ip in $IP_ADDRESSES; do san="${san:+$san,}IP:$ip"; done
    # What the first issuance (@pulumi/tls, components/azure/vaultTls.ts) puts in: server and client
    # auth (raft peers present it both ways), digital signature and key encipherment.
    cat >"$DIR/ext.cnf" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
    (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$DIR/new.key")
    openssl req -new -key "$DIR/new.key" -subj "/O=$ORGANIZATION/CN=$COMMON_NAME" -out "$DIR/new.csr"
    openssl x509 -req -in "$DIR/new.csr" -CA "$DIR/ca.crt" -CAkey "$DIR/ca.key" \
        -set_serial "0x$(openssl rand -hex 16)" -days "$VALIDITY_DAYS" -sha256 \
        -extfile "$DIR/ext.cnf" -out "$DIR/new.crt" 2>/dev/null
    rm -f "$DIR/ca.key"
    openssl verify -CAfile "$DIR/ca.crt" -purpose sslserver "$DIR/new.crt" >/dev/null || {
        log "FAILED: the new certificate does not verify against the CA"
        return 1
    }
    if [ "$(openssl pkey -in "$DIR/new.key" -pubout)" != "$(openssl x509 -in "$DIR/new.crt" -noout -pubkey)" ]; then
        log "FAILED: the new certificate does not match its key"
        return 1
    fi
    cat "$DIR/new.crt" "$DIR/ca.crt" >"$DIR/chain.pem"
    # The key first: a server reloads only once both files changed (the tls-reload sidecar), and a
    # pod that starts between the two writes mounts the new key with the old certificate for at most
    # one rotation interval (docs/operations.md).
    retry 3 10 secret_put "$KEY_SECRET" "$DIR/new.key" || {
        log "FAILED: cannot write $KEY_SECRET"
        return 1
    }
    retry 3 10 secret_put "$CERT_SECRET" "$DIR/chain.pem" || {
        log "FAILED: wrote $KEY_SECRET but not $CERT_SECRET: run the Job again (docs/operations.md)"
        return 1
    }
    rm -f "$DIR/new.key"
    log "renewed: serial $(openssl x509 -in "$DIR/new.crt" -noout -serial | sed 's/^serial=//'), $(openssl x509 -in "$DIR/new.crt" -noout -enddate)"
}

renew() {
    : "${KEY_VAULT_NAME:?}" "${CA_CERT_SECRET:?}" "${CA_KEY_SECRET:?}" "${CERT_SECRET:?}" "${KEY_SECRET:?}"
    : "${COMMON_NAME:?}" "${ORGANIZATION:?}" "${DNS_NAMES:?}" "${IP_ADDRESSES:?}" "${VAULT_PEERS:?}"
    : "${RENEW_BEFORE_DAYS:?}" "${VALIDITY_DAYS:?}" "${ALERT_DAYS:?}"
    (umask 077 && mkdir -p "$DIR")
    retry 10 10 az_login || {
        log "FAILED: cannot log in to Azure as the renewal identity"
        exit 1
    }
    failed=0
    if ! retry 3 10 secret_get "$CERT_SECRET" "$DIR/current.pem" || ! openssl x509 -in "$DIR/current.pem" -noout 2>/dev/null; then
        log "cannot read the current certificate $CERT_SECRET: issuing a new one"
        issue || failed=1
    elif expires_within "$RENEW_BEFORE_DAYS" "$DIR/current.pem"; then
        log "the stored certificate expires in $(days_left "$DIR/current.pem") days (renewal at $RENEW_BEFORE_DAYS): renewing"
        issue || failed=1
    else
        log "the stored certificate expires in $(days_left "$DIR/current.pem") days: nothing to renew"
    fi
    # The CA certificate verifies the handshakes below (it is the same in Key Vault and the pods).
    [ -s "$DIR/ca.crt" ] || secret_get "$CA_CERT_SECRET" "$DIR/ca.crt" || {
        log "FAILED: cannot read $CA_CERT_SECRET"
        exit 1
    }
    for peer in $VAULT_PEERS; do
        hostport=${peer#https://}
        hostport=${hostport%%/*}
        host=${hostport%:*}
        if ! openssl s_client -connect "$hostport" -servername "$host" -verify_hostname "$host" -CAfile "$DIR/ca.crt" -verify_return_error \
            </dev/null 2>/dev/null | openssl x509 -out "$DIR/served.pem" 2>/dev/null; then
            log "cannot read the certificate served at $hostport (down, or it does not verify against the CA)"
            continue
        fi
        status=ok
        if expires_within "$ALERT_DAYS" "$DIR/served.pem"; then
            status=EXPIRING
            failed=1
        fi
        log "vault-tls served $host $(openssl x509 -in "$DIR/served.pem" -noout -enddate) days_left=$(days_left "$DIR/served.pem") alert_days=$ALERT_DAYS status=$status"
    done
    rm -rf "$DIR"
    [ "$failed" = 0 ] || exit 1
}

case "$phase" in
renew) renew ;;
*)
    echo "usage: $0 renew" >&2
    exit 2
    ;;
esac
