// The day-2 scripts run by a POSIX sh against stand-ins: scripts/vault-rollout.sh (kubectl), the dev
// reconciler and mount checks of scripts/vault-configure.sh (vault). `sleep` returns at once so waits
// cost nothing.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "./harness";
import { requireTool } from "./externalTools";
import { lines, sandbox, vaultConfigure, vaultSandbox } from "./vaultConfigureSandbox";

const ROLLOUT_SCRIPT = path.join(ROOT, "scripts", "vault-rollout.sh");

// kubectl: the StatefulSet's update revision in $FAKE/revision, each pod's in $FAKE/pods/<pod>/rev, the
// leader's name in $FAKE/leader (empty in dev). Deleting a pod brings it back on the update revision
// (as the StatefulSet controller does); a step-down moves the leadership to another pod. Every call is
// logged as its verb and pod; a token read by an exec is checked against $EXPECTED_TOKEN.
const FAKE_KUBECTL = `#!/bin/sh
shift 2
verb=$1
echo "$*" >>"$FAKE/calls.log"
case "$verb" in
  get)
    case "$2 $*" in
      "statefulset "*updateRevision*) cat "$FAKE/revision" ;;
      "statefulset "*replicas*) ls "$FAKE/pods" | wc -l | tr -d ' ' ;;
      "pods "*vault-active=true*) cat "$FAKE/leader" ;;
      "pods "*) ls "$FAKE/pods" ;;
      "pod "*controller-revision-hash*) cat "$FAKE/pods/$3/rev" ;;
      "pod "*Ready*) echo True ;;
    esac ;;
  delete) echo "delete $3" >>"$FAKE/actions.log"; cat "$FAKE/revision" >"$FAKE/pods/$3/rev" ;;
  create)
    # kubectl create token <sa> --audience <aud> --duration <d>: a service account token (TokenRequest).
    case "$*" in *"token vault-operator --audience vault "*) printf 'jwt.OPERATOR' ;; *) exit 7 ;; esac ;;
  exec)
    pod=$3
    token=$(cat)
    case "$*" in
      *auth/kubernetes/login*role=vault-operator*jwt=-*)
        [ "$token" = "jwt.OPERATOR" ] || { echo "bad jwt" >&2; exit 8; }
        echo "login $pod" >>"$FAKE/actions.log"; printf '%s' "$EXPECTED_TOKEN"; exit 0 ;;
    esac
    [ "$token" = "$EXPECTED_TOKEN" ] || { echo "bad token" >&2; exit 9; }
    case "$*" in
      *"token revoke -self"*) echo "revoke $pod" >>"$FAKE/actions.log" ;;
      *step-down*) echo "step-down $pod" >>"$FAKE/actions.log"; for p in $(ls "$FAKE/pods"); do [ "$p" != "$pod" ] && { echo "$p" >"$FAKE/leader"; break; }; done ;;
      *autopilot*) printf '{"healthy": true, "servers": {%s}}' "$(ls "$FAKE/pods" | sed 's/.*/"&": {"healthy": true}/' | paste -sd, -)" ;;
    esac ;;
esac
`;

