// The workflows' scripts run for real, with stand-ins for the CLIs they call: drift-check.sh (pulumi
// and gh stubbed) reports drift in one issue without any property value, updates or closes it, and
// fails on other errors; commit-promotion.sh commits the promotion to main of a local origin.
import { strict as assert } from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT } from "./harness";
import { requireTool } from "./externalTools";

const SCRIPTS = path.join(ROOT, ".github", "scripts");

/** A fresh directory with an empty bin/ for stand-ins; returns the directory. */
function sandbox(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    fs.mkdirSync(path.join(dir, "bin"));
    return dir;
}

/** Writes an executable script into `dir`. */
function stub(dir: string, name: string, body: string): void {
    fs.writeFileSync(path.join(dir, name), `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
}

describe(".github/scripts/drift-check.sh", function () {
    let tmp: string;
    before(function () {
        for (const tool of ["bash", "jq"]) requireTool(this, tool);
    });
    beforeEach(() => {
        tmp = sandbox("drift-");
        // pulumi: `stack select` succeeds; `preview` prints $PREVIEW_JSON and exits $PREVIEW_EXIT.
        stub(
            path.join(tmp, "bin"),
            "pulumi",
            'case "$1" in stack) exit 0 ;; preview) cat "$PREVIEW_JSON"; exit "$PREVIEW_EXIT" ;; esac; exit 9',
        );
        // gh: logs each call; `issue list` answers $EXISTING; a --body-file's content is logged too.
        stub(
            path.join(tmp, "bin"),
            "gh",
            [
                'echo "gh $*" >> "$GH_LOG"',
                'if [ "$1 $2" = "issue list" ]; then echo "${EXISTING:-}"; fi',
                'while [ $# -gt 0 ]; do if [ "$1" = --body-file ]; then cat "$2" >> "$GH_LOG"; fi; shift; done',
            ].join("\n"),
        );
    });
    afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

    const SECRET = "s3cr3t-value-never-in-an-issue";
    const URN = "urn:pulumi:dev::aks-platform::azure-native:keyvault:Vault::app-kv";
    const digest = {
        steps: [
            { op: "same", urn: "urn:pulumi:dev::aks-platform::random:index/randomPassword:RandomPassword::db" },
            {
                op: "update",
                urn: URN,
                diffReasons: ["properties"],
                oldState: { inputs: { properties: { tenantId: SECRET } } },
                newState: { inputs: { properties: { tenantId: "other" } } },
                detailedDiff: { "properties.networkAcls": { kind: "update", inputDiff: false } },
            },
        ],
        changeSummary: { same: 1, update: 1 },
    };

    function run(exit: number, existing = "") {
        const json = path.join(tmp, "preview-in.json");
        fs.writeFileSync(json, JSON.stringify(digest));
        const log = path.join(tmp, "gh.log");
        fs.writeFileSync(log, "");
        const result = spawnSync("bash", [path.join(SCRIPTS, "drift-check.sh"), "dev"], {
            cwd: tmp,
            encoding: "utf8",
            env: {
                ...process.env,
                PATH: `${path.join(tmp, "bin")}:${process.env.PATH}`,
                PREVIEW_JSON: json,
                PREVIEW_EXIT: String(exit),
                EXISTING: existing,
                GH_LOG: log,
                GITHUB_REPOSITORY: "owner/repo",
                GITHUB_RUN_ID: "42",
            },
        });
        return { status: result.status, gh: fs.readFileSync(log, "utf8") };
    }

    it("opens one issue on drift with operations, URNs and property names, never values", () => {
        const { status, gh } = run(7);
        assert.equal(status, 1);
        assert.match(gh, /gh issue create --title Drift: dev stack --label drift --body-file drift\.md/);
        assert.ok(gh.includes(`| update | \`${URN}\` | properties |`), gh);
        assert.ok(gh.includes("/owner/repo/actions/runs/42"));
        assert.ok(!gh.includes(SECRET), "a property value reached the issue");
        assert.ok(!gh.includes("RandomPassword::db"), "unchanged resources are left out");
    });

    it("updates and comments on the open drift issue instead of opening another", () => {
        const { status, gh } = run(7, "12");
        assert.equal(status, 1);
        assert.doesNotMatch(gh, /issue create/);
        assert.match(gh, /gh issue edit 12 --body-file drift\.md/);
        assert.match(gh, /gh issue comment 12 --body Still drifting/);
    });

    it("closes the open drift issue once the stack is clean", () => {
        const { status, gh } = run(0, "12");
        assert.equal(status, 0);
        assert.match(gh, /gh issue close 12 --comment No drift/);
    });

    it("fails on any other error without touching issues", () => {
        const { status, gh } = run(2, "12");
        assert.equal(status, 2);
        assert.doesNotMatch(gh, /issue (create|edit|close|comment)/);
    });
});

