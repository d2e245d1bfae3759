// The platform layer's config keys: good values parse, bad ones are rejected with the key, the value
// and what is allowed, and secret PEM text never appears in a message.
import * as pulumi from "@pulumi/pulumi";
import { strict as assert } from "assert";
import { generateKeyPairSync } from "crypto";
import { checkDeployable, checkHostName, checkPollInterval, checkRecoverySplit, checkTlsPair, parseConfig } from "../components/config";
import { configProblems, evaluateStack, EvaluationError, PROJECT, stackRaw, TEST_TLS, itRejectsConfig, type BadConfigRow } from "./harness";

const problemsOf = configProblems;
const committed = stackRaw;

const tls = { ingressTlsCertificate: TEST_TLS.certificate, ingressTlsPrivateKey: TEST_TLS.privateKey };
const otherKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "pem", type: "pkcs8" }).toString();

describe("platform config", () => {
    it("defaults: STRICT mesh, 2m rotation, the dev host, 5 recovery shares with threshold 3", () => {
        const cfg = parseConfig(committed("dev"), PROJECT, "dev");
        assert.equal(cfg.mesh.mtlsMode, "STRICT");
        assert.equal(cfg.secretsStore.rotationPollInterval, "2m");
        assert.equal(cfg.ingress.host, "app.dev.example.com");
        assert.equal(cfg.ingress.tls, undefined);
        assert.deepEqual(cfg.vault, {
            mode: "dev",
            replicas: 3,
            storageClass: "vault-premium-zrs",
            tls: false,
            snapshot: { schedule: "0 */6 * * *", retentionDays: 30, keepLast: 7 },
            operatorGroups: [],
            recoveryShares: 5,
            recoveryThreshold: 3,
        });
        assert.equal(cfg.highAvailability, false);
        assert.deepEqual(cfg.identities.vaultInit, []);
        assert.deepEqual(cfg.identities.ingressTls, [{ namespace: "istio-ingress", name: "istio-ingressgateway" }]);
    });

    it("prod: HA Vault with an init Job identity in Vault's namespace", () => {
        const cfg = parseConfig({ ...committed("prod"), ...tls }, PROJECT, "prod");
        assert.equal(cfg.vault.mode, "ha");
        assert.equal(cfg.highAvailability, true);
        assert.deepEqual(cfg.identities.vaultInit, [{ namespace: "vault", name: "vault-init" }]);
        assert.equal(cfg.identities.vaultInit[0].namespace, cfg.identities.vaultUnseal[0].namespace);
        assert.ok(cfg.ingress.tls);
    });

    it("prod cannot be deployed without the ingress certificate and key, and says how to set them", async () => {
        const cfg = parseConfig(committed("prod", false), PROJECT, "prod");
        const problems = checkDeployable(cfg);
        // ...nor without the images it imports (serviceImageSource import), which promotion writes: in the same round.
        assert.deepEqual(
            problems.map((p) => p.split(":")[0]),
            [
                "ingressTlsCertificate",
                "ingressTlsPrivateKey",
                "productServiceImage, productServiceTag",
                "orderServiceImage, orderServiceTag",
                "ciRunnerRepository",
                "ciRunnerGithubToken",
            ],
        );
        assert.match(problems[0], /pulumi config set --secret ingressTlsCertificate < cert\.pem/);
        assert.deepEqual(checkDeployable(parseConfig(committed("dev"), PROJECT, "dev")), []);

        const failure = await evaluateStack("prod", { ingressTlsCertificate: undefined, ingressTlsPrivateKey: undefined }).then(
            () => assert.fail("prod without TLS config was accepted"),
            (error: unknown) => error,
        );
        assert.ok(failure instanceof EvaluationError);
        assert.match(failure.message, /ingressTlsCertificate: is not set/);
        assert.deepEqual(failure.resources, [], "nothing is registered before config is valid");
    });

    it("reports prod's missing certificate and key in the same round as every other problem (issue 17 item 7)", async () => {
        // Before: the program threw the bad region alone, and only once it was fixed named the certificate.
        const failure = await evaluateStack("prod", {
            ingressTlsCertificate: undefined,
            ingressTlsPrivateKey: undefined,
            location: "eastus3",
            clusterTier: "Gold",
        }).then(
            () => assert.fail("accepted"),
            (error: unknown) => error,
        );
        assert.ok(failure instanceof EvaluationError);
        for (const key of ["location", "clusterTier", "ingressTlsCertificate", "ingressTlsPrivateKey"])
            assert.match(failure.message, new RegExp(`^ *- ${key}: `, "m"), `${key} in:\n${failure.message}`);
        assert.deepEqual(failure.resources, [], "nothing is registered before config is valid");
    });

    it("marks the configured certificate and key secret", async () => {
        const cfg = parseConfig({ ...committed("dev"), ...tls }, PROJECT, "dev");
        assert.ok(cfg.ingress.tls);
        assert.ok(await pulumi.isSecret(cfg.ingress.tls.privateKey));
        assert.ok(await pulumi.isSecret(cfg.ingress.tls.certificate));
    });

    describe("bad values are rejected with the key, the value and what is allowed", () => {
        // `count`: problems expected (default 1); the fragments may come from any of them.
        const rows: BadConfigRow[] = [
            { name: "unknown mTLS mode", raw: { meshMtlsMode: "strict" }, expect: ["meshMtlsMode", '"strict"', "STRICT, PERMISSIVE"] },
            {
                name: "PERMISSIVE in prod",
                raw: { ...tls, meshMtlsMode: "PERMISSIVE" },
                stack: "prod",
                expect: ["meshMtlsMode", '"PERMISSIVE"', "prod", "STRICT"],
            },
            {
                name: "poll interval in words",
                raw: { csiRotationPollInterval: "2 minutes" },
                expect: ["csiRotationPollInterval", '"2 minutes"', "s, m or h"],
            },
            {
                name: "poll interval of zero",
                raw: { csiRotationPollInterval: "0m" },
                expect: ["csiRotationPollInterval", '"0m"', "e.g. 2m"],
            },
            { name: "poll interval without unit", raw: { csiRotationPollInterval: "120" }, expect: ["csiRotationPollInterval", '"120"'] },
            {
                name: "host with upper case",
                raw: { ingressHost: "App.Example.com" },
                expect: ["ingressHost", '"App.Example.com"', "lowercase DNS labels"],
            },
            { name: "single-label host", raw: { ingressHost: "localhost" }, expect: ["ingressHost", '"localhost"', "host name"] },
            {
                name: "certificate without key",
                raw: { ingressTlsCertificate: TEST_TLS.certificate },
                expect: ["ingressTlsPrivateKey: is not set", "ingressTlsCertificate is", "both"],
            },
            {
                name: "key without certificate",
                raw: { ingressTlsPrivateKey: TEST_TLS.privateKey },
                expect: ["ingressTlsCertificate: is not set", "ingressTlsPrivateKey is"],
            },
            {
                name: "certificate that is not PEM",
                raw: { ...tls, ingressTlsCertificate: "not a certificate" },
                expect: ["ingressTlsCertificate", "not a PEM X.509 certificate", "--secret"],
            },
            {
                name: "certificate and key swapped",
                raw: { ingressTlsCertificate: TEST_TLS.privateKey, ingressTlsPrivateKey: TEST_TLS.certificate },
                count: 2,
                expect: ["ingressTlsCertificate", "not a PEM X.509", "ingressTlsPrivateKey", "not an unencrypted PEM private key"],
            },
            {
                name: "key of another certificate",
                raw: { ...tls, ingressTlsPrivateKey: otherKey },
                expect: ["ingressTlsPrivateKey", "is not the key of ingressTlsCertificate"],
            },
            {
                name: "certificate for another host",
                raw: { ...tls, ingressHost: "shop.example.org" },
                expect: ["ingressTlsCertificate", "does not cover ingressHost", '"shop.example.org"', "DNS:app.prod.example.com"],
            },
            { name: "no recovery shares", raw: { vaultRecoveryShares: "0" }, expect: ["vaultRecoveryShares", "0", "1 to 10"] },
            {
                name: "threshold above shares",
                raw: { vaultRecoveryShares: "5", vaultRecoveryThreshold: "6" },
                expect: ["vaultRecoveryThreshold", "6", "vaultRecoveryShares 5", "2 to 5"],
            },
            {
                name: "threshold of one with several shares",
                raw: { vaultRecoveryThreshold: "1" },
                expect: ["vaultRecoveryThreshold", "1", "2 to 5"],
            },
            {
                name: "recovery shares not a number",
                raw: { vaultRecoveryShares: "five" },
                expect: ["vaultRecoveryShares", '"five"', "whole number"],
            },
        ];
        itRejectsConfig(rows);

        it("accepts one share with threshold one", () => {
            assert.deepEqual(problemsOf({ ...committed("dev"), vaultRecoveryShares: "1", vaultRecoveryThreshold: "1" }, "dev"), []);
            assert.equal(checkRecoverySplit(1, 2), "vaultRecoveryThreshold: 2 is not allowed with vaultRecoveryShares 1; use 1");
        });
    });

    describe("validators", () => {
        it("poll intervals", () => {
            for (const good of ["30s", "2m", "1h", "120s"]) assert.equal(checkPollInterval("k", good), undefined, good);
            for (const bad of ["", "2", "2M", "1.5m", "-1m", "2mm", "02m"]) assert.ok(checkPollInterval("k", bad), bad);
        });

        it("host names", () => {
            for (const good of ["app.example.com", "a-b.c.example.co", "x1.y2"]) assert.equal(checkHostName("k", good), undefined, good);
            for (const bad of ["example", "-a.example.com", "a..b", "a_b.example.com", "*.example.com", `${"a".repeat(64)}.com`])
                assert.ok(checkHostName("k", bad), bad);
        });

        it("an expired certificate", () => {
            const problems = checkTlsPair(
                TEST_TLS.certificate,
                TEST_TLS.privateKey,
                "app.prod.example.com",
                new Date("2200-01-01T00:00:00Z"),
            );
            assert.equal(problems.length, 1);
            assert.match(problems[0], /^ingressTlsCertificate: \(DNS:app\.prod\.example\.com, DNS:app\.dev\.example\.com\) expired on /);
        });

        it("a good pair for either host of the fixture", () => {
            assert.deepEqual(checkTlsPair(TEST_TLS.certificate, TEST_TLS.privateKey, "app.prod.example.com"), []);
            assert.deepEqual(checkTlsPair(TEST_TLS.certificate, TEST_TLS.privateKey, "app.dev.example.com"), []);
        });
    });
});
