// Issue 20 item 6: a dev Vault restart loses its leases, so the MongoDB users they created are never
// revoked; dev's reconciler drops the users that match the engine's username template and were created
// before the restarted (empty) Vault was found. Expectations: usernames built by hand the way Vault's
// template functions render them (hashicorp/vault sdk/helper/template funcs.go: unix_time in seconds,
// random alphanumeric), and the reconciler's behaviour against stand-ins for vault and mongosh.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as vm from "vm";
import {
    MONGO_STALE_USERS_JS_FILE,
    MONGO_STALE_USERS_SCRIPT_FILE,
    VAULT_DB_ROLE,
    VAULT_DB_DEFAULT_USERNAME_TEMPLATE,
    VAULT_DB_USERNAME_TEMPLATE,
    vaultDbUsernamePattern,
    vaultKubernetesDisplayName,
} from "../components/workloads/vaultDatabase";
import { MONGO_IMAGE } from "../components/workloads/mongodb";
import { evaluateStack, ROOT } from "./harness";
import { lines, vaultConfigure, vaultSandbox } from "./vaultConfigureSandbox";

const JS = path.join(ROOT, "scripts", MONGO_STALE_USERS_JS_FILE);
const SH = path.join(ROOT, "scripts", MONGO_STALE_USERS_SCRIPT_FILE);

/** A username as Vault renders VAULT_DB_USERNAME_TEMPLATE for the role at unix time `t`. */
const engineUser = (t: number, role = VAULT_DB_ROLE) => `vdb-${t}-${"aB3dE6gH9jK2mN5pQ8sT".slice(0, 20)}-${role.slice(0, 30)}`;
/** A username as Vault renders the plugin's default template (display name and role cut to 15, "." to "-"). */
const defaultUser = (t: number, display: string, role = VAULT_DB_ROLE) =>
    `v-${display.slice(0, 15)}-${role.slice(0, 15)}-${"Zy9Xw8Vu7Ts6Rq5Po4Nm".slice(0, 20)}-${t}`.replace(/\./g, "-");
/**
 * Who reads the role in dev, as Vault names their tokens: the token store's "token" (auth/token/create
 * with no display_name, hashicorp/vault vault/token_store.go; the dev root token is one), and a service's
 * Kubernetes-auth login: mount "kubernetes/" made "kubernetes-" (vault/request_handling.go) + the
 * plugin's "<namespace>-<service account>" (vault-plugin-auth-kubernetes path_login.go).
 */
const READERS = ["token", "kubernetes-microservices-dev-product-service", "kubernetes-microservices-dev-order-service"];
const pattern = (engineRoles?: string[]) => new RegExp(vaultDbUsernamePattern(VAULT_DB_ROLE, READERS, engineRoles));

