// Issue 20 on the evaluated plans and against stand-ins: bootstrapped policy changes reach an initialised
// Vault through the vault-sync role (scripts/vault-sync.sh), the narrow vault-operator role and who may
// use it, raft autopilot's dead-server cleanup, and the agent injector's webhook scoped and failing closed.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { VAULT_SYNC_SCRIPT } from "../components/platform/vaultSync";
import { VAULT_CONFIGURE_POLICY, VAULT_OPERATOR_POLICY, vaultSyncPolicy } from "../components/platform/vaultPolicies";
import { evaluateStack, TUNED, type StackRun } from "./harness";

const T = {
    release: "kubernetes:helm.sh/v3:Release",
    job: "kubernetes:batch/v1:Job",
    configMap: "kubernetes:core/v1:ConfigMap",
    sa: "kubernetes:core/v1:ServiceAccount",
    role: "kubernetes:rbac.authorization.k8s.io/v1:Role",
    binding: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    namespace: "kubernetes:core/v1:Namespace",
} as const;

const vaultValues = (run: StackRun) => run.ofType(T.release).find((r) => r.inputs.chart === "vault")!.inputs.values;
const envOf = (container: any) => Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));

describe("Vault day 2: policies and roles", () => {
    it("vault-operator may read autopilot state and step the leader down (update + sudo: vault/ha.go RootPrivsRequired), nothing else", () => {
        assert.equal(
            VAULT_OPERATOR_POLICY,
            [
                'path "sys/storage/raft/autopilot/state" {',
                '  capabilities = ["read"]',
                "}",
                "",
                'path "sys/step-down" {',
                '  capabilities = ["update", "sudo"]',
                "}",
                "",
            ].join("\n"),
        );
    });

    it("vault-sync writes the other bootstrapped policies and roles (each role pinned to its service account), never its own", () => {
        const policy = vaultSyncPolicy("vault");
        for (const r of ["vault-configure", "vault-snapshot", "vault-operator"]) {
            assert.match(policy, new RegExp(`path "sys/policies/acl/${r}" \\{\\n  capabilities = \\["create", "read", "update"\\]\\n\\}`));
            const role = new RegExp(
                `path "auth/kubernetes/role/${r}" \\{\\n  capabilities = \\["create", "read", "update"\\]\\n  allowed_parameters = \\{\\n([^}]*)\\n  \\}`,
            );
            const params = policy.match(role)?.[1];
            assert.ok(params, `role ${r}`);
            assert.match(params, new RegExp(`"bound_service_account_names" = \\["${r}"\\]`));
            assert.match(params, /"bound_service_account_namespaces" = \["vault"\]/);
            assert.match(params, /"audience" = \["vault"\]/);
            assert.match(params, new RegExp(`"token_policies" = \\["${r}"\\]`));
        }
        assert.match(
            policy,
            /path "sys\/policies\/acl\/vault-sync" \{\n {2}capabilities = \["read"\]\n\}/,
            "reads its own, to report drift",
        );
        assert.doesNotMatch(
            policy,
            /auth\/kubernetes\/role\/vault-sync|\*"? \{|"sudo"|"delete"/,
            "no wildcard path, no sudo, no delete, not its own role",
        );
        assert.match(policy, /path "sys\/storage\/raft\/autopilot\/configuration" \{\n {2}capabilities = \["read", "update"\]/);
    });

    it("the configuration's role may touch none of the four bootstrapped policies or roles", () => {
        for (const role of ["vault-configure", "vault-snapshot", "vault-operator", "vault-sync"]) {
            assert.match(VAULT_CONFIGURE_POLICY, new RegExp(`path "auth/kubernetes/role/${role}" \\{\\n  capabilities = \\["deny"\\]`));
            assert.match(VAULT_CONFIGURE_POLICY, new RegExp(`path "sys/policies/acl/${role}" \\{\\n  capabilities = \\["deny"\\]`));
        }
    });
});

describe("Vault day 2 (prod plan)", () => {
    let run: StackRun;
    before(async () => {
        run = await evaluateStack("prod");
    });

    it("the sync Job logs in as vault-sync with a Vault-audience token, ships every policy, rewrites the three others, after the init Job", () => {
        const job = run.ofType(T.job).find((j) => j.urn.includes("VaultSyncJob"))!;
        assert.ok(job, "a sync Job");
        const pod = job.inputs.spec.template.spec;
        assert.equal(pod.serviceAccountName, "vault-sync");
        const env = envOf(pod.containers[0]);
        assert.equal(env.VAULT_AUTH_ROLE, "vault-sync");
        assert.equal(env.SELF_ROLE, "vault-sync");
        assert.equal(env.SYNC_ROLES, "vault-configure:vault-configure vault-snapshot:vault-snapshot vault-operator:vault-operator");
        assert.equal(env.VAULT_ADDR, "https://vault-active.vault.svc.cluster.local:8200");
        assert.equal(env.TOKEN_AUDIENCE, "vault");
        assert.equal(env.AUTOPILOT_MIN_QUORUM, "3", "never cleans up below the configured voters");
        const token = pod.volumes.find((v: any) => v.name === "vault-token").projected.sources[0].serviceAccountToken;
        assert.equal(token.audience, "vault");
        const script = run.ofType(T.configMap).find((c) => c.urn.includes("VaultSyncJob"))!;
        for (const role of ["vault-configure", "vault-snapshot", "vault-operator", "vault-sync"])
            assert.ok(script.inputs.data[`${role}.hcl`], `${role}.hcl`);
        assert.equal(pod.volumes.find((v: any) => v.name === "script").configMap.name, script.state.metadata.name);
        const init = run.ofType(T.job).find((j) => j.urn.includes("VaultInitJob"))!;
        assert.ok(run.dependsOn(job.urn, init.urn), "after the initialisation that bootstrapped its role");
        const configure = run.ofType(T.job).find((j) => j.urn.includes("VaultDatabaseConfig"))!;
        assert.ok(configure, "the configuration Job");
        assert.ok(run.dependsOn(configure.urn, job.urn), "the configuration runs with the policy the sync Job just applied");
        const sa = run.ofType(T.sa).find((a) => a.inputs.metadata.name === "vault-sync")!;
        assert.equal(sa.inputs.automountServiceAccountToken, false);
    });

    it("the sync ConfigMap holds nothing one evaluation draws anew (no new Job on a second up); the voter count reaches autopilot", async () => {
        // Another, independent evaluation (the runs are shared per config, so the same config would hand
        // back this very run): its policies are the same, only the voters differ, which the Job's env carries.
        const tuned = await evaluateStack("prod", TUNED.prod);
        assert.notEqual(tuned, run);
        const data = (r: StackRun) => r.ofType(T.configMap).find((c) => c.urn.includes("VaultSyncJob"))!.inputs.data;
        assert.deepEqual(data(tuned), data(run));
        const job = tuned.ofType(T.job).find((j) => j.urn.includes("VaultSyncJob"))!;
        assert.equal(envOf(job.inputs.spec.template.spec.containers[0]).AUTOPILOT_MIN_QUORUM, String(TUNED.prod["vault.voters"]));
    });

    it("vault-operator: a service account and a Role that may mint its token, read the StatefulSet, delete and exec into pods", () => {
        const sa = run.ofType(T.sa).find((a) => a.inputs.metadata.name === "vault-operator")!;
        assert.equal(sa.inputs.metadata.namespace, "vault");
        assert.equal(sa.inputs.automountServiceAccountToken, false);
        const role = run.ofType(T.role).find((r) => r.inputs.metadata.name === "vault-operator")!;
        assert.equal(role.inputs.metadata.namespace, "vault");
        const rules = role.inputs.rules;
        assert.deepEqual(
            rules.find((r: any) => r.resources.includes("serviceaccounts/token")),
            { apiGroups: [""], resources: ["serviceaccounts/token"], resourceNames: ["vault-operator"], verbs: ["create"] },
        );
        assert.ok(rules.some((r: any) => r.resources.includes("pods/exec") && r.verbs.includes("create")));
        assert.ok(!rules.some((r: any) => r.resources.includes("secrets") || r.verbs.includes("*")));
        assert.equal(run.ofType(T.binding).filter((b) => b.inputs.metadata.name === "vault-operator").length, 0, "nobody by default");
    });

    it("vault-operator: bound to the groups of vault.operatorGroups", async () => {
        const other = await evaluateStack("prod", TUNED.prod);
        const binding = other.ofType(T.binding).find((b) => b.inputs.metadata.name === "vault-operator")!;
        assert.deepEqual(binding.inputs.subjects, [
            { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "11111111-2222-3333-4444-555555555555" },
        ]);
        assert.equal(binding.inputs.roleRef.name, "vault-operator");
    });

    it("the injector's webhook: labelled namespaces and pods only (never its own), fails closed there, 10 s timeout", () => {
        // Keys of vault-helm 0.32.0 values.yaml injector.webhook, rendered by templates/injector-mutating-webhook.yaml.
        const webhook = vaultValues(run).injector.webhook;
        assert.equal(webhook.failurePolicy, "Fail");
        assert.ok(webhook.timeoutSeconds > 0 && webhook.timeoutSeconds <= 10, String(webhook.timeoutSeconds));
        assert.deepEqual(webhook.namespaceSelector, { matchLabels: { "vault.hashicorp.com/agent-inject": "true" } });
        assert.deepEqual(webhook.objectSelector.matchLabels, { "vault.hashicorp.com/agent-inject": "true" });
        assert.deepEqual(webhook.objectSelector.matchExpressions, [
            { key: "app.kubernetes.io/name", operator: "NotIn", values: ["vault-agent-injector"] },
        ]);
        const labels = Object.fromEntries(run.ofType(T.namespace).map((n) => [n.inputs.metadata.name, n.inputs.metadata.labels ?? {}]));
        assert.equal(labels["microservices-prod"]["vault.hashicorp.com/agent-inject"], "true");
        assert.equal(labels.vault["vault.hashicorp.com/agent-inject"], undefined);
        // Every release whose pods ask for an agent (annotation) carries the label the objectSelector matches.
        for (const r of run.ofType(T.release)) {
            const v = r.inputs.values;
            if (v?.podAnnotations?.["vault.hashicorp.com/agent-inject"] === "true")
                assert.equal(v.podLabels?.["vault.hashicorp.com/agent-inject"], "true", r.name);
        }
    });
});

describe("Vault day 2 (dev plan)", () => {
    it("a dev-mode server has no sync Job and no operator Role (nothing is bootstrapped)", async () => {
        const run = await evaluateStack("dev");
        assert.equal(run.ofType(T.job).filter((j) => j.urn.includes("VaultSyncJob")).length, 0);
        assert.equal(run.ofType(T.role).filter((r) => r.inputs.metadata.name === "vault-operator").length, 0);
    });
});

// vault: its state is files under $FAKE: roles/<role> (Kubernetes-auth roles that exist), policies/<name>.
// A login as a missing role fails as Vault does; only the logged-in token may write; writing vault-sync's
// own policy is refused (403), as its policy does not grant it.
const FAKE_VAULT = `#!/bin/sh
echo "$*" >>"$FAKE/vault.log"
case "$*" in
  status*) exit 0 ;;
  "write -field=token auth/kubernetes/login role="*)
    role=\${4#role=}
    [ -f "$FAKE/roles/$role" ] || { echo "Error: permission denied" >&2; exit 2; }
    [ "$5" = "jwt=@$VAULT_AUTH_JWT_FILE" ] || exit 3
    printf 'hvs.SYNC'; exit 0 ;;
esac
[ "$VAULT_TOKEN" = hvs.SYNC ] || { echo "Error: missing client token" >&2; exit 2; }
case "$*" in
  "policy write vault-sync "*) echo "Error: 403 permission denied" >&2; exit 2 ;;
  "policy write "*) cp "$4" "$FAKE/policies/$3" ;;
  "write auth/kubernetes/role/"*) r=\${2#auth/kubernetes/role/}; echo "$*" >"$FAKE/roles/$r" ;;
  "write sys/storage/raft/autopilot/configuration "*) echo "$*" >"$FAKE/autopilot" ;;
  "read -field=policy sys/policies/acl/"*) cat "$FAKE/policies/\${3#sys/policies/acl/}" ;;
  "token revoke -self") : ;;
  *) echo "unexpected: $*" >&2; exit 1 ;;
esac
`;

describe("scripts/vault-sync.sh", () => {
    let fake: string;
    let policyDir: string;
    beforeEach(() => {
        fake = fs.mkdtempSync(path.join(os.tmpdir(), "vault-sync-"));
        for (const d of ["bin", "roles", "policies", "p"]) fs.mkdirSync(path.join(fake, d));
        fs.writeFileSync(path.join(fake, "bin", "vault"), FAKE_VAULT, { mode: 0o755 });
        fs.writeFileSync(path.join(fake, "bin", "sleep"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
        fs.writeFileSync(path.join(fake, "jwt"), "jwt");
        policyDir = path.join(fake, "p");
        // An initialised Vault as the bootstrap left it, with the program's policies of that day.
        for (const r of ["vault-configure", "vault-snapshot", "vault-operator", "vault-sync"]) {
            fs.writeFileSync(path.join(fake, "roles", r), "bootstrapped");
            fs.writeFileSync(path.join(fake, "policies", r), `old ${r}\n`);
            fs.writeFileSync(path.join(policyDir, `${r}.hcl`), `new ${r}\n`);
        }
        fs.writeFileSync(path.join(fake, "policies", "vault-sync"), "new vault-sync\n");
    });
    afterEach(() => fs.rmSync(fake, { recursive: true, force: true }));

    function sync(extra: Record<string, string> = {}) {
        const r = spawnSync("sh", [VAULT_SYNC_SCRIPT], {
            encoding: "utf8",
            env: {
                PATH: `${path.join(fake, "bin")}:${process.env.PATH}`,
                FAKE: fake,
                VAULT_ADDR: "https://vault-active.vault.svc.cluster.local:8200",
                VAULT_AUTH_ROLE: "vault-sync",
                VAULT_AUTH_JWT_FILE: path.join(fake, "jwt"),
                POLICY_DIR: policyDir,
                SYNC_ROLES: "vault-configure:vault-configure vault-snapshot:vault-snapshot vault-operator:vault-operator",
                SELF_ROLE: "vault-sync",
                ROLE_NAMESPACE: "vault",
                TOKEN_AUDIENCE: "vault",
                AUTOPILOT_MIN_QUORUM: "3",
                AUTOPILOT_DEAD_SERVER_THRESHOLD: "10m",
                AUTOPILOT_STABILIZATION_TIME: "10s",
                ...extra,
            },
        });
        return { status: r.status, output: `${r.stdout}${r.stderr}` };
    }
    const read = (...p: string[]) => fs.readFileSync(path.join(fake, ...p), "utf8");

    it("an initialised Vault receives the changed policies and roles, and the autopilot configuration", () => {
        const r = sync();
        assert.equal(r.status, 0, r.output);
        for (const role of ["vault-configure", "vault-snapshot", "vault-operator"]) {
            assert.equal(read("policies", role), `new ${role}\n`);
            const written = read("roles", role);
            for (const arg of [
                `bound_service_account_names=${role}`,
                "bound_service_account_namespaces=vault",
                "audience=vault",
                `token_policies=${role}`,
            ])
                assert.ok(written.includes(arg), `${role}: ${arg}`);
        }
        const autopilot = read("autopilot");
        for (const arg of ["cleanup_dead_servers=true", "dead_server_last_contact_threshold=10m", "min_quorum=3"])
            assert.ok(autopilot.includes(arg), arg);
        assert.ok(read("vault.log").includes(`jwt=@${path.join(fake, "jwt")}`), "the JWT is passed as @file, never as a value");
    });

    it("its own changed policy: applies the others, then fails naming the drift and the way out", () => {
        fs.writeFileSync(path.join(policyDir, "vault-sync.hcl"), "newer vault-sync\n");
        const r = sync();
        assert.notEqual(r.status, 0);
        assert.match(r.output, /DRIFT: policy vault-sync/);
        assert.match(r.output, /Change a bootstrapped Vault policy/);
        assert.equal(read("policies", "vault-configure"), "new vault-configure\n");
        assert.equal(read("policies", "vault-sync"), "new vault-sync\n", "never written");
    });

    it("a Vault bootstrapped before vault-sync existed: fails loudly, naming what is not applied and the break-glass path", () => {
        fs.rmSync(path.join(fake, "roles", "vault-sync"));
        const r = sync();
        assert.notEqual(r.status, 0);
        assert.match(r.output, /cannot log in to Vault as Kubernetes-auth role vault-sync/);
        assert.match(r.output, /NOT applied/);
        assert.equal(read("policies", "vault-configure"), "old vault-configure\n");
    });
});

describe("Vault day 2: snapshots you can trust (prod plan)", () => {
    const RULE = "azure-native:monitor:ScheduledQueryRule";
    it("an absence alert on the verified-upload line over twice the schedule's gap (6 h -> 12 h), resolving when one arrives", async () => {
        const run = await evaluateStack("prod");
        const rule = run.ofType(RULE).find((r) => r.inputs.ruleName === "gitops-prod-vault-snapshot-stale")!;
        assert.ok(rule, "a staleness rule");
        assert.equal(rule.inputs.windowSize, "PT12H");
        const criterion = rule.inputs.criteria.allOf[0];
        assert.equal(criterion.operator, "LessThan");
        assert.equal(criterion.threshold, 1);
        assert.equal(rule.inputs.autoMitigate, true);
        // The line the snapshot script logs only after reading the upload's size back.
        const line = fs.readFileSync(path.join(__dirname, "..", "scripts", "vault-snapshot.sh"), "utf8");
        assert.match(line, /log "uploaded \$name/);
        assert.match(criterion.query, /ContainerName == "upload"/);
        assert.match(criterion.query, /has "uploaded vault-"/);
        assert.equal(TUNED.prod["vault.snapshotSchedule"], "15 2 * * *", "daily");
        const daily = await evaluateStack("prod", TUNED.prod);
        assert.equal(daily.ofType(RULE).find((r) => r.inputs.ruleName === "gitops-prod-vault-snapshot-stale")!.inputs.windowSize, "PT48H");
    });

    it("the lifecycle rule never deletes a current snapshot (the CronJob prunes, keeping the newest N); N reaches the CronJob", async () => {
        const run = await evaluateStack("prod", TUNED.prod);
        const rules = run.ofType("azure-native:storage:ManagementPolicy")[0].inputs.policy.rules;
        const snapshots = rules.find((r: any) => r.definition.filters.prefixMatch.includes("vault-snapshots/"));
        assert.equal(snapshots.definition.actions.baseBlob, undefined, "no age-based delete of current snapshots");
        assert.ok(snapshots.definition.actions.version.delete.daysAfterCreationGreaterThan > 0, "superseded versions still expire");
        const mongo = rules.find((r: any) => !r.definition.filters.prefixMatch.includes("vault-snapshots/"));
        assert.ok(mongo.definition.actions.baseBlob, "other containers keep their age rule");
        const cron = run.ofType("kubernetes:batch/v1:CronJob").find((c) => c.urn.includes("VaultSnapshotCronJob"))!;
        const upload = envOf(cron.inputs.spec.jobTemplate.spec.template.spec.containers.find((c: any) => c.name === "upload"));
        assert.equal(upload.KEEP_LAST, "12");
        assert.equal(upload.RETENTION_DAYS, "90");
    });
});