describe(".github/scripts/commit-promotion.sh", function () {
    let tmp: string;
    const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8" }).trim();
    before(function () {
        for (const tool of ["bash", "git"]) requireTool(this, tool);
    });
    beforeEach(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "promotion-"));
        git(tmp, "init", "--quiet", "--bare", "--initial-branch=main", "origin.git");
        git(tmp, "clone", "--quiet", path.join(tmp, "origin.git"), "work");
        const work = path.join(tmp, "work");
        fs.writeFileSync(path.join(work, "Pulumi.dev.yaml"), "config:\n  aks-platform:services:\n    productTag: dev-1\n");
        git(work, "add", ".");
        git(work, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "init");
        git(work, "push", "--quiet", "origin", "HEAD:main");
    });
    afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

    function promote(): { status: number | null; sha: string } {
        const work = path.join(tmp, "work");
        const output = path.join(tmp, "output");
        fs.writeFileSync(output, "");
        const result = spawnSync("bash", [path.join(SCRIPTS, "commit-promotion.sh"), "Promote dev-2 to dev"], {
            cwd: work,
            encoding: "utf8",
            env: { ...process.env, GITHUB_OUTPUT: output },
        });
        assert.equal(result.status, 0, result.stderr);
        return { status: result.status, sha: fs.readFileSync(output, "utf8").match(/^sha=(\w+)$/m)![1] };
    }

    it("commits the stack file and argocd/apps to main and reports the commit", () => {
        const work = path.join(tmp, "work");
        fs.writeFileSync(path.join(work, "Pulumi.dev.yaml"), "config:\n  aks-platform:services:\n    productTag: dev-2\n");
        fs.mkdirSync(path.join(work, "argocd", "apps", "dev"), { recursive: true });
        fs.writeFileSync(path.join(work, "argocd", "apps", "dev", "values.yaml"), "tag: dev-2\n");
        fs.writeFileSync(path.join(work, "unrelated.txt"), "not promoted\n");
        const { sha } = promote();
        const origin = path.join(tmp, "origin.git");
        assert.equal(git(origin, "rev-parse", "main"), sha);
        assert.equal(git(origin, "log", "-1", "--format=%s", "main"), "Promote dev-2 to dev");
        assert.deepEqual(git(origin, "show", "--name-only", "--format=", "main").split("\n").sort(), [
            "Pulumi.dev.yaml",
            "argocd/apps/dev/values.yaml",
        ]);
    });

    it("commits nothing when the tags are already there, and reports the current commit", () => {
        const before = git(path.join(tmp, "origin.git"), "rev-parse", "main");
        assert.equal(promote().sha, before);
        assert.equal(git(path.join(tmp, "origin.git"), "rev-parse", "main"), before);
    });
});