describe("the database engine's username template (issue 20 item 6)", () => {
    it("is vdb-<unix_time>-<random 20>-<role> in Vault's template language, and the cleanup's pattern reads the time back", () => {
        assert.equal(VAULT_DB_USERNAME_TEMPLATE, '{{ printf "vdb-%s-%s-%s" (unix_time) (random 20) (.RoleName | truncate 30) }}');
        const re = pattern();
        assert.equal(re.exec(engineUser(1764720000))?.[1], "1764720000");
        // Not the root user, not another role's users (either template).
        for (const other of ["root", engineUser(1764720000, "other-role"), defaultUser(1764720000, "kubernetes-micr", "other-role")])
            assert.equal(re.exec(other), null, other);
    });

    it("also matches the users the plugin's default template made before (hashicorp/vault plugins/database/mongodb/mongodb.go)", () => {
        // The default, verbatim from the plugin: display name and role cut to 15, then random 20, then unix_time last.
        assert.equal(
            VAULT_DB_DEFAULT_USERNAME_TEMPLATE,
            '{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 15) (.RoleName | truncate 15) (random 20) (unix_time) | replace "." "-" | truncate 100 }}',
        );
        const match = pattern().exec(defaultUser(1764720000, "kubernetes-microservices-dev-product-service"));
        assert.ok(match, defaultUser(1764720000, "kubernetes-microservices-dev-product-service"));
        assert.equal(
            match.slice(1).find((g) => g !== undefined),
            "1764720000",
        );
        // A Kubernetes-auth display name holds dashes; the token's has none.
        assert.ok(pattern().test(defaultUser(1764720000, "token")));
    });

    it("names a Kubernetes-auth login's token as Vault does: <mount>-<namespace>-<service account>", () => {
        assert.equal(vaultKubernetesDisplayName("kubernetes", "microservices-dev", "product-service"), READERS[1]);
        assert.equal(vaultKubernetesDisplayName("kubernetes/", "ns", "sa"), "kubernetes-ns-sa");
        assert.equal(vaultKubernetesDisplayName("k8s/dev", "ns", "sa"), "k8s-dev-ns-sa");
    });

    it("matches the default's display name exactly: near misses of other readers or other roles are kept (review of item 6)", () => {
        const t = 1764720000;
        const nearMisses = [
            // Another namespace's service account reading a role of the same 15 characters.
            defaultUser(t, "kubernetes-other-ns-reporting"),
            // A role "r" read by a token named "a-microservices": the same characters, split elsewhere.
            defaultUser(t, "a-microservices", "r"),
            // A display name of the token store with a name of its own.
            defaultUser(t, "token-ci"),
            // Our role's prefix, but another role's tail (our template keeps 30 characters).
            engineUser(t, "microservices-role-x"),
        ];
        for (const user of nearMisses) assert.equal(pattern().exec(user), null, user);
    });

    it("matches none of the default's users when another role of the engine shares our first 15 characters", () => {
        const t = 1764720000;
        const ours = defaultUser(t, "token");
        const theirs = defaultUser(t, "token", "microservices-reader");
        assert.equal(ours, theirs, "the default template cannot tell the two roles apart");
        const clash = pattern([VAULT_DB_ROLE, "microservices-reader"]);
        assert.equal(clash.exec(theirs), null);
        assert.equal(clash.exec(engineUser(t))?.[1], String(t), "our own template's users still match");
        assert.equal(clash.exec(engineUser(t, "microservices-reader")), null);
        assert.ok(pattern([VAULT_DB_ROLE, "other-role"]).test(ours), "a role of another prefix changes nothing");
        assert.throws(
            () => vaultDbUsernamePattern("a".repeat(30) + "-one", READERS, ["a".repeat(30) + "-one", "a".repeat(30) + "-two"]),
            /shares its first 30 characters/,
        );
    });
});

describe('what a default-template name cannot tell (documented limitation, docs/operations.md "Restart dev\'s Vault")', () => {
    it("keeps only 4 characters of a Kubernetes login's namespace and 15 of the role, so such users read as ours", () => {
        const t = 1764720000;
        // Vault's own cut (plugins/database/mongodb/mongodb.go defaultUserNameTemplate: truncate 15).
        assert.equal("kubernetes-microservices-dev-product-service".slice(0, 15), "kubernetes-micr");
        // Another namespace's login that starts "micr", another service account: the same name.
        assert.ok(pattern().test(defaultUser(t, "kubernetes-micro-other-anyone")));
        // A role sharing the first 15 characters, unknown to the program (added by hand): the same name.
        assert.ok(pattern().test(defaultUser(t, "token", "microservices-reader")));
        // The docs say so, naming both.
        const ops = fs.readFileSync(path.join(ROOT, "docs", "operations.md"), "utf8");
        assert.match(ops, /keep only 4\s+of the namespace/);
        assert.match(ops, /a role added to dev's Vault by hand is gone with that Vault's memory/);
    });
});

