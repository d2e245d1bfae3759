// Issue 20 item 3: Vault's listener certificate renews with no human step. scripts/vault-tls-renew.sh runs
// against a stand-in `az` (Key Vault secrets as files) with the real openssl, and probes a real TLS server
// (Node's tls) that serves the stored certificate; scripts/vault-tls-reload.sh runs against a stand-in
// vault process. The expectations come from openssl itself (verify, x509 -ext), not from the scripts.
import { strict as assert } from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tls from "tls";
import { KEY_VAULT_SECRETS_OFFICER, KEY_VAULT_SECRETS_USER, roleDefinitionId } from "../components/azure/roles";
import { VAULT_TLS_RENEW_SCRIPT, VAULT_TLS_RELOAD_SCRIPT } from "../components/platform/vaultTlsRenew";
import { cronMaxGapMinutes } from "../components/config/validators";
import { evaluateStack, SUBSCRIPTION, type StackRun } from "./harness";

// az: `login` succeeds; `keyvault secret show --name N` prints $FAKE/kv/N (fails when absent);
// `keyvault secret set --name N --file F` copies F there and records "set N" in $FAKE/az.log.
const AZ = `#!/bin/sh
cmd="$1 $2 $3"
name=""; file=""
while [ $# -gt 0 ]; do case "$1" in --name) name=$2; shift ;; --file) file=$2; shift ;; esac; shift; done
case "$cmd" in
  login*) exit 0 ;;
  "keyvault secret show")
    # A denied or throttled read: $FAKE/show-error holds what azure-cli prints.
    [ -f "$FAKE/show-error" ] && { cat "$FAKE/show-error" >&2; exit 1; }
    # Key Vault's 404 error code (Azure/azure-sdk-for-js#25489: "code": "SecretNotFound", 404), as azure-cli prints it.
    [ -f "$FAKE/kv/$name" ] || { printf '(SecretNotFound) A secret with (name/id) %s was not found in this key vault.\nCode: SecretNotFound\n' "$name" >&2; exit 1; }
    cat "$FAKE/kv/$name" ;;
  "keyvault secret set") echo "set $name" >>"$FAKE/az.log"; cp "$file" "$FAKE/kv/$name" ;;
  *) exit 3 ;;
esac
`;

