// One stand-in setup for the tests that run scripts/vault-configure.sh (tests/operations-scripts.test.ts:
// the Job and the reconciler; tests/vault-dev-users.test.ts: dev's stale-user handoff): a sandbox of
// stand-in tools on PATH, a stand-in `vault`, and the script run with the environment its pod gives it.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { VAULT_CONFIGURE_SCRIPT } from "../components/workloads/vaultDatabase";

/** A `sleep` that returns at once, so that the scripts' waits cost nothing. */
export const INSTANT_SLEEP = "#!/bin/sh\nexit 0\n";

/** A temporary directory whose bin/ holds `tools` (name -> script) plus INSTANT_SLEEP; remove it after the test. */
export function sandbox(prefix: string, tools: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    fs.mkdirSync(path.join(dir, "bin"));
    for (const [name, body] of Object.entries({ sleep: INSTANT_SLEEP, ...tools }))
        fs.writeFileSync(path.join(dir, "bin", name), body, { mode: 0o755 });
    return dir;
}

/** A log file's lines; [] when it was never written. */
export const lines = (file: string): string[] => (fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n") : []);

// vault: its in-memory state is the files of $FAKE/v (one per mount, one per written path). Every call
// is logged to $FAKE/vault.log and the token it ran with to $FAKE/tokens.log. `status` fails once (Vault
// still starting) while $FAKE/down exists; a Kubernetes-auth login answers a token, or fails while
// $FAKE/login-fails exists; `list` answers from the state (or fails while $FAKE/list-fails exists);
// `read` succeeds for a written path; the username template a write sets is kept in $FAKE/template.
// A test "restarts" Vault by emptying $FAKE/v from a stand-in `sleep`.
export const FAKE_VAULT = `#!/bin/sh
echo "$*" >>"$FAKE/vault.log"
echo "\${VAULT_TOKEN:-none}" >>"$FAKE/tokens.log"
v="$FAKE/v"
case "$1 $2" in
  "status "*) [ -e "$FAKE/down" ] && { rm -f "$FAKE/down"; echo "connection refused" >&2; exit 1; }; exit 0 ;;
  "write -field=token")
    [ -e "$FAKE/login-fails" ] && { echo "Error writing data to auth/kubernetes/login: invalid audience (aud) claim" >&2; exit 2; }
    echo "hvs.LOGIN-TOKEN" ;;
  "audit enable") : >"$v/mount-audit-\${3#-path=}" ;;
  "auth list"|"secrets list"|"audit list")
    [ -e "$FAKE/list-fails" ] && { echo "Error listing: connection refused" >&2; exit 2; }
    printf '{"token/": {}'; for m in $(ls "$v" | sed -n "s/^mount-$1-//p"); do printf ', "%s/": {}' "$m"; done; echo '}' ;;
  "auth enable") : >"$v/mount-auth-$3" ;;
  "secrets enable") : >"$v/mount-secrets-\${3#-path=}" ;;
  "read "*) [ -e "$v/$(echo "$2" | tr / _)" ] || exit 2 ;;
  "write "*)
    for a in "$@"; do case "$a" in username_template=*) echo "$a" >"$FAKE/template" ;; esac; done
    cat >/dev/null 2>&1 </dev/null; : >"$v/$(echo "$2" | tr / _)" ;;
  "policy write") cat >/dev/null ;;
esac
exit 0
`;

/** A sandbox with the stand-in `vault` and its empty state ($FAKE/v). */
export function vaultSandbox(prefix: string): string {
    const fake = sandbox(prefix, { vault: FAKE_VAULT });
    fs.mkdirSync(path.join(fake, "v"));
    return fake;
}

/**
 * Runs scripts/vault-configure.sh in `fake` as a root-token Job of dev's two services would, adjusted by
 * `env`.
 */
export function vaultConfigure(fake: string, env: Record<string, string> = {}): { status: number | null; output: string } {
    const r = spawnSync("sh", [VAULT_CONFIGURE_SCRIPT], {
        encoding: "utf8",
        env: {
            PATH: `${path.join(fake, "bin")}:${process.env.PATH}`,
            FAKE: fake,
            VAULT_ADDR: "http://vault.vault.svc.cluster.local:8200",
            VAULT_TOKEN: "root",
            MONGO_HOST: "mongodb.microservices-dev.svc.cluster.local",
            MONGO_USERNAME: "root",
            MONGO_PASSWORD: "pw",
            APP_NAMESPACE: "microservices-dev",
            SERVICES: "product-service:product-service order-service:order-service",
            KUBERNETES_SERVICE_HOST: "10.0.0.1",
            READY_FILE: path.join(fake, "ready"),
            ...env,
        },
    });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
}