describe("scripts/mongo-stale-users.js", () => {
    /** Runs the script as mongosh would, against an in-memory admin database. */
    function run(users: string[], cutoff: number, legacyShell = false) {
        const dropped: string[] = [];
        const printed: string[] = [];
        const auth: string[] = [];
        class Mongo {
            constructor(readonly uri: string) {}
            getDB(name: string) {
                assert.equal(name, "admin");
                return {
                    auth: (u: string, p: string) => auth.push(`${u}:${p}`),
                    getUsers: () => (legacyShell ? users.map((user) => ({ user })) : { users: users.map((user) => ({ user })), ok: 1 }),
                    dropUser: (u: string) => dropped.push(u),
                };
            }
        }
        const env = {
            USERNAME_PATTERN: vaultDbUsernamePattern(VAULT_DB_ROLE, READERS),
            CUTOFF: String(cutoff),
            MONGO_HOST: "mongodb.microservices-dev.svc.cluster.local",
            MONGO_PORT: "27017",
            MONGO_USERNAME: "root",
            MONGO_PASSWORD: "pw",
        };
        vm.runInNewContext(fs.readFileSync(JS, "utf8"), { Mongo, print: (s: string) => printed.push(s), process: { env } });
        return { dropped, printed, auth };
    }

    it("drops the engine's users created before the cut-off, keeps the running Vault's, the root user and other users", () => {
        const cutoff = 1764720000;
        const before = [engineUser(cutoff - 86400), engineUser(cutoff - 1)];
        const after = [engineUser(cutoff), engineUser(cutoff + 60)];
        const legacy = [defaultUser(cutoff - 3600, READERS[1]), defaultUser(cutoff - 7200, "token")];
        const r = run(["root", "reporting", ...before, ...after, engineUser(cutoff - 5, "other-role"), ...legacy], cutoff);
        assert.deepEqual(r.dropped, [...before, ...legacy]);
        assert.deepEqual(r.auth, ["root:pw"]);
        assert.match(r.printed.at(-1)!, /dropped 4 stale user\(s\) created before 1764720000; kept 2/);
        assert.deepEqual(run(before, cutoff, true).dropped, before, "the legacy shell's array reply too");
    });

    it("refuses a cut-off that is not a unix time (never drops everything on a bad handoff)", () => {
        assert.throws(() => run([engineUser(5)], Number.NaN), /CUTOFF must be a unix time/);
    });
});

