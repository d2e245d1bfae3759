// scripts/*.sh: shellcheck clean, and scripts/vault-init.sh behaving as the Job relies on, run by a POSIX
// sh against stand-ins for `vault` and `az` (real jq).
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { VAULT_INIT_SCRIPT } from "../components/platform/vaultInit";
import { ROOT } from "./harness";

/**
 * Whether `tool` is installed. These tools are Debian packages that .ci/run installs; on a machine
 * without them the tests that need them are skipped, unless REQUIRE_TEST_TOOLS=1 (set by CI) makes
 * that a failure, so CI can never pass by skipping.
 */
function available(tool: string): boolean {
    const missing = Boolean(spawnSync(tool, ["--version"], { stdio: "ignore" }).error);
    if (missing && process.env.REQUIRE_TEST_TOOLS === "1") assert.fail(`${tool} is not installed and REQUIRE_TEST_TOOLS=1`);
    return !missing;
}

describe("scripts", () => {
    it("pass shellcheck", function () {
        if (!available("shellcheck")) this.skip();
        const scripts = fs
            .readdirSync(path.join(ROOT, "scripts"))
            .filter((f) => f.endsWith(".sh"))
            .map((f) => path.join("scripts", f));
        assert.ok(scripts.includes(path.join("scripts", "vault-init.sh")));
        const result = spawnSync("shellcheck", ["-x", ...scripts], { cwd: ROOT, encoding: "utf8" });
        assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
    });
});

// Stand-ins. `vault` keeps its state in $FAKE/state (initialised | uninitialised | down:N, down for N
// more calls); `az` records each call in $FAKE/az.log and writes `secret set --file` content to
// $FAKE/kv/<name>; `sleep` returns at once so retries cost nothing.
const FAKE_VAULT = `#!/bin/sh
state=$(cat "$FAKE/state")
echo "$*" >>"$FAKE/vault.log"
case "$state" in down:0) state=uninitialised; echo uninitialised >"$FAKE/state" ;; down:*) echo "down:$((\${state#down:} - 1))" >"$FAKE/state"; exit 1 ;; esac
if [ "$1 $2 $3" = "operator init -status" ]; then [ "$state" = initialised ] && exit 0; exit 2; fi
[ "$state" = initialised ] && { echo "Vault is already initialized" >&2; exit 2; }
echo initialised >"$FAKE/state"
printf '{"recovery_keys_b64":["a2V5MQ==","a2V5Mg==","a2V5Mw=="],"recovery_keys_hex":["6b657931"],"recovery_keys_shares":3,"recovery_keys_threshold":2,"root_token":"hvs.FAKE-ROOT-TOKEN"}\\n'
`;
const FAKE_AZ = `#!/bin/sh
echo "$*" >>"$FAKE/az.log"
case "$1 $2 $3" in
  "login --service-principal --username") exit 0 ;;
  "keyvault secret show") exit 0 ;;
  "keyvault secret set")
    name=""; file=""
    while [ $# -gt 0 ]; do case "$1" in --name) name=$2; shift ;; --file) file=$2; shift ;; esac; shift; done
    mkdir -p "$FAKE/kv"; cp "$file" "$FAKE/kv/$name"; exit 0 ;;
esac
exit 3
`;