function openssl(args: string[], input?: string): string {
    const r = spawnSync("openssl", args, { encoding: "utf8", input });
    assert.equal(r.status, 0, `openssl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
}

const NAMES = ["localhost", "vault-0.vault-internal", "vault-active.vault.svc.cluster.local"];

describe("scripts/vault-tls-renew.sh (issue 20 item 3)", function () {
    this.timeout(60000);
    let fake: string;
    const kv = (name: string) => path.join(fake, "kv", name);

    /**
     * A server certificate signed by the test CA, valid `days` days from now (or expired a month ago), for
     * `names`, as the chain Key Vault holds.
     */
    function storeServerCertificate(days: number | "expired", names: readonly string[] = NAMES) {
        const dir = path.join(fake, "issue");
        fs.mkdirSync(dir, { recursive: true });
        openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${dir}/k.pem`]);
        openssl(["req", "-new", "-key", `${dir}/k.pem`, "-subj", "/CN=old", "-out", `${dir}/r.csr`]);
        fs.writeFileSync(
            `${dir}/ext`,
            `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")},IP:127.0.0.1\nextendedKeyUsage=serverAuth\n`,
        );
        if (days === "expired") {
            // openssl x509 refuses non-positive -days; openssl ca takes explicit dates.
            fs.writeFileSync(`${dir}/index.txt`, "");
            fs.writeFileSync(`${dir}/serial`, "07\n");
            fs.writeFileSync(
                `${dir}/ca.cnf`,
                `[ca]\ndefault_ca=d\n[d]\ndatabase=${dir}/index.txt\nnew_certs_dir=${dir}\nserial=${dir}/serial\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n`,
            );
            openssl(
                [
                    "ca",
                    "-batch",
                    "-notext",
                    "-config",
                    `${dir}/ca.cnf`,
                    "-cert",
                    kv("vault-tls-ca"),
                    "-keyfile",
                    kv("vault-tls-ca-key"),
                ].concat(
                    ["-in", `${dir}/r.csr`, "-startdate", "20250101000000Z", "-enddate", "20251101000000Z"],
                    ["-extfile", `${dir}/ext`, "-out", `${dir}/c.pem`],
                ),
            );
        } else {
            openssl(
                ["x509", "-req", "-in", `${dir}/r.csr`, "-CA", kv("vault-tls-ca"), "-CAkey", kv("vault-tls-ca-key")].concat([
                    "-set_serial",
                    "7",
                    "-days",
                    String(days),
                    "-extfile",
                    `${dir}/ext`,
                    "-out",
                    `${dir}/c.pem`,
                ]),
            );
        }
        fs.writeFileSync(kv("vault-tls-crt"), fs.readFileSync(`${dir}/c.pem`, "utf8") + fs.readFileSync(kv("vault-tls-ca"), "utf8"));
        fs.copyFileSync(`${dir}/k.pem`, kv("vault-tls-key"));
    }

    /** A TLS server presenting what Key Vault holds now (as a Vault pod that has not reloaded since). */
    async function serveStored(): Promise<tls.Server> {
        const server = tls.createServer({ cert: fs.readFileSync(kv("vault-tls-crt")), key: fs.readFileSync(kv("vault-tls-key")) }, (s) =>
            s.end(),
        );
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        return server;
    }

    function run(server: tls.Server, extra: Record<string, string> = {}): Promise<{ status: number | null; log: string }> {
        const port = (server.address() as { port: number }).port;
        return new Promise((resolve) => {
            const child = spawn("sh", [VAULT_TLS_RENEW_SCRIPT, "renew"], {
                env: {
                    PATH: `${path.join(fake, "bin")}:${process.env.PATH}`,
                    FAKE: fake,
                    WORK_DIR: path.join(fake, "work"),
                    AZURE_CLIENT_ID: "client",
                    AZURE_TENANT_ID: "tenant",
                    AZURE_FEDERATED_TOKEN_FILE: path.join(fake, "jwt"),
                    KEY_VAULT_NAME: "kv-unseal",
                    CA_CERT_SECRET: "vault-tls-ca",
                    CA_KEY_SECRET: "vault-tls-ca-key",
                    CERT_SECRET: "vault-tls-crt",
                    KEY_SECRET: "vault-tls-key",
                    COMMON_NAME: "vault.vault.svc",
                    ORGANIZATION: "vault",
                    DNS_NAMES: NAMES.join(" "),
                    IP_ADDRESSES: "127.0.0.1",
                    VAULT_PEERS: `https://localhost:${port}`,
                    RENEW_BEFORE_DAYS: "30",
                    VALIDITY_DAYS: "365",
                    ALERT_DAYS: "14",
                    ...extra,
                },
            });
            let log = "";
            child.stderr.on("data", (d: Buffer) => (log += d.toString()));
            child.stdout.on("data", (d: Buffer) => (log += d.toString()));
            child.on("close", (status) => resolve({ status, log }));
        });
    }

    const sets = () =>
        fs.existsSync(path.join(fake, "az.log")) ? fs.readFileSync(path.join(fake, "az.log"), "utf8").trim().split("\n") : [];

    beforeEach(() => {
        fake = fs.mkdtempSync(path.join(os.tmpdir(), "vault-tls-renew-"));
        for (const dir of ["bin", "work", "kv"]) fs.mkdirSync(path.join(fake, dir));
        fs.writeFileSync(path.join(fake, "bin", "az"), AZ, { mode: 0o755 });
        fs.writeFileSync(path.join(fake, "bin", "sleep"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
        fs.writeFileSync(path.join(fake, "jwt"), "token");
        // The internal CA as components/azure/vaultTls.ts makes it: ECDSA P-384, self-signed, a CA.
        openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", kv("vault-tls-ca-key")]);
        openssl([
            "req",
            "-x509",
            "-new",
            "-key",
            kv("vault-tls-ca-key"),
            "-subj",
            "/CN=vault internal CA",
            "-days",
            "3650",
            "-out",
            kv("vault-tls-ca"),
        ]);
    });
    afterEach(() => fs.rmSync(fake, { recursive: true, force: true }));

    it("leaves a certificate with more than 30 days alone and reports the served one as ok", async () => {
        storeServerCertificate(200);
        const server = await serveStored();
        try {
            const r = await run(server);
            assert.equal(r.status, 0, r.log);
            assert.deepEqual(sets(), []);
            assert.match(r.log, /vault-tls served localhost notAfter=.* days_left=(199|200) alert_days=14 status=ok/);
        } finally {
            server.close();
        }
    });

    it("renews a certificate in its last 30 days: same SANs, signed by the CA, key written before the chain", async () => {
        storeServerCertificate(20);
        const oldKey = fs.readFileSync(kv("vault-tls-key"), "utf8");
        const server = await serveStored();
        try {
            const r = await run(server);
            assert.equal(r.status, 0, r.log);
            assert.deepEqual(sets(), ["set vault-tls-key", "set vault-tls-crt"]);
            const chain = kv("vault-tls-crt");
            // The chain Vault serves: the new leaf, then the CA (as the first issuance writes it).
            const blocks = fs.readFileSync(chain, "utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
            assert.equal(blocks.length, 2);
            assert.equal(blocks[1].trim(), fs.readFileSync(kv("vault-tls-ca"), "utf8").trim());
            fs.writeFileSync(path.join(fake, "leaf.pem"), blocks[0]);
            const leaf = path.join(fake, "leaf.pem");
            openssl(["verify", "-CAfile", kv("vault-tls-ca"), "-purpose", "sslserver", leaf]);
            const sans = openssl(["x509", "-in", leaf, "-noout", "-ext", "subjectAltName"]);
            for (const name of NAMES) assert.ok(sans.includes(`DNS:${name}`), sans);
            assert.ok(sans.includes("IP Address:127.0.0.1"), sans);
            const eku = openssl(["x509", "-in", leaf, "-noout", "-ext", "extendedKeyUsage"]);
            assert.match(eku, /TLS Web Server Authentication, TLS Web Client Authentication/);
            // 365 days: valid beyond 364, not beyond 366.
            assert.doesNotThrow(() => openssl(["x509", "-in", leaf, "-noout", "-checkend", String(364 * 86400)]));
            assert.notEqual(spawnSync("openssl", ["x509", "-in", leaf, "-noout", "-checkend", String(366 * 86400)]).status, 0);
            // A new key, and the one that matches the new certificate.
            const newKey = fs.readFileSync(kv("vault-tls-key"), "utf8");
            assert.notEqual(newKey, oldKey);
            assert.equal(openssl(["pkey", "-pubout"], newKey), openssl(["x509", "-noout", "-pubkey", "-in", leaf]));
            assert.match(r.log, /renewed: serial/);
            // The server still serves the old one (20 days: above the alert's 14).
            assert.match(r.log, /vault-tls served localhost .* days_left=(19|20) alert_days=14 status=ok/);
            // The CA key never stays in the work directory.
            assert.deepEqual(fs.readdirSync(path.join(fake, "work")), []);
        } finally {
            server.close();
        }
    });

    it("reports a served certificate within 14 days as EXPIRING and fails", async () => {
        storeServerCertificate(10);
        const server = await serveStored();
        try {
            const r = await run(server);
            assert.equal(r.status, 1, r.log);
            assert.match(r.log, /vault-tls served localhost .* days_left=(9|10) alert_days=14 status=EXPIRING/);
            // The stored one was renewed all the same.
            assert.deepEqual(sets(), ["set vault-tls-key", "set vault-tls-crt"]);
        } finally {
            server.close();
        }
    });

    it("fails without writing anything when the CA key cannot be read", async () => {
        storeServerCertificate(5);
        const server = await serveStored();
        fs.rmSync(kv("vault-tls-ca-key"));
        try {
            const r = await run(server);
            assert.equal(r.status, 1, r.log);
            assert.match(r.log, /FAILED: cannot read the CA/);
            assert.deepEqual(sets(), []);
        } finally {
            server.close();
        }
    });

    it("reports a server whose certificate does not verify against the CA as UNVERIFIED and fails (never skips it)", async () => {
        storeServerCertificate(200);
        const server = await serveStored();
        // Another CA in Key Vault: the served certificate no longer chains to it.
        fs.writeFileSync(kv("vault-tls-ca-key"), openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"]));
        openssl(["req", "-x509", "-new", "-key", kv("vault-tls-ca-key"), "-subj", "/CN=other", "-days", "10", "-out", kv("vault-tls-ca")]);
        try {
            const r = await run(server);
            assert.equal(r.status, 1, r.log);
            assert.match(r.log, /vault-tls served localhost notAfter=.* days_left=(199|200) alert_days=14 status=UNVERIFIED/);
        } finally {
            server.close();
        }
    });

    it("reports an expired served certificate as EXPIRED and fails, so the alert stays firing", async () => {
        // Key Vault holds a renewed one; the server still serves one that expired (it never reloaded).
        storeServerCertificate("expired");
        const server = await serveStored();
        storeServerCertificate(200);
        try {
            const r = await run(server);
            assert.equal(r.status, 1, r.log);
            assert.match(r.log, /vault-tls served localhost notAfter=Nov  1 00:00:00 2025 GMT days_left=-\d+ alert_days=14 status=EXPIRED/);
            assert.deepEqual(sets(), [], "the stored one has 200 days: nothing to renew");
        } finally {
            server.close();
        }
    });

    it("a read that Key Vault denies (a role still propagating) fails the run and issues nothing", async () => {
        storeServerCertificate(200);
        const server = await serveStored();
        fs.writeFileSync(
            path.join(fake, "show-error"),
            '(Forbidden) Caller is not authorized to perform action on resource.\nCode: Forbidden\nInner error: {"code": "ForbiddenByRbac"}\n',
        );
        try {
            const r = await run(server);
            assert.equal(r.status, 1, r.log);
            assert.match(r.log, /FAILED: cannot read vault-tls-crt from Key Vault kv-unseal: .*ForbiddenByRbac/);
            assert.deepEqual(sets(), []);
        } finally {
            server.close();
        }
    });

    it("issues one when Key Vault has no certificate secret (SecretNotFound)", async () => {
        storeServerCertificate(200);
        const server = await serveStored();
        fs.rmSync(kv("vault-tls-crt"));
        try {
            const r = await run(server);
            assert.match(r.log, /has no vault-tls-crt \(SecretNotFound\): issuing/);
            assert.deepEqual(sets(), ["set vault-tls-key", "set vault-tls-crt"]);
        } finally {
            server.close();
        }
    });

    it("re-issues a certificate whose names differ from the ones it is given (a voter added), and on FORCE_RENEW=1", async () => {
        storeServerCertificate(200, NAMES.slice(0, 2));
        const server = await serveStored();
        try {
            const r = await run(server);
            assert.equal(r.status, 0, r.log);
            assert.match(r.log, /names differ from DNS_NAMES\/IP_ADDRESSES/);
            assert.deepEqual(sets(), ["set vault-tls-key", "set vault-tls-crt"]);
            const sans = openssl(["x509", "-in", kv("vault-tls-crt"), "-noout", "-ext", "subjectAltName"]);
            assert.ok(sans.includes(`DNS:${NAMES[2]}`), sans);
            // The next run finds the names it wants: nothing to do.
            fs.rmSync(path.join(fake, "az.log"));
            const again = await run(server);
            assert.match(again.log, /nothing to renew/);
            assert.deepEqual(sets(), []);
            const forced = await run(server, { FORCE_RENEW: "1" });
            assert.match(forced.log, /FORCE_RENEW=1: issuing/);
            assert.deepEqual(sets(), ["set vault-tls-key", "set vault-tls-crt"]);
        } finally {
            server.close();
        }
    });
});

describe("scripts/vault-tls-reload.sh (issue 20 item 3)", function () {
    this.timeout(30000);
    let fake: string;
    beforeEach(() => (fake = fs.mkdtempSync(path.join(os.tmpdir(), "vault-tls-reload-"))));
    afterEach(() => fs.rmSync(fake, { recursive: true, force: true }));

    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    /** A stand-in process that counts the SIGHUPs it receives in $fake/hups-<role>. */
    function standIn(role: string) {
        return spawn("sh", ["-c", `trap 'echo hup >>"${fake}/hups-${role}"' HUP; while :; do sleep 0.1; done`]);
    }
    const hups = (role: string) =>
        fs.existsSync(path.join(fake, `hups-${role}`))
            ? fs
                  .readFileSync(path.join(fake, `hups-${role}`), "utf8")
                  .trim()
                  .split("\n").length
            : 0;
    async function waitFor(what: string, cond: () => boolean, log: () => string) {
        for (let i = 0; i < 100 && !cond(); i++) await sleep(100);
        assert.ok(cond(), `${what}\n${log()}`);
    }

    it("signals the Vault server, not the readiness probe's `vault status`: once at start, then on any change of either file", async () => {
        fs.writeFileSync(path.join(fake, "tls.crt"), "cert-1");
        fs.writeFileSync(path.join(fake, "tls.key"), "key-1");
        // Three processes a server pod shows through its shared process namespace: the readiness probe
        // (`vault status`, vault-helm v0.32.0 server-statefulset.yaml), dumb-init running the image's
        // entrypoint (hashicorp/vault .release/docker/docker-entrypoint.sh) and the server it exec'd.
        // The server gets the PID that sorts last as text, so a "first vault in /proc order" pick misses it.
        const procs = [standIn("a"), standIn("b"), standIn("c")];
        const byText = [...procs].sort((x, y) => String(x.pid).localeCompare(String(y.pid)));
        const [probe, init, server] = byText;
        const roleOf = (p: (typeof procs)[number]) => ["a", "b", "c"][procs.indexOf(p)];
        const proc = path.join(fake, "proc");
        const entry = (pid: number | undefined, comm: string, argv: string[]) => {
            fs.mkdirSync(path.join(proc, String(pid)), { recursive: true });
            fs.writeFileSync(path.join(proc, String(pid), "comm"), `${comm}\n`);
            fs.writeFileSync(path.join(proc, String(pid), "cmdline"), argv.map((a) => `${a}\0`).join(""));
        };
        entry(probe.pid, "vault", ["vault", "status", "-tls-skip-verify"]);
        entry(init.pid, "dumb-init", [
            "/usr/bin/dumb-init",
            "/bin/sh",
            "/usr/local/bin/docker-entrypoint.sh",
            "vault",
            "server",
            "-config=/tmp/storageconfig.hcl",
        ]);
        entry(server.pid, "vault", ["vault", "server", "-config=/tmp/storageconfig.hcl"]);
        const sidecar = spawn("sh", [VAULT_TLS_RELOAD_SCRIPT], {
            env: {
                PATH: process.env.PATH,
                TLS_CERT_FILE: path.join(fake, "tls.crt"),
                TLS_KEY_FILE: path.join(fake, "tls.key"),
                // A fifth of a second (GNU sleep takes fractions; the pod's interval is whole seconds): the
                // waits below then cost about a second, not five.
                CHECK_INTERVAL_SECONDS: "0.2",
                PROC_ROOT: proc,
            },
        });
        let log = "";
        sidecar.stderr.on("data", (d: Buffer) => (log += d.toString()));
        const server_ = roleOf(server);
        try {
            // Once at start, files unchanged.
            await waitFor(
                "a SIGHUP at start",
                () => hups(server_) === 1,
                () => log,
            );
            assert.match(log, new RegExp(`the sidecar started: sent SIGHUP to the vault server \\(pid ${server.pid}\\)`));
            // The key alone (the renewal writes it first): Vault tries the pair, refuses it, keeps the old one.
            fs.writeFileSync(path.join(fake, "tls.key"), "key-2");
            await waitFor(
                "a SIGHUP on the key's change",
                () => hups(server_) === 2,
                () => log,
            );
            // Then the certificate: the matching pair loads.
            fs.writeFileSync(path.join(fake, "tls.crt"), "cert-2");
            await waitFor(
                "a SIGHUP on the certificate's change",
                () => hups(server_) === 3,
                () => log,
            );
            // Nothing changed since: no further reload (five checks).
            await sleep(1000);
            assert.equal(hups(server_), 3, log);
            assert.equal(hups(roleOf(probe)), 0, "never the probe");
            assert.equal(hups(roleOf(init)), 0, "never dumb-init");
        } finally {
            sidecar.kill("SIGKILL");
            for (const p of procs) p.kill("SIGKILL");
        }
    });
});

// The evaluated prod plan: the CronJob, its identity's roles, the server pods' sidecar and the alerts,
// each checked against an independent fact (the first issuance's tls:CertRequest, the listener HCL, the
// chart's values, the built-in role IDs) rather than against the code that wires them.
describe("Vault TLS renewal (prod plan, issue 20 item 3)", () => {
    let run: StackRun;
    before(async () => {
        run = await evaluateStack("prod");
    });
    const renewJob = () => run.ofType("kubernetes:batch/v1:CronJob").find((c) => c.urn.includes("VaultTlsRenewCronJob"))!;
    const envOf = (container: any) => Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));

    it("a daily CronJob in Vault's namespace renews in the last 30 days a certificate with the first issuance's subject and SANs", () => {
        const job = renewJob();
        assert.ok(job, "a renewal CronJob");
        assert.equal(job.inputs.metadata.namespace, "vault");
        assert.equal(job.inputs.spec.concurrencyPolicy, "Forbid");
        const pod = job.inputs.spec.jobTemplate.spec.template;
        assert.equal(pod.metadata.labels["azure.workload.identity/use"], "true");
        assert.equal(pod.spec.serviceAccountName, "vault-tls-renew");
        const [container] = pod.spec.containers;
        assert.equal(container.name, "renew");
        assert.match(container.image, /^mcr\.microsoft\.com\/azure-cli:/);
        const env = envOf(container);
        const request = run.ofType("tls:index/certRequest:CertRequest").find((r) => r.name === "vault-tls-server")!;
        assert.deepEqual(env.DNS_NAMES.split(" "), request.inputs.dnsNames);
        assert.deepEqual(env.IP_ADDRESSES.split(" "), request.inputs.ipAddresses);
        assert.equal(env.COMMON_NAME, request.inputs.subject.commonName);
        assert.equal(env.ORGANIZATION, request.inputs.subject.organization);
        const signed = run.ofType("tls:index/locallySignedCert:LocallySignedCert").find((r) => r.name === "vault-tls-server")!;
        assert.equal(Number(env.VALIDITY_DAYS) * 24, signed.inputs.validityPeriodHours);
        assert.equal(env.RENEW_BEFORE_DAYS, "30", "renewed in its last 30 days (issue 20 item 3), by the CronJob only");
        // Issue 20 item 3: "An alert fires when the served certificate is within 14 days of expiry".
        assert.equal(env.ALERT_DAYS, "14");
        assert.equal(env.VAULT_PEERS, [0, 1, 2].map((i) => `https://vault-${i}.vault-internal.vault.svc.cluster.local:8200`).join(" "));
        assert.deepEqual(
            [env.CA_CERT_SECRET, env.CA_KEY_SECRET, env.CERT_SECRET, env.KEY_SECRET],
            ["vault-tls-ca", "vault-tls-ca-key", "vault-tls-crt", "vault-tls-key"],
        );
        const unsealVault = run.get("azure-native:keyvault:Vault", "unseal-kv").inputs.vaultName;
        assert.equal(env.KEY_VAULT_NAME, unsealVault);
    });

    it("an `up` after a renewal writes neither the certificate nor the key back: Pulumi writes them once, the CronJob after", () => {
        // The engine replaces ignored inputs with the old ones from state, so an update never sends them;
        // they are used only when the resource is created (pulumi/docs content/docs/iac/concepts/options/
        // ignorechanges.md: "Ignored properties will still be used from the program when there is no
        // previous value in the state, most importantly when creating the resource"). Both secrets, not
        // one: a new certificate beside the CronJob's key (or the reverse) is a pair Vault cannot load.
        const secret = (name: string) => run.ofType("azure-native:keyvault:Secret").find((s) => s.inputs.secretName === name)!;
        for (const name of ["vault-tls-crt", "vault-tls-key"]) assert.deepEqual([...secret(name).ignoreChanges], ["properties"], name);
        // The CA's two secrets stay Pulumi's (a CA rotation is `up --replace`, docs/operations.md).
        for (const name of ["vault-tls-ca", "vault-tls-ca-key"]) assert.deepEqual([...secret(name).ignoreChanges], [], name);
        // And the first issuance never enters an early-renewal window: with early_renewal_hours unset (0) the
        // tls provider marks it ready_for_renewal (a replacement on every plan) only once it has expired
        // (hashicorp/terraform-provider-tls internal/provider/common_cert.go, modifyPlanIfCertificateReadyForRenewal).
        const signed = run.ofType("tls:index/locallySignedCert:LocallySignedCert").find((r) => r.name === "vault-tls-server")!;
        assert.ok(!signed.inputs.earlyRenewalHours, `earlyRenewalHours=${signed.inputs.earlyRenewalHours}`);
    });

    it("the CA key is a Key Vault secret only the renewal identity reads; it reads and writes (never deletes) only the server's certificate and key", () => {
        const caKey = run.ofType("azure-native:keyvault:Secret").find((s) => s.inputs.secretName === "vault-tls-ca-key")!;
        assert.ok(caKey, "the CA key's secret");
        const assignments = run.ofType("azure-native:authorization:RoleAssignment");
        const onCaKey = assignments.filter((a) => a.inputs.scope === caKey.id);
        const component = run.get("aksplatform:azure:WorkloadIdentity", "vault-tls-renew-id");
        const identity = run.ofType("azure-native:managedidentity:UserAssignedIdentity").find((i) => i.parent === component.urn)!;
        assert.deepEqual(
            onCaKey.map((a) => [a.inputs.principalId, a.inputs.roleDefinitionId]),
            [[identity.state.principalId, roleDefinitionId(SUBSCRIPTION, KEY_VAULT_SECRETS_USER)]],
        );
        const mine = assignments.filter((a) => a.parent === component.urn);
        const byName = (name: string) => run.ofType("azure-native:keyvault:Secret").find((s) => s.inputs.secretName === name)!.id;
        // Writing: a custom role with exactly what `az keyvault secret show` / `set` need, not Key Vault
        // Secrets Officer (secrets/*: delete, backup, restore, purge too). Data action names from Azure's
        // resource provider operations (Microsoft.KeyVault): Secret Get, Set, List (metadata).
        const [role] = run.ofType("azure-native:authorization:RoleDefinition").filter((r) => r.name === "vault-tls-renew-role");
        assert.ok(role, "the renewal's custom role");
        assert.deepEqual(role.inputs.permissions, [
            {
                actions: [],
                dataActions: [
                    "Microsoft.KeyVault/vaults/secrets/getSecret/action",
                    "Microsoft.KeyVault/vaults/secrets/setSecret/action",
                    "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
                ],
            },
        ]);
        // A custom role is assignable at management group, subscription or resource group scopes (Azure
        // docs, role-definitions.md "AssignableScopes"): the stack's group; assigned on the secrets below it.
        const group = run.ofType("azure-native:resources:ResourceGroup")[0];
        assert.deepEqual(role.inputs.assignableScopes, [group.id]);
        assert.equal(role.inputs.scope, group.id);
        assert.deepEqual(
            mine.map((a) => `${a.inputs.scope} ${a.inputs.roleDefinitionId}`).sort(),
            [
                `${byName("vault-tls-ca")} ${roleDefinitionId(SUBSCRIPTION, KEY_VAULT_SECRETS_USER)}`,
                `${caKey.id} ${roleDefinitionId(SUBSCRIPTION, KEY_VAULT_SECRETS_USER)}`,
                `${byName("vault-tls-crt")} ${role.id}`,
                `${byName("vault-tls-key")} ${role.id}`,
            ].sort(),
        );
        assert.ok(!mine.some((a) => a.inputs.roleDefinitionId.endsWith(KEY_VAULT_SECRETS_OFFICER)), "no Secrets Officer");
        const credential = run.ofType("azure-native:managedidentity:FederatedIdentityCredential").find((c) => c.parent === component.urn)!;
        assert.equal(credential.inputs.subject, "system:serviceaccount:vault:vault-tls-renew");
        // Never mounted into Vault's pods.
        const spc = run
            .ofType("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass")
            .find((s) => s.inputs.metadata.name === "vault-tls")!;
        assert.doesNotMatch(spc.inputs.spec.parameters.objects, /vault-tls-ca-key/);
    });

    it("the server pods run a tls-reload sidecar that sees the vault process and watches the listener's own files", () => {
        const server = run.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.inputs.chart === "vault")!.inputs.values.server;
        // vault-helm v0.32.0 values.yaml: shareProcessNamespace "is useful if Vault must be signaled".
        assert.equal(server.shareProcessNamespace, true);
        assert.equal(server.extraContainers.length, 1);
        const [sidecar] = server.extraContainers;
        const hcl: string = server.ha.raft.config;
        const file = (key: string) => hcl.match(new RegExp(`${key}\\s+= "([^"]+)"`))![1];
        const env = envOf(sidecar);
        assert.equal(env.TLS_CERT_FILE, file("tls_cert_file"));
        assert.equal(env.TLS_KEY_FILE, file("tls_key_file"));
        // The same CSI volume as the server container, read-only.
        assert.deepEqual(sidecar.volumeMounts, server.volumeMounts);
        assert.equal(sidecar.image, `${server.image.repository}:${server.image.tag}`);
        assert.equal(sidecar.command[2], fs.readFileSync(VAULT_TLS_RELOAD_SCRIPT, "utf8"));
        assert.equal(sidecar.securityContext.allowPrivilegeEscalation, false);
        assert.deepEqual(sidecar.securityContext.capabilities, { drop: ["ALL"] });
    });

    it("alerts on each server's latest bad report over two runs, matching the script's own lines", async () => {
        const rules = run.ofType("azure-native:monitor:ScheduledQueryRule");
        const expiring = rules.find((r) => r.inputs.ruleName === "gitops-prod-vault-tls-expiring")!;
        assert.ok(expiring);
        const query: string = expiring.inputs.criteria.allOf[0].query;
        assert.match(query, new RegExp(`ContainerName == "${renewJob().inputs.spec.jobTemplate.spec.template.spec.containers[0].name}"`));
        // Every status but ok that the script can log fires it (scripts/vault-tls-renew.sh assigns them).
        const script = fs.readFileSync(VAULT_TLS_RENEW_SCRIPT, "utf8");
        const logged = new Set([...script.matchAll(/\bstatus=([A-Za-z]+)/g)].map((m) => m[1]));
        logged.delete("ok");
        const fired = [...query.matchAll(/"status=([A-Za-z]+)"/g)].map((m) => m[1]);
        assert.deepEqual(fired.sort(), [...logged].sort());
        assert.deepEqual(fired.sort(), ["EXPIRED", "EXPIRING", "UNVERIFIED"]);
        // The latest line per server decides (a fixed server resolves it; an expired one keeps it firing).
        assert.match(query, /extract\("vault-tls served \(\[\^ \]\+\)", 1, tostring\(LogMessage\)\)/);
        assert.match(query, /summarize arg_max\(TimeGenerated, LogMessage, PodName\) by Server/);
        // The server name the extract() reads back is the field after "vault-tls served" in the script's line.
        const line =
            "2026-12-03T03:17:40Z vault-tls-renew renew: vault-tls served vault-0.vault-internal.vault.svc.cluster.local notAfter=Dec 13 03:17:00 2026 GMT days_left=10 alert_days=14 status=EXPIRING";
        assert.equal(/vault-tls served ([^ ]+)/.exec(line)?.[1], "vault-0.vault-internal.vault.svc.cluster.local");
        // A daily run: a one-day window may lose a late run's report and resolve then re-fire; two days
        // (the most a log alert looks back) always hold the last report.
        assert.equal(expiring.inputs.windowSize, "PT48H");
        assert.equal(expiring.inputs.autoMitigate, true, "resolves once every server's latest report is ok");
    });

    it("the unreported alert stays quiet on a new stack until the first run is due, then fires on two days without a report", () => {
        const rules = run.ofType("azure-native:monitor:ScheduledQueryRule");
        const unreported = rules.find((r) => r.inputs.ruleName === "gitops-prod-vault-tls-unreported")!;
        const [criterion] = unreported.inputs.criteria.allOf;
        // Not an absence rule (fewer than 1 row fires it from the moment it exists): rows fire it.
        assert.equal(criterion.operator, "GreaterThan");
        assert.equal(criterion.threshold, 0);
        assert.equal(unreported.inputs.windowSize, "PT48H");
        const query: string = criterion.query;
        const hours = Number(/Since < ago\((\d+)h\)/.exec(query)?.[1]);
        assert.match(query, /Reports == 0/);
        // Quiet no longer than the first run can take: the schedule's longest gap, the CronJob's starting
        // deadline and the Job's own deadline (the CronJob's spec), and at least that long.
        const spec = renewJob().inputs.spec;
        const due = cronMaxGapMinutes(spec.schedule) * 60 + spec.startingDeadlineSeconds + spec.jobTemplate.spec.activeDeadlineSeconds;
        assert.ok(hours * 3600 >= due && hours * 3600 < due + 3600, `${hours}h against ${due}s`);
        assert.equal(unreported.inputs.autoMitigate, true);
    });

    it("has no renewal and no sidecar without Vault TLS (dev)", async () => {
        const off = await evaluateStack("dev");
        assert.equal(off.ofType("kubernetes:batch/v1:CronJob").filter((c) => c.urn.includes("VaultTlsRenewCronJob")).length, 0);
        const server = off.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.inputs.chart === "vault")!.inputs.values.server;
        assert.equal(server.extraContainers, null);
        assert.equal(server.shareProcessNamespace, false);
    });
});
