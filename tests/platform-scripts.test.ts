// scripts/*.sh: shellcheck clean, and scripts/vault-init.sh behaving as the Job relies on, run by a POSIX
// sh against stand-ins for `vault` and `az` (real jq).
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { VAULT_INIT_SCRIPT } from "../components/platform/vaultInit";
import { ROOT } from "./harness";
import { requireTool } from "./externalTools";

describe("scripts", () => {
    it("pass shellcheck", function () {
        requireTool(this, "shellcheck");
        const scripts = fs
            .readdirSync(path.join(ROOT, "scripts"))
            .filter((f) => f.endsWith(".sh"))
            .map((f) => path.join("scripts", f));
        assert.ok(scripts.includes(path.join("scripts", "vault-init.sh")));
        const result = spawnSync("shellcheck", ["-x", ...scripts], { cwd: ROOT, encoding: "utf8" });
        assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
    });
});

// Stand-ins. `vault` keeps each raft peer's state in $FAKE/peers/<pod> (initialised | uninitialised |
// down:N, down for N more calls), the pod taken from VAULT_ADDR; an init initialises every peer (they
// form one cluster). `az` records each call in $FAKE/az.log, serves `secret show --query value` from
// $FAKE/kv/<name> (the placeholder when absent) and writes `secret set --file` content there; a login
// fails while $FAKE/login-fails exists. `sleep` returns at once so retries cost nothing.
const FAKE_VAULT = `#!/bin/sh
peer=$(echo "$VAULT_ADDR" | sed 's|^http://||; s|[.:].*||')
file="$FAKE/peers/$peer"
state=$(cat "$file")
echo "$peer $*" >>"$FAKE/vault.log"
case "$state" in down:0) state=uninitialised; echo uninitialised >"$file" ;; down:*) echo "down:$((\${state#down:} - 1))" >"$file"; exit 1 ;; esac
if [ "$1 $2 $3" = "operator init -status" ]; then [ "$state" = initialised ] && exit 0; exit 2; fi
if [ "$1 $2" = "operator init" ]; then
  [ "$state" = initialised ] && { echo "Vault is already initialized" >&2; exit 2; }
  for p in "$FAKE"/peers/*; do echo initialised >"$p"; done
  printf '{\\n  "recovery_keys_b64": ["a2V5MQ==","a2V5Mg==","a2V5Mw=="],\\n  "recovery_keys_hex": ["6b657931"],\\n  "recovery_keys_shares": 3,\\n  "recovery_keys_threshold": 2,\\n  "root_token": "hvs.FAKE-ROOT-TOKEN"\\n}\\n'
  exit 0
fi
# The bootstrap's calls, with the token each ran with; lists answer empty.
echo "token=$VAULT_TOKEN $*" >>"$FAKE/bootstrap.log"
[ -e "$FAKE/bootstrap-fails" ] && { echo "permission denied" >&2; exit 2; }
case "$1 $2" in "audit list" | "auth list") echo '{}' ;; esac
exit 0
`;
const FAKE_AZ = `#!/bin/sh
echo "$*" >>"$FAKE/az.log"
name=""; file=""
for a in "$@"; do :; done
case "$1 $2 $3" in
  "login --service-principal --username") [ -e "$FAKE/login-fails" ] && { echo "AADSTS700213: No matching federated identity record found" >&2; exit 1; }; exit 0 ;;
  "keyvault secret show")
    while [ $# -gt 0 ]; do case "$1" in --name) name=$2; shift ;; esac; shift; done
    if [ -f "$FAKE/kv/$name" ]; then cat "$FAKE/kv/$name"; echo; else echo "$PLACEHOLDER"; fi; exit 0 ;;
  "keyvault secret set")
    while [ $# -gt 0 ]; do case "$1" in --name) name=$2; shift ;; --file) file=$2; shift ;; esac; shift; done
    mkdir -p "$FAKE/kv"; cp "$file" "$FAKE/kv/$name"; exit 0 ;;
esac
exit 3
`;
const PEERS = ["vault-0", "vault-1", "vault-2"];
const PLACEHOLDER = "pending: written by the vault-init Job";