describe("scripts/vault-init.sh", function () {
    let fake: string;
    let work: string;

    before(function () {
        if (!available("jq")) this.skip();
    });

    beforeEach(() => {
        fake = fs.mkdtempSync(path.join(os.tmpdir(), "vault-init-"));
        work = path.join(fake, "work");
        fs.mkdirSync(work);
        fs.mkdirSync(path.join(fake, "bin"));
        for (const [name, body] of Object.entries({ vault: FAKE_VAULT, az: FAKE_AZ, sleep: "#!/bin/sh\nexit 0\n" })) {
            fs.writeFileSync(path.join(fake, "bin", name), body, { mode: 0o755 });
        }
        fs.writeFileSync(path.join(fake, "token"), "federated-token");
        fs.writeFileSync(path.join(fake, "state"), "uninitialised");
    });

    afterEach(() => fs.rmSync(fake, { recursive: true, force: true }));

    function phase(name: string) {
        const result = spawnSync("sh", [VAULT_INIT_SCRIPT, name], {
            encoding: "utf8",
            env: {
                PATH: `${path.join(fake, "bin")}:${process.env.PATH}`,
                FAKE: fake,
                WORK_DIR: work,
                VAULT_ADDR: "http://vault-0.vault-internal:8200",
                RECOVERY_SHARES: "3",
                RECOVERY_THRESHOLD: "2",
                KEY_VAULT_NAME: "gitops-prod-seal-ab12",
                ROOT_TOKEN_SECRET: "vault-root-token",
                RECOVERY_KEYS_SECRET: "vault-recovery-keys",
                AZURE_CLIENT_ID: "client",
                AZURE_TENANT_ID: "tenant",
                AZURE_FEDERATED_TOKEN_FILE: path.join(fake, "token"),
            },
        });
        return { status: result.status, output: `${result.stdout}${result.stderr}` };
    }
    const read = (file: string) => fs.readFileSync(path.join(fake, file), "utf8");
    const log = (file: string) => (fs.existsSync(path.join(fake, file)) ? read(file).trim().split("\n") : []);

    it("first install: initialises once and stores the root token and recovery keys in Key Vault, printing neither", () => {
        const runs = ["preflight", "init", "store"].map(phase);
        for (const r of runs) assert.equal(r.status, 0, r.output);
        assert.deepEqual(log("vault.log"), [
            "operator init -status",
            "operator init -recovery-shares=3 -recovery-threshold=2 -format=json",
        ]);
        assert.equal(read("kv/vault-root-token"), "hvs.FAKE-ROOT-TOKEN");
        assert.deepEqual(JSON.parse(read("kv/vault-recovery-keys")), {
            recovery_keys_b64: ["a2V5MQ==", "a2V5Mg==", "a2V5Mw=="],
            recovery_keys_shares: 3,
            recovery_keys_threshold: 2,
        });
        const az = log("az.log");
        assert.ok(az[0].startsWith("login --service-principal --username client --tenant tenant --federated-token federated-token"), az[0]);
        assert.ok(
            az.some((l) =>
                /^keyvault secret set --vault-name gitops-prod-seal-ab12 --name vault-root-token --file \S+ --encoding utf-8 --content-type text\/plain/.test(
                    l,
                ),
            ),
            az.join("\n"),
        );
        const printed = runs.map((r) => r.output).join("");
        for (const secret of ["hvs.FAKE-ROOT-TOKEN", "a2V5MQ=="]) assert.ok(!printed.includes(secret), `printed ${secret}`);
        for (const secret of ["hvs.FAKE-ROOT-TOKEN", "a2V5MQ=="])
            assert.ok(!az.join("\n").includes(secret), `passed ${secret} as an argument`);
        assert.deepEqual(fs.readdirSync(work), ["stored"], "the init output is deleted once stored");
    });

    it("already initialised: does nothing and succeeds", () => {
        fs.writeFileSync(path.join(fake, "state"), "initialised");
        for (const name of ["preflight", "init", "store"]) assert.equal(phase(name).status, 0, name);
        assert.deepEqual(log("vault.log"), ["operator init -status"]);
        assert.ok(!log("az.log").some((l) => l.startsWith("keyvault secret set")), "nothing written to Key Vault");
    });

    it("waits for a Vault that does not answer yet", () => {
        fs.writeFileSync(path.join(fake, "state"), "down:2");
        assert.equal(phase("init").status, 0);
        assert.ok(fs.existsSync(path.join(work, "init.json")));
    });

    it("a store that already succeeded is not repeated when the container restarts", () => {
        for (const name of ["init", "store"]) assert.equal(phase(name).status, 0);
        fs.rmSync(path.join(fake, "az.log"));
        assert.equal(phase("store").status, 0);
        assert.deepEqual(log("az.log"), []);
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