describe("dev's reconciler hands stale users to the cleanup (scripts/vault-configure.sh, mongo-stale-users.sh)", () => {
    let fake: string;
    beforeEach(() => (fake = vaultSandbox("vault-dev-users-")));
    afterEach(() => fs.rmSync(fake, { recursive: true, force: true }));

    /** The script as dev's reconciler runs it (one service here), handing stale users to the cleanup. */
    function reconcile(env: Record<string, string> = {}) {
        return vaultConfigure(fake, {
            SERVICES: "product-service:product-service",
            USERNAME_TEMPLATE: VAULT_DB_USERNAME_TEMPLATE,
            STALE_USERS_FILE: staleFile(),
            RECONCILE_SECONDS: "30",
            RECONCILE_ROUNDS: "1",
            ...env,
        });
    }
    const staleFile = () => path.join(fake, "stale-before");

    it("an empty Vault at start: hands over the current time before configuring, and sets the template as one argument", () => {
        const before = Math.floor(Date.now() / 1000);
        const r = reconcile();
        assert.equal(r.status, 0, r.output);
        const cutoff = Number(fs.readFileSync(staleFile(), "utf8").trim());
        assert.ok(cutoff >= before && cutoff <= Math.floor(Date.now() / 1000), String(cutoff));
        const log = lines(path.join(fake, "vault.log"));
        assert.ok(
            log.findIndex((l) => l.startsWith("secrets list")) < log.findIndex((l) => l.startsWith("secrets enable")),
            "checked before the engine was mounted",
        );
        assert.equal(fs.readFileSync(path.join(fake, "template"), "utf8").trim(), `username_template=${VAULT_DB_USERNAME_TEMPLATE}`);
        assert.match(r.output, /MongoDB users the engine created before \d+ \(unix time\) are stale/);
    });

    it("a Vault that still holds its configuration (the reconciler restarted, not Vault): nothing is stale", () => {
        assert.equal(reconcile({ RECONCILE_ROUNDS: "0" }).status, 0);
        fs.rmSync(staleFile());
        const r = reconcile();
        assert.equal(r.status, 0, r.output);
        assert.ok(!fs.existsSync(staleFile()), r.output);
    });

    it("a Vault that restarted while the reconciler ran: hands over again", () => {
        assert.equal(reconcile({ RECONCILE_ROUNDS: "0" }).status, 0);
        fs.rmSync(staleFile());
        // The next pause "restarts" Vault.
        fs.writeFileSync(path.join(fake, "bin", "sleep"), `#!/bin/sh\nrm -f "$FAKE"/v/*\nexit 0\n`, { mode: 0o755 });
        const r = reconcile();
        assert.equal(r.status, 0, r.output);
        assert.match(r.output, /has lost its configuration/);
        assert.ok(fs.existsSync(staleFile()), r.output);
    });

    it("a restart noticed while the new Vault is still starting: waits for it, then hands over before configuring", () => {
        assert.equal(reconcile({ RECONCILE_ROUNDS: "0" }).status, 0);
        fs.rmSync(staleFile());
        // The reconciler's pause "restarts" Vault once; its first `vault status` after that fails (not up yet).
        fs.writeFileSync(
            path.join(fake, "bin", "sleep"),
            `#!/bin/sh\n[ -e "$FAKE/restarted" ] && exit 0\n: >"$FAKE/restarted"\n: >"$FAKE/down"\nrm -f "$FAKE"/v/*\nexit 0\n`,
            { mode: 0o755 },
        );
        fs.writeFileSync(path.join(fake, "vault.log"), "");
        const r = reconcile();
        assert.equal(r.status, 0, r.output);
        assert.match(r.output, /has lost its configuration/);
        assert.ok(fs.existsSync(staleFile()), `the restart was handed to the cleanup:\n${r.output}`);
        const log = lines(path.join(fake, "vault.log"));
        assert.ok(
            log.findIndex((l) => l.startsWith("secrets list")) < log.findIndex((l) => l.startsWith("secrets enable")),
            "looked before configure() mounted the engine again",
        );
    });

    it("a Vault whose mounts cannot be listed is never taken as empty", () => {
        fs.writeFileSync(path.join(fake, "list-fails"), "");
        reconcile({ RECONCILE_ROUNDS: "0", WAIT_ATTEMPTS: "1" });
        assert.ok(!fs.existsSync(staleFile()));
    });

    it("as a Job (prod, no RECONCILE_SECONDS): never hands anything over", () => {
        const r = reconcile({ RECONCILE_SECONDS: "" });
        assert.equal(r.status, 0, r.output);
        assert.ok(!fs.existsSync(staleFile()));
    });

    it("mongo-stale-users.sh runs the drop with the cut-off and removes the handoff only when it succeeded", () => {
        // mongosh: records its arguments and CUTOFF; fails while $FAKE/mongo-fails exists.
        fs.writeFileSync(
            path.join(fake, "bin", "mongosh"),
            `#!/bin/sh\n[ -e "$FAKE/mongo-fails" ] && exit 1\necho "$* CUTOFF=$CUTOFF" >>"$FAKE/mongosh.log"\n`,
            { mode: 0o755 },
        );
        fs.writeFileSync(staleFile(), "1764720000\n");
        fs.writeFileSync(path.join(fake, "mongo-fails"), "");
        const env = {
            PATH: `${path.join(fake, "bin")}:${process.env.PATH}`,
            FAKE: fake,
            STALE_USERS_FILE: staleFile(),
            USERNAME_PATTERN: vaultDbUsernamePattern(VAULT_DB_ROLE, READERS),
            MONGO_HOST: "mongodb",
            MONGO_USERNAME: "root",
            MONGO_PASSWORD: "pw",
            ROUNDS: "1",
        };
        const failed = spawnSync("sh", [SH], { encoding: "utf8", env });
        assert.equal(failed.status, 0);
        assert.match(failed.stderr, /could not drop the stale users/);
        assert.ok(fs.existsSync(staleFile()), "kept for the next try");
        fs.rmSync(path.join(fake, "mongo-fails"));
        const ok = spawnSync("sh", [SH], { encoding: "utf8", env });
        assert.equal(ok.status, 0, ok.stderr);
        assert.deepEqual(lines(path.join(fake, "mongosh.log")), [
            `--nodb --quiet ${path.join(ROOT, "scripts", MONGO_STALE_USERS_JS_FILE)} CUTOFF=1764720000`,
        ]);
        assert.ok(!fs.existsSync(staleFile()));
        assert.ok(!`${ok.stdout}${ok.stderr}`.includes("pw"), "the password is in no output");
    });
});