describe("scripts/vault-rollout.sh", () => {
    let fake: string;
    beforeEach(() => {
        fake = sandbox("vault-rollout-", { kubectl: FAKE_KUBECTL });
        fs.mkdirSync(path.join(fake, "pods"));
    });
    afterEach(() => fs.rmSync(fake, { recursive: true, force: true }));

    function cluster(revision: string, pods: Record<string, string>, leader: string) {
        fs.writeFileSync(path.join(fake, "revision"), revision);
        for (const [pod, rev] of Object.entries(pods)) {
            fs.mkdirSync(path.join(fake, "pods", pod));
            fs.writeFileSync(path.join(fake, "pods", pod, "rev"), rev);
        }
        fs.writeFileSync(path.join(fake, "leader"), leader);
    }
    function rollout(...args: string[]) {
        const r = spawnSync("sh", [ROLLOUT_SCRIPT, ...args], {
            encoding: "utf8",
            env: {
                PATH: `${path.join(fake, "bin")}:${process.env.PATH}`,
                FAKE: fake,
                VAULT_TOKEN: "hvs.OPERATOR",
                EXPECTED_TOKEN: "hvs.OPERATOR",
            },
        });
        return { status: r.status, output: `${r.stdout}${r.stderr}` };
    }
    const actions = () => lines(path.join(fake, "actions.log"));

    it("replaces the followers first, then steps the leader down and replaces it", function () {
        requireTool(this, "jq");
        cluster("vault-new", { "vault-0": "vault-old", "vault-1": "vault-old", "vault-2": "vault-old" }, "vault-1");
        const r = rollout();
        assert.equal(r.status, 0, r.output);
        assert.deepEqual(actions(), ["delete vault-0", "delete vault-2", "step-down vault-1", "delete vault-1"]);
        for (const pod of ["vault-0", "vault-1", "vault-2"])
            assert.equal(fs.readFileSync(path.join(fake, "pods", pod, "rev"), "utf8"), "vault-new");
        assert.ok(!lines(path.join(fake, "calls.log")).some((l) => l.includes("hvs.OPERATOR")), "the token is in no kubectl argument");
        assert.match(r.output, /done: every Vault pod runs revision vault-new/);
    });

    it("checks before and after every pod that raft is healthy with every server", function () {
        requireTool(this, "jq");
        cluster("b", { "vault-0": "a", "vault-1": "a", "vault-2": "a" }, "vault-0");
        assert.equal(rollout().status, 0);
        const calls = lines(path.join(fake, "calls.log"));
        const autopilot = calls.filter((l) => l.includes("autopilot")).length;
        assert.ok(autopilot >= 4, `autopilot state read ${autopilot} times: once before, once after each pod`);
    });

    it("leaves a cluster on the current revision alone, and `check` says whether a rollout is due", () => {
        cluster("a", { "vault-0": "a", "vault-1": "a", "vault-2": "a" }, "vault-2");
        assert.equal(rollout("check").status, 0);
        assert.equal(rollout().status, 0);
        assert.deepEqual(actions(), []);
        fs.writeFileSync(path.join(fake, "revision"), "b");
        const check = rollout("check");
        assert.equal(check.status, 3);
        assert.match(check.output, /pods on an old spec: vault-0 vault-1 vault-2/);
        assert.deepEqual(actions(), [], "check changes nothing");
    });

    it("only replaces what is stale: a leader already on the new spec is not stepped down", function () {
        requireTool(this, "jq");
        cluster("b", { "vault-0": "a", "vault-1": "b", "vault-2": "b" }, "vault-1");
        assert.equal(rollout().status, 0);
        assert.deepEqual(actions(), ["delete vault-0"]);
    });

    it("without VAULT_TOKEN: logs in as the vault-operator role with a fresh Vault-audience service account token, and revokes it at the end", function () {
        requireTool(this, "jq");
        cluster("b", { "vault-0": "a", "vault-1": "a", "vault-2": "a" }, "vault-2");
        const r = spawnSync("sh", [ROLLOUT_SCRIPT], {
            encoding: "utf8",
            env: { PATH: `${path.join(fake, "bin")}:${process.env.PATH}`, FAKE: fake, EXPECTED_TOKEN: "hvs.FROM-LOGIN" },
        });
        assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
        const acts = actions();
        assert.equal(acts[0], "login vault-2", "logs in before touching any pod");
        assert.deepEqual(
            acts.filter((a) => !a.startsWith("login")),
            [
                "delete vault-0",
                "delete vault-1",
                "step-down vault-2",
                "delete vault-2",
                `revoke ${fs.readFileSync(path.join(fake, "leader"), "utf8").trim()}`,
            ],
        );
        const calls = lines(path.join(fake, "calls.log")).join("\n");
        assert.doesNotMatch(calls, /jwt\.OPERATOR|hvs\.FROM-LOGIN/, "neither token is in a kubectl argument");
    });

    it("without VAULT_TOKEN and no right to mint the operator's token: stops before any pod is touched, naming the Role", () => {
        cluster("b", { "vault-0": "a", "vault-1": "a", "vault-2": "a" }, "vault-2");
        fs.writeFileSync(path.join(fake, "bin", "kubectl"), FAKE_KUBECTL.replace("create)\n", "create)\n    exit 1\n"), { mode: 0o755 });
        const r = spawnSync("sh", [ROLLOUT_SCRIPT], {
            encoding: "utf8",
            env: { PATH: `${path.join(fake, "bin")}:${process.env.PATH}`, FAKE: fake, EXPECTED_TOKEN: "x" },
        });
        assert.notEqual(r.status, 0);
        assert.match(`${r.stdout}${r.stderr}`, /vault-operator Role/);
        assert.deepEqual(actions(), []);
    });

    it("replaces a dev-mode server (one pod, no leader) without a token", () => {
        cluster("b", { "vault-0": "a" }, "");
        const r = spawnSync("sh", [ROLLOUT_SCRIPT], {
            encoding: "utf8",
            env: { PATH: `${path.join(fake, "bin")}:${process.env.PATH}`, FAKE: fake },
        });
        assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
        assert.deepEqual(actions(), ["delete vault-0"]);
    });
});