describe(".github/scripts/e2e-smoke.sh", function () {
    let tmp: string;
    before(function () {
        for (const tool of ["bash", "jq"]) requireTool(this, tool);
    });
    beforeEach(() => {
        tmp = sandbox("smoke-");
        const bin = path.join(tmp, "bin");
        stub(
            bin,
            "pulumi",
            'case "$3" in appNamespace) echo microservices-local ;; ingressGatewayNamespace) echo istio-ingress ;; ingressGatewayService) echo istio-ingressgateway ;; ingressHost) echo app.local.example.com ;; esac',
        );
        // kubectl: pods with the containers in $CONTAINERS, a node address and the gateway's NodePort,
        // the dev root token's Secret (base64 of "s3cr3t"), Vault's leases.
        stub(
            bin,
            "kubectl",
            [
                'echo "kubectl $*" >> "$LOG"',
                // local.vaultMode ha: no dev root token's Secret.
                'case "${HA:-}$*" in ha*"secret vault-dev-root-token"*) exit 1 ;; esac',
                'case "$*" in *"get pods"*) echo "$CONTAINERS" ;; *"get nodes"*) echo 172.18.0.2 ;; *"service/istio-ingressgateway"*) echo 31443 ;;',
                '  *"secret vault-dev-root-token"*) echo czNjcjN0 ;; *"vault list"*) echo "stdin $(cat)" >> "$LOG"; echo \'["a1b2"]\' ;; esac',
            ].join("\n"),
        );
        // curl: the services' answers (lists are arrays, records have numeric ids), the request logged.
        stub(
            bin,
            "curl",
            [
                'echo "curl $*" >> "$LOG"',
                'case "$*" in',
                '  *"-X POST"*) echo \'{"id":7,"customerId":"e2e-9","items":[{"productId":1,"quantity":2,"price":999.99}]}\' ;;',
                '  */api/orders/7) echo \'{"id":7,"customerId":"e2e-9","items":[{"productId":1,"quantity":2,"price":999.99}]}\' ;;',
                '  */api/products) echo "$PRODUCTS" ;;',
                "  *) exit 22 ;;",
                "esac",
            ].join("\n"),
        );
    });
    afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

    const SEEDED = ["Laptop", "Mouse", "Keyboard", "Monitor"].map((name, i) => ({ id: i + 1, name, price: 10 * (i + 1) }));

    function smoke(containers: string, products: unknown[] = SEEDED, ha = false, mode = ha ? "ha" : "dev") {
        const log = path.join(tmp, "log");
        fs.writeFileSync(log, "");
        const result = spawnSync("bash", [path.join(SCRIPTS, "e2e-smoke.sh")], {
            encoding: "utf8",
            env: {
                ...process.env,
                PATH: `${path.join(tmp, "bin")}:${process.env.PATH}`,
                LOG: log,
                CONTAINERS: containers,
                PRODUCTS: JSON.stringify(products),
                GITHUB_RUN_ID: "9",
                HA: ha ? "ha" : "",
                // The workflow's matrix entry (e2e.yml passes it to the step).
                VAULT_MODE: mode,
            },
        });
        return { status: result.status, out: result.stdout + result.stderr, log: fs.readFileSync(log, "utf8") };
    }

    it("passes with both sidecars, the seeded products, an order that round-trips and a Vault lease", () => {
        const { status, out, log } = smoke("product-service vault-agent istio-proxy vault-agent-init");
        assert.equal(status, 0, out);
        assert.match(out, /order 7 round-trips/);
        assert.match(
            log,
            /--resolve app\.local\.example\.com:31443:172\.18\.0\.2 --fail https:\/\/app\.local\.example\.com:31443\/api\/products/,
        );
        // Vault is asked with the generated token read from its Secret, never the chart's "root"; the
        // token reaches the pod's shell on stdin, never in the exec's command line.
        assert.match(log, /kubectl -n vault exec -i vault-0 -c vault -- sh -c VAULT_TOKEN=\$\(cat\) exec vault "\$@" vault list /);
        assert.match(log, /^stdin s3cr3t$/m);
        assert.doesNotMatch(log, /kubectl .*s3cr3t/);
        assert.doesNotMatch(log, /port-forward/);
        assert.match(log, /--data \{"customerId":"e2e-9","items":\[\{"productId":1,"quantity":2,"price":10\}\]\}/);
        assert.match(log, /sys\/leases\/lookup\/database\/creds\/microservices-role/);
    });

    it("with local.vaultMode ha (no dev root token) leaves the lease check to e2e-vault.sh", () => {
        const { status, out, log } = smoke("product-service vault-agent istio-proxy vault-agent-init", SEEDED, true);
        assert.equal(status, 0, out);
        assert.match(out, /the leases are checked by \.github\/scripts\/e2e-vault\.sh/);
        assert.doesNotMatch(log, /vault list/);
    });

    it("fails a dev run whose dev root token Secret is gone, instead of skipping its lease check", () => {
        const { status, out } = smoke("product-service vault-agent istio-proxy vault-agent-init", SEEDED, true, "dev");
        assert.notEqual(status, 0, out);
    });

    it("fails when a pod has no Istio proxy, or a seeded product is missing", () => {
        assert.match(smoke("product-service vault-agent").out, /without istio-proxy/);
        assert.match(smoke("product-service istio-proxy vault-agent", SEEDED.slice(1)).out, /seeded product Laptop missing/);
    });
});