describe("dev's reconciler Deployment (plan, issue 20 item 6)", () => {
    it("runs the cleanup beside the configuration in dev only, sharing an in-memory handoff, reaching MongoDB", async () => {
        const dev = await evaluateStack("dev");
        const reconciler = dev.ofType("kubernetes:apps/v1:Deployment").find((d) => d.urn.includes("VaultDatabaseConfig"))!;
        const pod = reconciler.inputs.spec.template.spec;
        assert.deepEqual(
            pod.containers.map((c: any) => c.name),
            ["configure", "mongo-users"],
        );
        const [configure, cleanup] = pod.containers;
        const envOf = (c: any) => Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
        assert.equal(cleanup.image, MONGO_IMAGE);
        assert.equal(envOf(configure).STALE_USERS_FILE, envOf(cleanup).STALE_USERS_FILE);
        assert.equal(envOf(configure).USERNAME_TEMPLATE, VAULT_DB_USERNAME_TEMPLATE);
        // The readers: the token store's tokens and the services' logins from the app namespace.
        const accounts = String(envOf(configure).SERVICES)
            .split(" ")
            .map((pair) => pair.split(":")[1]);
        assert.ok(accounts.length >= 2, envOf(configure).SERVICES);
        assert.equal(
            envOf(cleanup).USERNAME_PATTERN,
            vaultDbUsernamePattern(envOf(configure).DB_ROLE, [
                "token",
                ...accounts.map((sa) => `kubernetes-${envOf(configure).APP_NAMESPACE}-${sa}`),
            ]),
        );
        assert.deepEqual(envOf(cleanup).MONGO_PASSWORD, envOf(configure).MONGO_PASSWORD, "from the same Secret");
        const handoff = pod.volumes.find((v: any) => v.name === "handoff");
        assert.equal(handoff.emptyDir.medium, "Memory");
        const script = dev.ofType("kubernetes:core/v1:ConfigMap").find((c) => c.urn.includes("VaultDatabaseConfig"))!;
        for (const file of [MONGO_STALE_USERS_SCRIPT_FILE, MONGO_STALE_USERS_JS_FILE, "lib.sh"]) assert.ok(script.inputs.data[file], file);
        // The network policy lets exactly this pod reach MongoDB's port (reconciler pod labels).
        const policies = dev.ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy");
        const egress = policies.find((p) => p.name.endsWith("vault-configure-to-mongodb") && p.inputs.spec.policyTypes.includes("Egress"));
        assert.ok(egress, policies.map((p) => p.name).join(", "));
        const selector = egress.inputs.spec.podSelector.matchLabels;
        for (const [k, v] of Object.entries(selector)) assert.equal(reconciler.inputs.spec.template.metadata.labels[k], v, k);

        const prod = await evaluateStack("prod");
        const job = prod.ofType("kubernetes:batch/v1:Job").find((j) => j.urn.includes("VaultDatabaseConfig"))!;
        assert.deepEqual(
            job.inputs.spec.template.spec.containers.map((c: any) => c.name),
            ["configure"],
            "prod's Vault keeps its leases",
        );
        // Prod's configure Job is no way to MongoDB: the flow's selector does not match its pod.
        const prodEgress = prod
            .ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy")
            .filter((p) => p.name.endsWith("vault-configure-to-mongodb") && p.inputs.spec.policyTypes.includes("Egress"));
        const jobLabels = job.inputs.spec.template.metadata.labels;
        for (const p of prodEgress) {
            const matches = Object.entries(p.inputs.spec.podSelector.matchLabels).every(([k, v]) => jobLabels[k] === v);
            assert.ok(!matches, `${p.name} selects prod's configure Job`);
        }
    });
});