describe("scripts/vault-configure.sh", () => {
    let fake: string;
    beforeEach(() => (fake = vaultSandbox("vault-configure-")));
    afterEach(() => fs.rmSync(fake, { recursive: true, force: true }));
    const configure = (env: Record<string, string> = {}) => vaultConfigure(fake, env);
    const enables = () => lines(path.join(fake, "vault.log")).filter((l) => / enable /.test(` ${l} `));

    it("a listing that fails is an error, never 'already mounted' or 'absent'", () => {
        fs.writeFileSync(path.join(fake, "list-fails"), "");
        const r = configure();
        assert.notEqual(r.status, 0);
        assert.match(r.output, /cannot list audit devices/);
        assert.deepEqual(enables(), [], "nothing enabled on a guess");
        assert.doesNotMatch(r.output, /already enabled/);
    });

    it("enables what is absent and skips what is mounted", () => {
        assert.equal(configure().status, 0);
        assert.deepEqual(enables(), [
            "audit enable -path=stdout file file_path=stdout",
            "auth enable kubernetes",
            "secrets enable -path=database database",
        ]);
        fs.rmSync(path.join(fake, "vault.log"));
        const again = configure();
        assert.equal(again.status, 0);
        assert.deepEqual(enables(), []);
        assert.match(again.output, /audit device stdout\/ already enabled/);
        assert.match(again.output, /auth method kubernetes\/ already enabled/);
    });

    it("prod: logs in through Kubernetes auth with the projected token file, then runs every call with that token", () => {
        const jwt = path.join(fake, "jwt");
        fs.writeFileSync(jwt, "projected-token");
        const r = configure({ VAULT_TOKEN: "", VAULT_AUTH_ROLE: "vault-configure", VAULT_AUTH_JWT_FILE: jwt });
        assert.equal(r.status, 0, r.output);
        const calls = lines(path.join(fake, "vault.log"));
        const tokens = lines(path.join(fake, "tokens.log"));
        const login = calls.findIndex((c) => c.startsWith("write -field=token auth/kubernetes/login"));
        assert.equal(
            calls[login],
            `write -field=token auth/kubernetes/login role=vault-configure jwt=@${jwt}`,
            "the JWT is read from its file",
        );
        assert.ok(
            tokens.slice(login + 1).every((t) => t === "hvs.LOGIN-TOKEN"),
            "every later call uses the login's token",
        );
        assert.ok(!r.output.includes("hvs.LOGIN-TOKEN") && !r.output.includes("projected-token"), "neither token is printed");
    });

    it("a failed login fails the Job loudly, having changed nothing", () => {
        fs.writeFileSync(path.join(fake, "login-fails"), "");
        const jwt = path.join(fake, "jwt");
        fs.writeFileSync(jwt, "projected-token");
        const r = configure({ VAULT_TOKEN: "", VAULT_AUTH_ROLE: "vault-configure", VAULT_AUTH_JWT_FILE: jwt });
        assert.notEqual(r.status, 0);
        assert.match(r.output, /cannot log in to Vault as Kubernetes-auth role vault-configure/);
        assert.deepEqual(enables(), []);
    });

    it("with APP_TOKEN_AUDIENCE, each service's role accepts only tokens of that audience", () => {
        assert.equal(configure({ APP_TOKEN_AUDIENCE: "vault" }).status, 0);
        assert.ok(
            lines(path.join(fake, "vault.log")).includes(
                "write auth/kubernetes/role/product-service bound_service_account_names=product-service bound_service_account_namespaces=microservices-dev audience=vault token_policies=product-service token_ttl=1h",
            ),
        );
    });

    it("refuses to start with neither a token nor a Kubernetes-auth role", () => {
        const r = configure({ VAULT_TOKEN: "" });
        assert.notEqual(r.status, 0);
        assert.match(r.output, /set VAULT_AUTH_ROLE \(Kubernetes auth\) or VAULT_TOKEN/);
    });

    it("as the dev reconciler: configures Vault again when a restart emptied it, and only then", () => {
        // The third pause "restarts" Vault: its state is empty again.
        fs.writeFileSync(
            path.join(fake, "bin", "sleep"),
            `#!/bin/sh\nn=$(($(cat "$FAKE/sleeps" 2>/dev/null || echo 0) + 1)); echo $n >"$FAKE/sleeps"\n[ "$n" = 3 ] && rm -f "$FAKE"/v/*\nexit 0\n`,
            { mode: 0o755 },
        );
        const r = configure({ RECONCILE_SECONDS: "30", RECONCILE_ROUNDS: "5" });
        assert.equal(r.status, 0, r.output);
        assert.deepEqual(enables(), [
            "audit enable -path=stdout file file_path=stdout",
            "auth enable kubernetes",
            "secrets enable -path=database database",
            "audit enable -path=stdout file file_path=stdout",
            "auth enable kubernetes",
            "secrets enable -path=database database",
        ]);
        assert.equal((r.output.match(/has lost its configuration/g) ?? []).length, 1, "reconfigured once, after the restart only");
        assert.ok(fs.existsSync(path.join(fake, "ready")), "ready again once configured");
        assert.ok(
            lines(path.join(fake, "vault.log")).includes(
                "write auth/kubernetes/role/order-service bound_service_account_names=order-service bound_service_account_namespaces=microservices-dev token_policies=order-service token_ttl=1h",
            ),
        );
    });

    it("as a Job (no RECONCILE_SECONDS): configures once and exits", () => {
        const r = configure();
        assert.equal(r.status, 0);
        assert.ok(!fs.existsSync(path.join(fake, "ready")), "no readiness file for a Job");
        assert.doesNotMatch(r.output, /lost its configuration/);
    });
});

