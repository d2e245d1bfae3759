// The day-2 scripts run by a POSIX sh against stand-ins: scripts/vault-rollout.sh (kubectl), the dev
// reconciler and mount checks of scripts/vault-configure.sh (vault). `sleep` returns at once so waits
// cost nothing.
import { strict as assert } from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
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
// exec stands in for the pod's `vault operator raft snapshot restore` as hashicorp/vault (1.21) has it:
// - command/operator_raft_snapshot_restore.go: one bool flag, -force (Go's flag package: -force,
//   --force, -force=true|false, flags before the one argument; "Incorrect arguments (expected 1, got N)"
//   and exit 1 otherwise); an API error is printed as "Error installing the snapshot: <err>", exit 2;
// - api/sys_raft.go, RaftSnapshotRestoreWithContext: POST sys/storage/raft/snapshot, or
//   sys/storage/raft/snapshot-force with -force;
// - vault/logical_system_raft.go, handleStorageRaftSnapshotWrite: unless forced, the running seal must
//   open the snapshot's sealed hashes, else 400 with the text below and nothing restored; forced, no
//   check. The fake's snapshot names the seal key its hashes were sealed with (line 1, "sealed-by:"); the
//   cluster's is $FAKE/seal. The error's frame is api/response.go, ResponseError.Error.
// The token is read from stdin and checked against $EXPECTED_TOKEN.
const VAULT_SEAL_REFUSAL =
    "could not verify hash file, possibly the snapshot is using a different autoseal key; use the snapshot-force API to bypass this check";
describe("scripts/vault-raft-restore.sh (issue 20 item 8 review, finding 3; -force opt-in)", () => {
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
      *"vault operator raft snapshot restore"*)
        if [ -f "$FAKE/hang" ]; then echo "hanging $pod" >>"$FAKE/actions.log"; s=$(cat "$FAKE/hang"); command -p sleep "\${s:-30}"; fi
        while [ "$1" != "--" ]; do shift; done
        # -- sh -c SCRIPT vault operator raft snapshot restore (scripts/lib-kubectl.sh, vault_exec_token):
        # what follows is the CLI's own arguments.
        shift 5; [ "$1 $2 $3 $4" = "operator raft snapshot restore" ] || { echo "not a restore: $*" >&2; exit 7; }; shift 4
        force=false
        while [ "$#" -gt 0 ]; do
          case "$1" in
            -force | --force | -force=true | --force=true) force=true; shift ;;
            -force=false | --force=false) force=false; shift ;;
            --) shift; break ;;
            -*) echo "flag provided but not defined: $1" >&2; exit 1 ;;
            *) break ;;
          esac
        done
        [ "$#" -eq 1 ] || { echo "Incorrect arguments (expected 1, got $#)" >&2; exit 1; }
        [ "$(cat)" = "$EXPECTED_TOKEN" ] || { printf 'Error installing the snapshot: Error making API request.\\n\\nURL: POST x\\nCode: 403. Errors:\\n\\n* permission denied\\n' >&2; exit 2; }
        endpoint=snapshot
        if [ "$force" = true ]; then endpoint=snapshot-force
        elif [ "$(sed -n 's/^sealed-by://p' "$FAKE/copy")" != "$(cat "$FAKE/seal")" ]; then
          printf 'Error installing the snapshot: Error making API request.\\n\\nURL: POST https://127.0.0.1:8200/v1/sys/storage/raft/snapshot\\nCode: 400. Errors:\\n\\n* %s\\n' "$REFUSAL" >&2
          exit 2
        fi
        echo "restore $pod $1 $endpoint $(sed -n 2p "$FAKE/copy")" >>"$FAKE/actions.log" ;;
      *"rm -f"*) echo "rm $pod $last" >>"$FAKE/actions.log" ;;
      *) echo "unexpected exec: $*" >&2; exit 7 ;;
    esac ;;
