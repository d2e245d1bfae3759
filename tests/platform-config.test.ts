// The platform layer's config keys: good values parse, bad ones are rejected with the key, the value
// and what is allowed, and secret PEM text never appears in a message.
import * as pulumi from "@pulumi/pulumi";
import { strict as assert } from "assert";
import { generateKeyPairSync } from "crypto";
import { checkDeployable, checkHostName, checkPollInterval, checkRecoverySplit, checkTlsPair, parseConfig } from "../components/config";
import {
    configProblems,
    evaluateStack,
    EvaluationError,
    PROJECT,
    stackRaw,
    TEST_TLS,
    itRejectsConfig,
    type BadConfigRow,
    withOverrides,
} from "./harness";

const problemsOf = configProblems;
const committed = stackRaw;

const tls = { "ingress.tlsCertificate": TEST_TLS.certificate, "ingress.tlsPrivateKey": TEST_TLS.privateKey };
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
        const cfg = parseConfig(withOverrides(committed("prod"), tls), PROJECT, "prod");
        assert.equal(cfg.vault.mode, "ha");
        assert.equal(cfg.highAvailability, true);
        assert.deepEqual(cfg.identities.vaultInit, [{ namespace: "vault", name: "vault-init" }]);
        assert.equal(cfg.identities.vaultInit[0].namespace, cfg.identities.vaultUnseal[0].namespace);
        assert.ok(cfg.ingress.tls);
    });

    it("prod cannot be deployed without the ingress certificate and key, and says how to set them", async () => {
        const cfg = parseConfig(committed("prod", false), PROJECT, "prod");
        const problems = checkDeployable(cfg);
        // ...nor without the images it imports (services.imageSource import), which promotion writes: in the same round.
        assert.deepEqual(
            problems.map((p) => p.split(":")[0]),
            [
                "ingress.tlsCertificate",
                "ingress.tlsPrivateKey",
                "services.productImage, services.productTag",
                "services.orderImage, services.orderTag",
                "ciRunner.repository",
                "ciRunner.githubToken",
            ],
        );
        assert.match(problems[0], /pulumi config set --path --secret ingress\.tlsCertificate < cert\.pem/);
        assert.deepEqual(checkDeployable(parseConfig(committed("dev"), PROJECT, "dev")), []);

        const failure = await evaluateStack("prod", { "ingress.tlsCertificate": undefined, "ingress.tlsPrivateKey": undefined }).then(
            () => assert.fail("prod without TLS config was accepted"),
            (error: unknown) => error,
        );
        assert.ok(failure instanceof EvaluationError);
        assert.match(failure.message, /ingress\.tlsCertificate: is not set/);
        assert.deepEqual(failure.resources, [], "nothing is registered before config is valid");
    });

    it("reports prod's missing certificate and key in the same round as every other problem (issue 17 item 7)", async () => {
        // Before: the program threw the bad region alone, and only once it was fixed named the certificate.
        const failure = await evaluateStack("prod", {
            "ingress.tlsCertificate": undefined,
            "ingress.tlsPrivateKey": undefined,
            "azure.location": "eastus3",
            "cluster.tier": "Gold",
        }).then(
            () => assert.fail("accepted"),
            (error: unknown) => error,
        );
        assert.ok(failure instanceof EvaluationError);
        for (const key of ["azure.location", "cluster.tier", "ingress.tlsCertificate", "ingress.tlsPrivateKey"])
            assert.match(failure.message, new RegExp(`^ *- ${key}: `, "m"), `${key} in:\n${failure.message}`);
        assert.deepEqual(failure.resources, [], "nothing is registered before config is valid");
    });

    it("marks the configured certificate and key secret", async () => {
        const cfg = parseConfig(withOverrides(committed("dev"), tls), PROJECT, "dev");
        assert.ok(cfg.ingress.tls);
        assert.ok(await pulumi.isSecret(cfg.ingress.tls.privateKey));
        assert.ok(await pulumi.isSecret(cfg.ingress.tls.certificate));
    });

    describe("bad values are rejected with the key, the value and what is allowed", () => {
        // `count`: problems expected (default 1); the fragments may come from any of them.
        const rows: BadConfigRow[] = [
            { name: "unknown mTLS mode", raw: { "mesh.mtlsMode": "strict" }, expect: ["mesh.mtlsMode", '"strict"', "STRICT, PERMISSIVE"] },
            {
                name: "PERMISSIVE in prod",
                raw: { ...tls, "mesh.mtlsMode": "PERMISSIVE" },
                stack: "prod",
                expect: ["mesh.mtlsMode", '"PERMISSIVE"', "prod", "STRICT"],
            },
            {
                name: "poll interval in words",
                raw: { "keyVault.csiRotationPollInterval": "2 minutes" },
                expect: ["keyVault.csiRotationPollInterval", '"2 minutes"', "s, m or h"],
            },
            {
                name: "poll interval of zero",
                raw: { "keyVault.csiRotationPollInterval": "0m" },
                expect: ["keyVault.csiRotationPollInterval", '"0m"', "e.g. 2m"],
            },
            {
                name: "poll interval without unit",
                raw: { "keyVault.csiRotationPollInterval": "120" },
                expect: ["keyVault.csiRotationPollInterval", '"120"'],
            },
            {
                name: "host with upper case",
                raw: { "ingress.host": "App.Example.com" },
                expect: ["ingress.host", '"App.Example.com"', "lowercase DNS labels"],
            },
            { name: "single-label host", raw: { "ingress.host": "localhost" }, expect: ["ingress.host", '"localhost"', "host name"] },
            {
                name: "certificate without key",
                raw: { "ingress.tlsCertificate": TEST_TLS.certificate },
                expect: ["ingress.tlsPrivateKey: is not set", "ingress.tlsCertificate is", "both"],
            },
            {
                name: "key without certificate",
                raw: { "ingress.tlsPrivateKey": TEST_TLS.privateKey },
                expect: ["ingress.tlsCertificate: is not set", "ingress.tlsPrivateKey is"],
            },
            {
                name: "certificate that is not PEM",
                raw: { ...tls, "ingress.tlsCertificate": "not a certificate" },
                expect: ["ingress.tlsCertificate", "not a PEM X.509 certificate", "--secret"],
            },
            {
                name: "certificate and key swapped",
                raw: { "ingress.tlsCertificate": TEST_TLS.privateKey, "ingress.tlsPrivateKey": TEST_TLS.certificate },
                count: 2,
                expect: ["ingress.tlsCertificate", "not a PEM X.509", "ingress.tlsPrivateKey", "not an unencrypted PEM private key"],
            },
            {
                name: "key of another certificate",
                raw: { ...tls, "ingress.tlsPrivateKey": otherKey },
                expect: ["ingress.tlsPrivateKey", "is not the key of ingress.tlsCertificate"],
            },
            {
                name: "certificate for another host",
                raw: { ...tls, "ingress.host": "shop.example.org" },
                // The certificate and key are `secure:`, so the whole ingress group arrives secret and
                // the CLI does not say which member was encrypted: the host is not shown either.
                expect: ["ingress.tlsCertificate", "does not cover ingress.host (value not shown)", "DNS:app.prod.example.com"],
            },
            { name: "no recovery shares", raw: { "vault.recoveryShares": 0 }, expect: ["vault.recoveryShares", "0", "1 to 10"] },
            {
                name: "threshold above shares",
                raw: { "vault.recoveryShares": 5, "vault.recoveryThreshold": 6 },
                expect: ["vault.recoveryThreshold", "6", "vault.recoveryShares 5", "2 to 5"],
            },
            {
                name: "threshold of one with several shares",
                raw: { "vault.recoveryThreshold": 1 },
                expect: ["vault.recoveryThreshold", "1", "2 to 5"],
            },
            {
                name: "recovery shares not a number",
                raw: { "vault.recoveryShares": "five" },
                expect: ["vault.recoveryShares", '"five"', "whole number"],
            },
        ];
        itRejectsConfig(rows);

        it("accepts one share with threshold one", () => {
            assert.deepEqual(
                problemsOf(withOverrides(committed("dev"), { "vault.recoveryShares": 1, "vault.recoveryThreshold": 1 }), "dev"),
                [],
            );
            assert.equal(checkRecoverySplit(1, 2), "vault.recoveryThreshold: 2 is not allowed with vault.recoveryShares 1; use 1");
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
            assert.match(problems[0], /^ingress\.tlsCertificate: \(DNS:app\.prod\.example\.com, DNS:app\.dev\.example\.com\) expired on /);
        });

        it("a good pair for either host of the fixture", () => {
            assert.deepEqual(checkTlsPair(TEST_TLS.certificate, TEST_TLS.privateKey, "app.prod.example.com"), []);
            assert.deepEqual(checkTlsPair(TEST_TLS.certificate, TEST_TLS.privateKey, "app.dev.example.com"), []);
        });
    });
});