// scripts/vault-raft-restore.sh: the runbook's restore (docs/operations.md, "Restore Vault from a raft
// snapshot", step 4) and the e2e's (.github/scripts/e2e-vault.sh) are this one script. kubectl: the
// active pod's name in $FAKE/active; an exec that writes the copy keeps it in $FAKE/copy; the restore
// exec reads the token from stdin and checks it against $EXPECTED_TOKEN.
describe("scripts/vault-raft-restore.sh (issue 20 item 8 review, finding 3)", () => {
    const RESTORE_SCRIPT = path.join(ROOT, "scripts", "vault-raft-restore.sh");
    const FAKE_KUBECTL_RESTORE = `#!/bin/sh
shift 2
echo "$*" >>"$FAKE/calls.log"
case "$1" in
  get) cat "$FAKE/active" ;;
  exec)
    shift; [ "$1" = "-i" ] && shift; pod=$1
    for last in "$@"; do :; done
    case "$*" in
      *"cat >"*) cat >"$FAKE/copy"; echo "copy $pod $last" >>"$FAKE/actions.log" ;;
      *"vault operator raft snapshot restore -force"*)
        [ "$(cat)" = "$EXPECTED_TOKEN" ] || { echo "bad token" >&2; exit 9; }
        echo "restore $pod $last $(cat "$FAKE/copy")" >>"$FAKE/actions.log" ;;
      *"rm -f"*) echo "rm $pod $last" >>"$FAKE/actions.log" ;;
      *) echo "unexpected exec: $*" >&2; exit 7 ;;
    esac ;;
esac
`;
    let fake: string;
    beforeEach(() => {
        fake = sandbox("vault-raft-restore-", { kubectl: FAKE_KUBECTL_RESTORE });
        fs.writeFileSync(path.join(fake, "snap"), "SNAPDATA");
    });
    afterEach(() => fs.rmSync(fake, { recursive: true, force: true }));
    const restore = (args: string[], active: string) => {
        fs.writeFileSync(path.join(fake, "active"), active);
        const r = spawnSync("sh", [RESTORE_SCRIPT, ...args], {
            encoding: "utf8",
            env: { PATH: `${path.join(fake, "bin")}:${process.env.PATH}`, FAKE: fake, VAULT_TOKEN: "hvs.ROOT", EXPECTED_TOKEN: "hvs.ROOT" },
        });
        return { status: r.status, output: `${r.stdout}${r.stderr}` };
    };

    it("copies the snapshot into the active pod, restores it there with -force (token on stdin), and removes the copy", () => {
        const r = restore([path.join(fake, "snap")], "vault-1");
        assert.equal(r.status, 0, r.output);
        const actions = lines(path.join(fake, "actions.log"));
        assert.equal(actions.length, 3, actions.join("\n"));
        const copy = actions[0].split(" ")[2];
        assert.deepEqual(actions, [`copy vault-1 ${copy}`, `restore vault-1 ${copy} SNAPDATA`, `rm vault-1 ${copy}`]);
        const calls = lines(path.join(fake, "calls.log"));
        assert.ok(calls[0].includes("vault-active=true"), calls[0]);
        assert.ok(!calls.some((l) => l.includes("hvs.ROOT")), "the token is in no kubectl argument");
    });

    it("refuses without exactly one active pod or a readable snapshot, touching nothing", () => {
        assert.equal(restore([path.join(fake, "snap")], "").status, 1);
        assert.equal(restore([path.join(fake, "snap")], "vault-0 vault-1").status, 1);
        assert.equal(restore([path.join(fake, "missing.snap")], "vault-0").status, 2);
        assert.equal(restore([], "vault-0").status, 2);
        assert.deepEqual(lines(path.join(fake, "actions.log")), []);
    });

    it("is the restore of both the runbook and the e2e, which run no restore command of their own", () => {
        const e2e = fs.readFileSync(path.join(ROOT, ".github", "scripts", "e2e-vault.sh"), "utf8");
        const code = e2e
            .split("\n")
            .filter((l) => !l.trimStart().startsWith("#"))
            .join("\n");
        assert.match(code, /"\$repo_root\/scripts\/vault-raft-restore\.sh" "\$snap"/);
        assert.doesNotMatch(code, /snapshot restore/, "no restore of its own");
        const ops = fs.readFileSync(path.join(ROOT, "docs", "operations.md"), "utf8");
        const section = ops.slice(ops.indexOf("## Restore Vault from a raft snapshot"), ops.indexOf("## Break glass"));
        assert.match(section, /`VAULT_TOKEN=<root> scripts\/vault-raft-restore\.sh vault\.snap`/);
        assert.doesNotMatch(section, /kubectl[^`]*port-forward/, "not a second path through a local CLI");
    });
});
