#!/bin/sh
# Renews HashiCorp Vault's listener certificate with no human step and reports the certificate each
# server actually serves. Runs as the one container of the renewal CronJob's pod, in the Azure CLI
# image (az and openssl), logged in as the pod's workload identity, which may read the internal CA's
# certificate and key secrets and read and write the server certificate and key secrets, nothing else.
#   renew   1. read the current server certificate (KEY_VAULT_NAME/CERT_SECRET) and sign a new one with
#              the CA (a new P-256 key, subject and SANs as given, VALIDITY_DAYS long) when it expires
#              within RENEW_BEFORE_DAYS, when its names differ from DNS_NAMES/IP_ADDRESSES (a deliberate
#              change: more voters), when FORCE_RENEW=1, or when Key Vault says it does not exist
#              (SecretNotFound). Any other read failure (403 while a role propagates, 429) fails the run
#              and issues nothing. The new pair is checked (chains to the CA, matches its key), then the
#              key and then the chain (leaf, CA) are written as new secret versions. Pulumi writes these
#              two secrets only when it creates them (components/azure/vaultTls.ts), so nothing writes
#              an older certificate back beside this key.
#           2. for each server in VAULT_PEERS, read the certificate it serves (TLS handshake verified
#              against the CA and the host name) and log one line
#              `vault-tls served <host> ... status=ok|EXPIRING|EXPIRED|UNVERIFIED`; the expiry alert
#              (components/azure/auditAlerts.ts) reads these lines. EXPIRING: within ALERT_DAYS of its
#              end; EXPIRED / UNVERIFIED: the verified handshake failed and the certificate, read
#              without verification, has expired / does not verify against the CA for that name. A
#              server that cannot be reached at all gets no line. The CSI driver puts new versions into
#              the pods within its rotation interval and the servers' tls-reload sidecar sends SIGHUP,
#              so a served certificate older than the stored one means that path is broken.
# Exits non-zero when the renewal failed or a served certificate is not ok, so the Job fails visibly
# too. Key material stays in $WORK_DIR (an in-memory emptyDir) and in no argument.
# POSIX sh.
set -eu

phase="${1:-}"
: "${WORK_DIR:?WORK_DIR must name the in-memory work directory}"

# log, retry and az_login.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
LOG_TAG="vault-tls-renew $phase"

DIR="$WORK_DIR/tls"

# secret_get NAME FILE: the current version of Key Vault secret NAME into FILE; az's error in FILE.err.
secret_get() {
    az keyvault secret show --vault-name "$KEY_VAULT_NAME" --name "$1" --query value --output tsv >"$2" 2>"$2.err"
}

# not_found FILE: the failed secret_get of FILE was Key Vault's SecretNotFound (the error code azure-cli
# prints from the data plane's error body), not a denied, throttled or failed request.
not_found() {
    grep -q SecretNotFound "$1.err" 2>/dev/null
}

# names_of PEM: the first certificate's SANs, one a line, sorted, as DNS:<name> / IP:<address>.
names_of() {
    openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null | sed '1d' | tr ',' '\n' |
        sed 's/^ *//; s/^IP Address:/IP:/; /^$/d' | sort
}

# wanted_names: DNS_NAMES and IP_ADDRESSES in the same form.
wanted_names() {
    { for name in $DNS_NAMES; do echo "DNS:$name"; done; for ip in $IP_ADDRESSES; do echo "IP:$ip"; done; } | sort
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
    # The key first, then the chain. A running server's sidecar signals on each change; Vault refuses
    # the new key beside the old certificate and keeps its pair, then loads the new pair once the chain
    # arrives. A pod that starts between the two writes mounts a mismatched pair and restarts until the
    # CSI driver's next rotation brings the chain (docs/operations.md).
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
    if retry 3 10 secret_get "$CERT_SECRET" "$DIR/current.pem"; then
        if ! openssl x509 -in "$DIR/current.pem" -noout 2>/dev/null; then
            log "the stored $CERT_SECRET is not a certificate: issuing a new one"
            issue || failed=1
        elif [ "${FORCE_RENEW:-}" = 1 ]; then
            log "FORCE_RENEW=1: issuing a new certificate (the stored one expires in $(days_left "$DIR/current.pem") days)"
            issue || failed=1
        elif [ "$(names_of "$DIR/current.pem")" != "$(wanted_names)" ]; then
            log "the stored certificate's names differ from DNS_NAMES/IP_ADDRESSES: issuing one with the new names"
            issue || failed=1
        elif expires_within "$RENEW_BEFORE_DAYS" "$DIR/current.pem"; then
            log "the stored certificate expires in $(days_left "$DIR/current.pem") days (renewal at $RENEW_BEFORE_DAYS): renewing"
            issue || failed=1
        else
            log "the stored certificate expires in $(days_left "$DIR/current.pem") days: nothing to renew"
        fi
    elif not_found "$DIR/current.pem"; then
        log "Key Vault $KEY_VAULT_NAME has no $CERT_SECRET (SecretNotFound): issuing a new one"
        issue || failed=1
    else
        # Denied (a role assignment still propagating), throttled, unreachable: never a reason to issue.
        log "FAILED: cannot read $CERT_SECRET from Key Vault $KEY_VAULT_NAME: $(tail -n 3 "$DIR/current.pem.err" | tr '\n' ' ')"
        failed=1
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
        rm -f "$DIR/served.pem"
        if openssl s_client -connect "$hostport" -servername "$host" -verify_hostname "$host" -CAfile "$DIR/ca.crt" -verify_return_error \
            </dev/null 2>/dev/null | openssl x509 -out "$DIR/served.pem" 2>/dev/null; then
            status=ok
            if expires_within "$ALERT_DAYS" "$DIR/served.pem"; then
                status=EXPIRING
                failed=1
            fi
        elif openssl s_client -connect "$hostport" -servername "$host" </dev/null 2>/dev/null |
            openssl x509 -out "$DIR/served.pem" 2>/dev/null; then
            # It answers, but the verified handshake failed: an expired certificate (Vault never
            # reloaded), or one that does not chain to the CA or lacks the name. Reported, never skipped:
            # a skipped server would let the expiry alert resolve while the certificate is dead.
            if expires_within 0 "$DIR/served.pem"; then status=EXPIRED; else status=UNVERIFIED; fi
            failed=1
        else
            log "cannot read the certificate served at $hostport (no TLS answer: the server is down)"
            continue
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