describe("scripts/vault-init.sh", function () {
    let fake: string;
    let work: string;

    before(function () {
        requireTool(this, "jq");
    });

    beforeEach(() => {
        fake = fs.mkdtempSync(path.join(os.tmpdir(), "vault-init-"));
        work = path.join(fake, "work");
        for (const dir of [work, path.join(fake, "bin"), path.join(fake, "peers"), path.join(fake, "kv"), path.join(fake, "tmp")]) {
            fs.mkdirSync(dir);
        }
        for (const [name, body] of Object.entries({ vault: FAKE_VAULT, az: FAKE_AZ, sleep: "#!/bin/sh\nexit 0\n" })) {
            fs.writeFileSync(path.join(fake, "bin", name), body, { mode: 0o755 });
        }
        fs.writeFileSync(path.join(fake, "token"), "federated-token");
        fs.mkdirSync(path.join(fake, "policies"));
        for (const policy of ["vault-configure", "vault-snapshot"]) fs.writeFileSync(path.join(fake, "policies", `${policy}.hcl`), "");
        peers("uninitialised");
    });

    afterEach(() => fs.rmSync(fake, { recursive: true, force: true }));

    function peers(...states: string[]) {
        PEERS.forEach((p, i) => fs.writeFileSync(path.join(fake, "peers", p), states[i] ?? states[0]));
    }
    /** A Key Vault that already holds the recovery keys of an initialised Vault. */
    function storedCredentials() {
        fs.writeFileSync(path.join(fake, "kv", "vault-recovery-keys"), '{"recovery_keys_b64":["ZXhpc3Rpbmc="]}');
    }
    function phase(name: string) {
        const result = spawnSync("sh", [VAULT_INIT_SCRIPT, name], {
            encoding: "utf8",
            env: {
                PATH: `${path.join(fake, "bin")}:${process.env.PATH}`,
                FAKE: fake,
                WORK_DIR: work,
                TMPDIR: path.join(fake, "tmp"),
                VAULT_PEERS: PEERS.map((p) => `http://${p}.vault-internal.vault.svc.cluster.local:8200`).join(" "),
                RECOVERY_SHARES: "3",
                RECOVERY_THRESHOLD: "2",
                KEY_VAULT_NAME: "gitops-prod-seal-ab12",
                POLICY_DIR: path.join(fake, "policies"),
                BOOTSTRAP_ROLES: "vault-configure:vault-configure vault-snapshot:vault-snapshot",
                ROLE_NAMESPACE: "vault",
                TOKEN_AUDIENCE: "vault",
                KUBERNETES_SERVICE_HOST: "10.0.0.1",
                RECOVERY_KEYS_SECRET: "vault-recovery-keys",
                PLACEHOLDER,
                AZURE_CLIENT_ID: "client",
                AZURE_TENANT_ID: "tenant",
                AZURE_FEDERATED_TOKEN_FILE: path.join(fake, "token"),
            },
        });
        return { status: result.status, output: `${result.stdout}${result.stderr}` };
    }
    /** The Job's pod: the two init containers, then the main container, whose result is the Job's. */
    const pod = () => ["preflight", "init", "store"].map(phase);
    const read = (file: string) => fs.readFileSync(path.join(fake, file), "utf8");
    const log = (file: string) => (fs.existsSync(path.join(fake, file)) ? read(file).trim().split("\n") : []);
    const inits = () => log("vault.log").filter((l) => l.includes("-recovery-shares"));
    const writes = () => log("az.log").filter((l) => l.startsWith("keyvault secret set"));

    it("first install: initialises once, bootstraps with the root token, revokes it, stores only the recovery keys, printing nothing", () => {
        const runs = pod();
        for (const r of runs) assert.equal(r.status, 0, r.output);
        assert.deepEqual(inits(), ["vault-0 operator init -recovery-shares=3 -recovery-threshold=2 -format=json"]);
        for (const p of PEERS) assert.ok(log("vault.log").includes(`${p} operator init -status`), `asked ${p}`);
        const bootstrap = log("bootstrap.log");
        assert.ok(
            bootstrap.every((l) => l.startsWith("token=hvs.FAKE-ROOT-TOKEN ")),
            "every bootstrap call runs with the new root token",
        );
        const calls = bootstrap.map((l) => l.replace(/^token=\S+ /, ""));
        assert.equal(calls.filter((c) => c.startsWith("audit enable"))[0], "audit enable -path=stdout file file_path=stdout");
        assert.ok(
            calls.indexOf("audit enable -path=stdout file file_path=stdout") < calls.indexOf("auth enable kubernetes"),
            "audited from the start",
        );
        for (const role of ["vault-configure", "vault-snapshot"]) {
            assert.ok(
                calls.some((c) => c.startsWith(`policy write ${role} `)),
                role,
            );
            assert.ok(
                calls.some((c) =>
                    c.startsWith(
                        `write auth/kubernetes/role/${role} bound_service_account_names=${role} bound_service_account_namespaces=vault audience=vault token_policies=${role} `,
                    ),
                ),
                `${role}: ${calls.join("\n")}`,
            );
        }
        assert.equal(calls[calls.length - 1], "token revoke -self", "the root token is revoked last");
        assert.ok(!fs.existsSync(path.join(fake, "kv", "vault-root-token")), "no root token in Key Vault");
        assert.deepEqual(JSON.parse(read("kv/vault-recovery-keys")), {
            recovery_keys_b64: ["a2V5MQ==", "a2V5Mg==", "a2V5Mw=="],
            recovery_keys_shares: 3,
            recovery_keys_threshold: 2,
        });
        const az = log("az.log");
        assert.ok(
            az[0].startsWith(`login --service-principal --username client --tenant tenant --federated-token @${path.join(fake, "token")}`),
            az[0],
        );
        assert.ok(!az.join("\n").includes("federated-token federated-token"), "the federated token itself is in no command line");
        assert.ok(
            az.some((l) =>
                /^keyvault secret set --vault-name gitops-prod-seal-ab12 --name vault-recovery-keys --file \S+ --encoding utf-8 --content-type application\/json/.test(
                    l,
                ),
            ),
            az.join("\n"),
        );
        const printed = runs.map((r) => r.output).join("");
        for (const secret of ["hvs.FAKE-ROOT-TOKEN", "a2V5MQ=="]) assert.ok(!printed.includes(secret), `printed ${secret}`);
        for (const secret of ["hvs.FAKE-ROOT-TOKEN", "a2V5MQ=="])
            assert.ok(!az.join("\n").includes(secret), `passed ${secret} as an argument`);
        assert.deepEqual(fs.readdirSync(work).sort(), ["bootstrapped", "key-vault", "stored"], "the init output is deleted once stored");
    });

    it("a failed bootstrap still stores the recovery keys, then fails the Job with the reason", () => {
        fs.writeFileSync(path.join(fake, "bootstrap-fails"), "");
        const [preflight, init, store] = pod();
        assert.equal(preflight.status, 0, preflight.output);
        assert.equal(init.status, 0, "recorded");
        assert.notEqual(store.status, 0, store.output);
        assert.match(store.output, /phase init failed/);
        assert.match(store.output, /recovery keys stored in Key Vault/);
        assert.deepEqual(JSON.parse(read("kv/vault-recovery-keys")).recovery_keys_b64, ["a2V5MQ==", "a2V5Mg==", "a2V5Mw=="]);
        assert.ok(!store.output.includes("hvs.FAKE-ROOT-TOKEN"));
    });

    it("already initialised, credentials in Key Vault: does nothing and succeeds", () => {
        storedCredentials();
        peers("initialised");
        for (const r of pod()) assert.equal(r.status, 0, r.output);
        assert.deepEqual(inits(), []);
        assert.deepEqual(writes(), [], "nothing written to Key Vault");
    });

    it("a replaced follower (vault-0 on a new volume, not rejoined yet) is never initialised on its own", () => {
        storedCredentials();
        peers("uninitialised", "initialised", "initialised");
        for (const r of pod()) assert.equal(r.status, 0, r.output);
        assert.deepEqual(inits(), [], "no second cluster");
        assert.deepEqual(writes(), []);
        assert.deepEqual(log("bootstrap.log"), [], "no bootstrap without a new root token");
    });

    const refusals: [string, () => void, RegExp][] = [
        [
            "credentials in Key Vault but no initialised peer (raft volumes lost)",
            () => {
                storedCredentials();
                peers("uninitialised");
            },
            /REFUSING: Key Vault holds the recovery keys of an initialised Vault, but no raft peer is initialised/,
        ],
        [
            "an initialised peer but no credentials in Key Vault (the init output was lost)",
            () => peers("initialised", "uninitialised", "uninitialised"),
            /REFUSING: raft peers .*vault-0.* are initialised, but Key Vault holds no recovery keys/,
        ],
    ];
    for (const [name, arrange, message] of refusals) {
        it(`refuses, non-zero with what it found: ${name}`, () => {
            arrange();
            const kvBefore = fs.readdirSync(path.join(fake, "kv")).map((f) => [f, read(`kv/${f}`)]);
            const [preflight, init, store] = pod();
            assert.equal(preflight.status, 0, preflight.output);
            assert.equal(init.status, 0, "the init container records the failure and lets the pod go on");
            assert.notEqual(store.status, 0, "the main container fails the Job");
            assert.match(store.output, /phase init failed/);
            assert.match(store.output, message);
            assert.deepEqual(inits(), [], "nothing initialised");
            assert.deepEqual(writes(), [], "nothing written");
            assert.deepEqual(
                fs.readdirSync(path.join(fake, "kv")).map((f) => [f, read(`kv/${f}`)]),
                kvBefore,
                "Key Vault unchanged",
            );
        });
    }

    it("never overwrites credentials another initialisation stored in the meantime", () => {
        assert.equal(phase("preflight").status, 0);
        assert.equal(phase("init").status, 0);
        fs.writeFileSync(path.join(fake, "kv", "vault-recovery-keys"), '{"recovery_keys_b64":["b3RoZXI="]}');
        const store = phase("store");
        assert.notEqual(store.status, 0);
        assert.match(store.output, /already holds a real value from another initialisation: refusing to overwrite it/);
        assert.equal(read("kv/vault-recovery-keys"), '{"recovery_keys_b64":["b3RoZXI="]}');
        assert.ok(!fs.existsSync(path.join(fake, "kv", "vault-root-token")), "no root token is ever written");
    });

    it("waits for a raft peer that does not answer yet", () => {
        peers("uninitialised", "down:2", "uninitialised");
        assert.equal(phase("preflight").status, 0);
        assert.equal(phase("init").status, 0);
        assert.ok(fs.existsSync(path.join(work, "init.json")));
    });

    it("a store that already succeeded is not repeated when the container restarts", () => {
        for (const r of pod()) assert.equal(r.status, 0, r.output);
        fs.rmSync(path.join(fake, "az.log"));
        assert.equal(phase("store").status, 0);
        assert.deepEqual(log("az.log"), []);
    });

    it("a failed init container's cause reaches the main container's output (the Job's error)", () => {
        fs.writeFileSync(path.join(fake, "login-fails"), "");
        const [preflight, init, store] = pod();
        assert.equal(preflight.status, 0);
        assert.match(init.output, /skipped: an earlier phase failed/);
        assert.notEqual(store.status, 0);
        assert.match(store.output, /phase preflight failed \(exit 1\)/);
        assert.match(store.output, /AADSTS700213: No matching federated identity record found/);
        assert.deepEqual(log("vault.log"), [], "Vault was not touched");
    });

    it("fails when there is neither init output nor a record that Vault was initialised", () => {
        const r = phase("store");
        assert.notEqual(r.status, 0);
        assert.match(r.output, /no initialisation output/);
    });

    it("rejects an unknown phase", () => {
        assert.equal(phase("everything").status, 64);
    });
});