esac
`;
    let fake: string;
    beforeEach(() => {
        fake = sandbox("vault-raft-restore-", { kubectl: FAKE_KUBECTL_RESTORE });
        fs.writeFileSync(path.join(fake, "seal"), "kv-prod");
        snapshotSealedBy("kv-prod");
    });
    afterEach(() => fs.rmSync(fake, { recursive: true, force: true }));
    function snapshotSealedBy(seal: string) {
        fs.writeFileSync(path.join(fake, "snap"), `sealed-by:${seal}\nSNAPDATA\n`);
    }
    /** The script's environment: the stand-in kubectl first on PATH, the root token, `extra` on top. */
    const restoreEnv = (extra: Record<string, string> = {}) => ({
        PATH: `${path.join(fake, "bin")}:${process.env.PATH}`,
        FAKE: fake,
        TMPDIR: fake,
        VAULT_TOKEN: "hvs.ROOT",
        EXPECTED_TOKEN: "hvs.ROOT",
        REFUSAL: VAULT_SEAL_REFUSAL,
        ...extra,
    });
    const restore = (args: string[], active: string, env: Record<string, string> = {}) => {
        fs.writeFileSync(path.join(fake, "active"), active);
        const r = spawnSync("sh", [RESTORE_SCRIPT, ...args], { encoding: "utf8", env: restoreEnv(env) });
        return { status: r.status, output: `${r.stdout}${r.stderr}` };
    };
    /** Starts a restore whose stand-in `vault ... restore` sleeps `hang` seconds, and waits until it does. */
    async function hangingRestore(hang: string, options: { detached?: boolean } = {}) {
        fs.rmSync(path.join(fake, "actions.log"), { force: true });
        fs.writeFileSync(path.join(fake, "hang"), hang);
        fs.writeFileSync(path.join(fake, "active"), "vault-1");
        const child = spawn("sh", [RESTORE_SCRIPT, path.join(fake, "snap")], {
            detached: options.detached,
            stdio: ["ignore", "pipe", "pipe"],
            env: restoreEnv(),
        });
        const log = () => fs.readFileSync(path.join(fake, "actions.log"), { flag: "a+", encoding: "utf8" });
        for (let i = 0; i < 200 && !log().includes("hanging"); i++) await new Promise((resolve) => setTimeout(resolve, 50));
        return { child, started: log().includes("hanging") };
    }
    /** The actions, the copy's name replaced by COPY (the script picks it); checks copy and removal. */
    function actions(): string[] {
        const all = lines(path.join(fake, "actions.log"));
        const copy = all[0]?.split(" ")[2];
        assert.ok(copy, all.join("\n"));
        assert.equal(all[all.length - 1], `rm vault-1 ${copy}`, "the copy is removed, whatever happened");
        return all.map((l) => l.split(copy).join("COPY"));
    }

    it("by default restores without -force (sys/storage/raft/snapshot, Vault's seal check on), token on stdin, and says so", () => {
        const r = restore([path.join(fake, "snap")], "vault-1");
        assert.equal(r.status, 0, r.output);
        assert.deepEqual(actions(), ["copy vault-1 COPY", "restore vault-1 COPY snapshot SNAPDATA", "rm vault-1 COPY"]);
        assert.match(r.output, /without -force/);
        const calls = lines(path.join(fake, "calls.log"));
        assert.ok(calls[0].includes("vault-active=true"), calls[0]);
        assert.ok(!calls.some((l) => l.includes("hvs.ROOT")), "the token is in no kubectl argument");
        assert.ok(!calls.some((l) => /-force/.test(l)), calls.join("\n"));
    });

    it("FORCE_RESTORE=0 is the default too", () => {
        const r = restore([path.join(fake, "snap")], "vault-1", { FORCE_RESTORE: "0" });
        assert.equal(r.status, 0, r.output);
        assert.deepEqual(actions()[1], "restore vault-1 COPY snapshot SNAPDATA");
    });

    it("FORCE_RESTORE=1 restores with -force (sys/storage/raft/snapshot-force: no seal check) and says so", () => {
        snapshotSealedBy("kv-other");
        const r = restore([path.join(fake, "snap")], "vault-1", { FORCE_RESTORE: "1" });
        assert.equal(r.status, 0, r.output);
        assert.deepEqual(actions(), ["copy vault-1 COPY", "restore vault-1 COPY snapshot-force SNAPDATA", "rm vault-1 COPY"]);
        assert.match(r.output, /with -force \(FORCE_RESTORE=1\)/);
    });

    it("fails with guidance when Vault refuses an unforced restore (another seal), restoring nothing", () => {
        snapshotSealedBy("kv-other");
        const r = restore([path.join(fake, "snap")], "vault-1");
        assert.equal(r.status, 1, r.output);
        assert.deepEqual(actions(), ["copy vault-1 COPY", "rm vault-1 COPY"]);
        assert.ok(r.output.includes(VAULT_SEAL_REFUSAL), "Vault's own message is shown");
        const failed = r.output.split("\n").find((l) => l.includes("FAILED")) ?? "";
        assert.match(failed, /another seal key/);
        assert.match(failed, /Nothing was restored/);
        assert.match(failed, /FORCE_RESTORE=1/);
        // Vault gives the same answer when the seal cannot be reached (logical_system_raft.go): said too.
        assert.match(failed, /cannot be reached/);
        assert.match(failed, /temporary cluster/);
        assert.doesNotMatch(r.output, / restored .* into vault-1/);
    });

    it("fails on any other non-zero exit of the restore, without the seal guidance", () => {
        const r = restore([path.join(fake, "snap")], "vault-1", { EXPECTED_TOKEN: "hvs.OTHER" });
        assert.equal(r.status, 1, r.output);
        assert.match(r.output, /permission denied/);
        assert.match(r.output, /FAILED: vault operator raft snapshot restore exited 2/);
        assert.doesNotMatch(r.output, /another seal key/);
        assert.deepEqual(actions(), ["copy vault-1 COPY", "rm vault-1 COPY"]);
    });

    it("refuses a FORCE_RESTORE other than 1, 0 or unset, naming it and what is allowed, before touching anything", () => {
        for (const value of ["yes", "true", "2", "-force", " 1"]) {
            const r = restore([path.join(fake, "snap")], "vault-1", { FORCE_RESTORE: value });
            assert.equal(r.status, 2, `${value}: ${r.output}`);
            assert.ok(r.output.includes(`FORCE_RESTORE='${value}'`), r.output);
            assert.match(r.output, /allowed are 1 .* or 0 \/ unset/);
        }
        // Every problem of the invocation in one round.
        const both = restore([], "vault-1", { FORCE_RESTORE: "yes" });
        assert.equal(both.status, 2);
        assert.match(both.output, /FORCE_RESTORE='yes'/);
        assert.match(both.output, /usage:/);
        assert.deepEqual(lines(path.join(fake, "calls.log")), [], "no kubectl call");
    });

    it("refuses without exactly one active pod or a readable snapshot, touching nothing", () => {
        assert.equal(restore([path.join(fake, "snap")], "").status, 1);
        assert.equal(restore([path.join(fake, "snap")], "vault-0 vault-1").status, 1);
        assert.equal(restore([path.join(fake, "missing.snap")], "vault-0").status, 2);
        assert.equal(restore([], "vault-0").status, 2);
        assert.equal(restore([path.join(fake, "snap")], "vault-0", { VAULT_TOKEN: "" }).status, 2);
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

    it("stops at once when the process group is interrupted (Ctrl-C), hung up or sent TERM during the restore, and removes its copies", async () => {
        // dash runs no EXIT trap when a signal it has no trap for ends it. A terminal's Ctrl-C and hang-up
        // signal the whole process group (the script and the kubectl it waits for); so does a TERM sent to it.
        // Its output goes to a pipe the test closes first, as a Ctrl-C closes a `| tee`: a trap that
        // wrote would end the script by SIGPIPE before the cleanup.
        for (const [signal, code] of [
            ["SIGINT", 130],
            ["SIGHUP", 129],
            ["SIGTERM", 143],
        ] as const) {
            const { child, started } = await hangingRestore("", { detached: true });
            const exited = new Promise<number | null>((resolve) => child.on("exit", (status) => resolve(status)));
            const signalled = Date.now();
            try {
                assert.ok(started, `${signal}: the restore started`);
                child.stdout.destroy();
                child.stderr.destroy();
                process.kill(-child.pid!, signal);
                assert.equal(await exited, code, signal);
                assert.ok(Date.now() - signalled < 5000, `${signal}: stopped at once, not after the restore's 30 s`);
            } finally {
                try {
                    process.kill(-child.pid!, "SIGKILL");
                } catch {
                    // the group is gone
                }
            }
            const all = lines(path.join(fake, "actions.log"));
            assert.ok(!all.some((l) => l.startsWith("restore ")), `${signal}: nothing restored`);
            assert.equal(all[all.length - 1], `rm vault-1 ${all[0].split(" ")[2]}`, `${signal}: the copy is removed`);
            assert.deepEqual(
                fs.readdirSync(fake).filter((f) => f.startsWith("tmp.")),
                [],
                `${signal}: the local errors file is removed`,
            );
        }
    });

    it("a TERM sent to the script alone takes effect once the restore answered, and still shows Vault's answer", async () => {
        // A CI runner signals its step's shell only (actions/runner ProcessInvoker.cs): dash runs the
        // trap once the foreground kubectl returns, and the cleanup shows what Vault answered.
        snapshotSealedBy("kv-other");
        let output = "";
        const { child, started } = await hangingRestore("1");
        assert.ok(started, "the restore started");
        child.stdout.on("data", (d) => (output += d));
        child.stderr.on("data", (d) => (output += d));
        const closed = new Promise<number | null>((resolve) => child.on("close", (status) => resolve(status)));
        child.kill("SIGTERM");
        assert.equal(await closed, 143, output);
        assert.ok(output.includes(VAULT_SEAL_REFUSAL), output);
        const all = lines(path.join(fake, "actions.log"));
        assert.equal(all[all.length - 1], `rm vault-1 ${all[0].split(" ")[2]}`, "the copy is removed");
    });

    it("the runbook's step 4 says the restore is unforced by default and names the opt-in, FORCE_RESTORE=1", () => {
        // (The e2e's call, unforced, is held in tests/workflows.test.ts.)
        const ops = fs.readFileSync(path.join(ROOT, "docs", "operations.md"), "utf8");
        const section = ops.slice(ops.indexOf("## Restore Vault from a raft snapshot"), ops.indexOf("## Break glass"));
        assert.match(section, /without `-force`/);
        assert.match(section, /`FORCE_RESTORE=1`/);
        assert.ok(
            section.includes(VAULT_SEAL_REFUSAL.slice(0, VAULT_SEAL_REFUSAL.indexOf(";"))),
            "Vault's refusal, as the operator sees it",
        );
    });
});

// scripts/lib-kubectl.sh: the Vault CLI in a server pod. A server container of the local ha stack has the
// transit seal's token as VAULT_TOKEN (components/platform/vault.ts, VAULT_TRANSIT_TOKEN_ENV: the seal
// reads it from there, hashicorp/vault website/content/docs/configuration/seal/transit.mdx, `token`), and
// the CLI reads VAULT_TOKEN from its environment. The stand-in kc runs the exec'd command here, in an
// environment with that token, and a stand-in vault prints the token it got and the stdin it read.
describe("scripts/lib-kubectl.sh (vault_exec: never the container's own VAULT_TOKEN)", () => {
    const LIB = path.join(ROOT, "scripts", "lib-kubectl.sh");
    let fake: string;
    beforeEach(() => {
        fake = fs.mkdtempSync(path.join(os.tmpdir(), "lib-kubectl-"));
        fs.mkdirSync(path.join(fake, "bin"));
        fs.writeFileSync(path.join(fake, "bin", "vault"), '#!/bin/sh\necho "token=${VAULT_TOKEN-<unset>} args=$* stdin=$(cat)"\n', {
            mode: 0o755,
        });
    });
    afterEach(() => fs.rmSync(fake, { recursive: true, force: true }));

    function run(call: string, stdin: string) {
        // kc exec -i POD -c vault -- CMD...: CMD runs in the "container", whose env has the seal's token.
        const script = `
kc() {
  echo "$*" >>"$FAKE/kc.log"
  [ "$1 $2 $4 $5 $6" = "exec -i -c vault --" ] || { echo "unexpected: $*" >&2; return 7; }
  shift 6
  VAULT_TOKEN=hvs.SEAL "$@"
}
. "${LIB}"
${call}`;
        const r = spawnSync("sh", ["-c", script], {
            input: stdin,
            encoding: "utf8",
            env: { PATH: `${path.join(fake, "bin")}:${process.env.PATH}`, FAKE: fake },
        });
        return { status: r.status, output: `${r.stdout}${r.stderr}` };
    }

    it("vault_exec drops the container's token and passes stdin to the CLI", () => {
        const r = run("vault_exec vault-1 write -field=token auth/kubernetes/login jwt=-", "jwt.X");
        assert.equal(r.status, 0, r.output);
        assert.equal(r.output.trim(), "token=<unset> args=write -field=token auth/kubernetes/login jwt=- stdin=jwt.X");
        assert.match(fs.readFileSync(path.join(fake, "kc.log"), "utf8"), /^exec -i vault-1 -c vault -- /);
    });

    it("vault_exec_token replaces it with the token from stdin, which is in no command line", () => {
        const r = run("vault_exec_token vault-0 operator step-down", "hvs.ROOT");
        assert.equal(r.status, 0, r.output);
        assert.equal(r.output.trim(), "token=hvs.ROOT args=operator step-down stdin=");
        assert.doesNotMatch(fs.readFileSync(path.join(fake, "kc.log"), "utf8"), /hvs\.ROOT/);
    });

    it("is the only way the scripts run the vault CLI in a server container", () => {
        // Every `exec ... -c vault -- ...` (continuation lines joined, comments dropped) in scripts/ and
        // .github/scripts/ whose command runs `vault`, outside lib-kubectl.sh.
        const files = [
            ...fs.readdirSync(path.join(ROOT, "scripts")).map((f) => path.join("scripts", f)),
            ...fs.readdirSync(path.join(ROOT, ".github", "scripts")).map((f) => path.join(".github", "scripts", f)),
        ].filter((f) => f.endsWith(".sh") && f !== path.join("scripts", "lib-kubectl.sh"));
        assert.ok(files.includes(path.join("scripts", "vault-rollout.sh")));
        const offenders: string[] = [];
        for (const file of files) {
            const code = fs
                .readFileSync(path.join(ROOT, file), "utf8")
                .replace(/\\\n\s*/g, " ")
                .split("\n")
                .filter((l) => !l.trimStart().startsWith("#"));
            for (const line of code) {
                // Any `exec` whose command (after `--`) runs vault, in the vault container however it is
                // named (-c vault, --container vault, --container=vault) or in none (a pod's first
                // container: the server's), not in another named container.
                const m = /\bexec\b(.*?)\s--\s(.*)$/.exec(line);
                if (!m || !/\bvault\b/.test(m[2])) continue;
                const container = /(?:\s-c\s+|\s--container(?:=|\s+))("?)([\w.-]+)\1/.exec(m[1])?.[2];
                if (container === undefined || container === "vault") offenders.push(`${file}: ${line.trim()}`);
            }
        }
        // The one exec that means the container's token: the e2e looks the seal's token itself up at the
        // unsealer (.github/scripts/e2e-vault.sh, seal_token_ttl).
        assert.deepEqual(offenders, [
            '.github/scripts/e2e-vault.sh: kv exec "$1" -c vault -- env VAULT_ADDR="$unsealer_addr" VAULT_CACERT="$server_ca" vault token lookup -field=ttl',
        ]);
    });
});
