// The structured config's schema and reader (components/config/schema.ts, read.ts) on raw input as the
// Pulumi CLI hands it to the program: each top-level key to a string, a group as the JSON text of its
// object with YAML's scalar types kept (pulumi/pulumi sdk/go/common/resource/config/object.go
// `MarshalString`), a group listed as secret when any of its values is `secure:` (object.go
// `object.Secure`). The expectations come from the layout table (layout.ts, which flat key went where)
// and from what the CLI does, not from the messages the code builds.
import * as assert from "assert";
import { CONFIG_PATHS, DEFAULTS, defaultOf, specOf, type ConfigPath } from "../components/config/keys";
import { FLAT_KEY_PATHS } from "../components/config/layout";
import { ConfigError, readValues, type Raw } from "../components/config/read";
import { parseConfig, scrubSecrets } from "../components/config/parse";
import { HIDDEN, schemaProblems } from "../components/config/schema";
import { namesPath } from "../components/config/rules";
import { configProblems as problemsOf, stackRaw, withOverrides } from "./harness";
import type { Overrides } from "../tools/mocks";
import type { Environment } from "../components/config/constants";

/** A group as the CLI hands it over: the JSON text of the YAML mapping. */
const group = (members: Record<string, unknown>) => JSON.stringify(members);

function read(raw: Raw, environment: Environment = "dev", secretKeys: readonly string[] = []) {
    return readValues(raw, environment, (key) => secretKeys.includes(key));
}

/** The one error that begins with `path: `; fails when there is none or more than one. */
function errorOf(errors: readonly string[], path: string): string {
    const found = errors.filter((e) => e.startsWith(`${path}: `));
    assert.equal(found.length, 1, `one error for ${path}, got:\n${errors.join("\n")}`);
    return found[0];
}

// The members the table marks secret, written out (the same five the flat layout had).
const SECRET_PATHS = [
    "ingress.tlsCertificate",
    "ingress.tlsPrivateKey",
    "monitoring.alertWebhookUrl",
    "services.imageSourceToken",
    "ciRunner.githubToken",
];

describe("config schema (structured config)", () => {
    it("accepts an empty stack and a stack of correct groups without a problem", () => {
        assert.deepEqual(read({}).errors, []);
        const raw = {
            environment: "prod",
            cluster: group({ kubernetesVersion: "1.36", tier: "Standard" }),
            systemPool: group({ vmSize: "Standard_D4ds_v5", nodeCount: 3, zones: ["1", "2", "3"] }),
            userPool: group({ enabled: true }),
        };
        const { errors, values, set } = read(raw, "prod");
        assert.deepEqual(errors, []);
        assert.equal(values.cluster.tier, "Standard");
        assert.equal(values.systemPool.nodeCount, 3);
        assert.deepEqual([...set].sort(), [
            "cluster.kubernetesVersion",
            "cluster.tier",
            "environment",
            "systemPool.nodeCount",
            "systemPool.vmSize",
            "systemPool.zones",
            "userPool.enabled",
        ]);
    });

    describe("a stack file of the old flat layout", () => {
        for (const [flat, path] of Object.entries(FLAT_KEY_PATHS)) {
            const secret = SECRET_PATHS.includes(path);
            it(`${flat} is told its new path ${path}`, () => {
                const value = secret ? "s3cr3t-value" : "Standard";
                const error = errorOf(read({ [flat]: value }).errors, flat);
                const [groupName] = path.split(".");
                assert.ok(error.includes(`it is now ${path}`), error);
                assert.ok(error.includes(`aks-platform:${groupName}`), error);
                assert.ok(error.includes(`pulumi config rm ${flat}`), error);
                assert.ok(
                    error.includes(secret ? `pulumi config set --path --secret ${path}` : `pulumi config set --path ${path} Standard`),
                    error,
                );
                if (secret) assert.ok(!error.includes("s3cr3t-value"), error);
            });
        }
    });

    it("an old flat key that arrived secret never shows its value, though its member is not a secret", () => {
        // `aks-platform:alertEmail: secure: ...` from the old layout: PULUMI_CONFIG holds it decrypted and
        // PULUMI_CONFIG_SECRET_KEYS lists it (map.go SecureKeys).
        const { errors } = read({ alertEmail: "oncall@example.com" }, "dev", ["alertEmail"]);
        const error = errorOf(errors, "alertEmail");
        assert.ok(error.includes("it is now monitoring.alertEmail"), error);
        assert.ok(error.includes("pulumi config set --path --secret monitoring.alertEmail"), error);
        assert.ok(!error.includes("oncall@example.com"), error);
        // Not secret: the value is shown in the command that sets it.
        assert.ok(errorOf(read({ alertEmail: "oncall@example.com" }).errors, "alertEmail").includes("oncall@example.com"));
    });

    describe("unknown names", () => {
        it("an integer beyond what a number holds exactly gets one problem, not the member's rule as well", () => {
            for (const nodeCount of [9007199254740994, -9007199254740994]) {
                const { errors } = read({ systemPool: `{"nodeCount":${nodeCount}}` });
                assert.match(errorOf(errors, "systemPool.nodeCount"), /is not a whole number/);
            }
        });

        it("an unknown member gets the nearest member of its group", () => {
            const error = errorOf(read({ cluster: group({ kubernetesVerison: "1.36" }) }).errors, "cluster.kubernetesVerison");
            assert.ok(error.includes("did you mean cluster.kubernetesVersion?"), error);
        });

        it("a typo of a member of its own group names that member, not its namesakes in other groups", () => {
            const error = errorOf(read({ systemPool: group({ vmsize: "Standard_D4s_v5" }) }).errors, "systemPool.vmsize");
            assert.ok(error.includes("did you mean systemPool.vmSize?"), error);
            assert.ok(!error.includes("userPool"), error);
        });

        it("a member written in the wrong group gets the paths that have it", () => {
            const error = errorOf(read({ cluster: group({ vmSize: "Standard_D4s_v5" }) }).errors, "cluster.vmSize");
            assert.ok(error.includes("systemPool.vmSize") && error.includes("userPool.vmSize"), error);
        });

        it("an old flat key written inside a group gets its path", () => {
            const error = errorOf(read({ cluster: group({ clusterTier: "Free" }) }).errors, "cluster.clusterTier");
            assert.ok(error.includes("cluster.tier"), error);
        });

        it("a word far from every member gets no guess", () => {
            const error = errorOf(read({ cluster: group({ colour: "blue" }) }).errors, "cluster.colour");
            assert.ok(!error.includes("did you mean"), error);
        });

        it("a path set without --path (a top-level key named cluster.tier) is told to remove it and set the path", () => {
            // `pulumi config set cluster.tier Standard` stores the top-level key "cluster.tier" (map.go Map.Set,
            // path false); the CLI hands it over as the plain string.
            const error = errorOf(read({ "cluster.tier": "Standard" }).errors, "cluster.tier");
            assert.ok(error.includes("without --path"), error);
            assert.ok(error.includes("pulumi config rm cluster.tier, then pulumi config set --path cluster.tier Standard"), error);
            assert.ok(!error.includes("did you mean cluster.tier"), error);
            // With an index: the key is quoted for the shell.
            const item = errorOf(read({ "apiServer.authorizedIpRanges[0]": "198.51.100.7/32" }).errors, "apiServer.authorizedIpRanges[0]");
            assert.ok(item.includes("pulumi config rm 'apiServer.authorizedIpRanges[0]'"), item);
            assert.ok(item.includes("pulumi config set --path 'apiServer.authorizedIpRanges[0]' 198.51.100.7/32"), item);
        });

        it("a secret member set without --path gets --secret and never its value", () => {
            for (const [key, secretKeys] of [
                ["ingress.tlsPrivateKey", ["ingress.tlsPrivateKey"]],
                ["ingress.tlsPrivateKey", []],
                // Not a secret member, but the user encrypted it: still not shown.
                ["cluster.tier", ["cluster.tier"]],
            ] as const) {
                const error = errorOf(read({ [key]: "s3cr3t-value" }, "dev", secretKeys).errors, key);
                assert.ok(error.includes("without --path") && error.includes(`pulumi config rm ${key}`), error);
                assert.ok(error.includes(`pulumi config set --path --secret ${key}`), error);
                assert.ok(!error.includes("s3cr3t-value"), error);
            }
        });

        it("a path set without --path whose member does not exist names the nearest path", () => {
            const error = errorOf(read({ "cluster.teir": "Standard" }).errors, "cluster.teir");
            assert.ok(error.includes("without --path") && error.includes("did you mean cluster.tier?"), error);
        });

        it("an unknown top-level key gets the nearest group", () => {
            const error = errorOf(read({ clustr: group({ tier: "Free" }) }).errors, "clustr");
            assert.ok(error.includes("did you mean cluster?"), error);
        });
    });

    describe("member types, as YAML and pulumi config set --path write them", () => {
        it("a string member given a JSON number (unquoted kubernetesVersion: 1.30 arrives as 1.3) gets the YAML-number hint", () => {
            // Go's encoding/json writes the float64 YAML read as 1.3.
            const error = errorOf(read({ cluster: '{"kubernetesVersion":1.3}' }).errors, "cluster.kubernetesVersion");
            assert.ok(/\b1\.3\b/.test(error), error);
            assert.ok(/unquoted/.test(error) && /quote/.test(error), error);
            assert.deepEqual(read({ cluster: group({ kubernetesVersion: "1.36" }) }).errors, []);
        });

        it("a string member takes the integer pulumi config set --path stores for digits (coerce)", () => {
            const { errors, values } = read({ services: group({ productTag: 42 }) }, "dev");
            assert.deepEqual(errors, []);
            assert.equal(values.services.productTag, "42");
        });

        it("a string member refuses a number that is not a safe integer, naming both ways to write text", () => {
            // `orderTag: 1.10` unquoted: YAML's float 1.1 (Go's encoding/json writes 1.1); `pulumi config set
            // --path services.productTag 20261203151500123`: an exact int64 (object.go coerce), which
            // JSON.parse rounds to 20261203151500124.
            for (const [text, shown] of [
                ['{"orderTag":1.10}', "1.1"],
                ['{"productTag":20261203151500123}', "20261203151500124"],
                ['{"productTag":-9007199254740992}', "-9007199254740992"],
                // 16 digits, above 2^53 - 1 = 9007199254740991: refused too (JSON.parse reads 9007199254740992).
                ['{"productTag":9007199254740993}', "9007199254740992"],
            ]) {
                const { errors, values } = read({ services: text });
                const path = `services.${Object.keys(JSON.parse(text) as object)[0]}`;
                const error = errorOf(errors, path);
                assert.ok(error.startsWith(`${path}: ${shown} `), error);
                assert.ok(/unquoted/.test(error) && /quote the value/.test(error), error);
                // YAML (yaml.v3) and the CLI keep a 17-digit integer exactly (an int64); only the program's
                // JSON reading rounds it, so the hint must not say YAML read it as the rounded number.
                if (shown === "1.1") assert.ok(error.includes("YAML read it as the number 1.1"), error);
                else
                    assert.ok(
                        !error.includes(`YAML read it as the number ${shown}`) &&
                            error.includes(`program's JSON reading rounded it to ${shown}`),
                        error,
                    );
                assert.ok(error.includes(`pulumi config set --path ${path} <value> --type string`), error);
                assert.equal(errors.length, 1, errors.join("\n"));
                assert.equal(typeof (values.services as Record<string, unknown>)[path.split(".")[1]], "string");
            }
            // An empty `tier:` in YAML is null: refused, with the way back to the default.
            const empty = errorOf(read({ cluster: '{"tier":null}' }).errors, "cluster.tier");
            assert.ok(
                empty.startsWith("cluster.tier: null is not allowed") && empty.includes("pulumi config rm --path cluster.tier"),
                empty,
            );
            // The largest safe integers still read as their digits.
            assert.equal(read({ services: '{"productTag":9007199254740991}' }).values.services.productTag, "9007199254740991");
        });

        it("a list item that is not text names the member, the index and the value, and adds no rule's message about the default", () => {
            // `pulumi config set --path 'vault.operatorGroups[0]' true` stores a boolean (coerce); an empty YAML
            // item `- ` is null; `--path 'apiServer.authorizedIpRanges[1]' x` on a missing list gives [null,"x"].
            const cases: [string, unknown[], string, string][] = [
                ["vault", [true], "vault.operatorGroups[0]", "true"],
                ["vault", ["ops", { name: "x" }], "vault.operatorGroups[1]", '{"name":"x"}'],
                ["apiServer", [null, "198.51.100.7/32"], "apiServer.authorizedIpRanges[0]", "null"],
                ["apiServer", [true], "apiServer.authorizedIpRanges[0]", "true"],
                ["apiServer", ["198.51.100.7/32", 1.5], "apiServer.authorizedIpRanges[1]", "1.5"],
            ];
            for (const [groupName, list, where, shown] of cases) {
                const member = where.slice(groupName.length + 1, where.indexOf("["));
                const raw = {
                    ...stackRaw("dev"),
                    [groupName]: group({ ...(JSON.parse(stackRaw("dev")[groupName] ?? "{}") as object), [member]: list }),
                };
                const problems = problemsOf(raw);
                assert.equal(problems.length, 1, problems.join("\n"));
                const [error] = problems;
                assert.ok(error.startsWith(`${where}: ${shown} is not allowed; list items are text`), error);
                if (shown === "1.5") assert.ok(error.includes(`pulumi config set --path '${where}' <value> --type string`), error);
            }
        });

        it("a scalar where a list is wanted is refused once, and no rule judges the default instead", () => {
            const raw = { ...stackRaw("dev"), apiServer: group({ authorizedIpRanges: "198.51.100.7/32" }) };
            const problems = problemsOf(raw);
            assert.equal(problems.length, 1, problems.join("\n"));
            assert.ok(problems[0].startsWith('apiServer.authorizedIpRanges: "198.51.100.7/32" is not a list'), problems[0]);
            // A list that is all bad items: the one message, not also "[] is not allowed".
            const allBad = problemsOf({ ...stackRaw("dev"), apiServer: group({ authorizedIpRanges: [null] }) });
            assert.equal(allBad.length, 1, allBad.join("\n"));
        });

        it("a rule about another member judges a malformed list in its best-effort form, not the default", () => {
            // prod: access.disableLocalAccounts needs at least one access.entraAdminGroupObjectIds entry; the
            // default list is [], so judging it would add a false "needs at least one entry".
            const id = "8a3f1c52-6d0e-4b7a-9c21-5e4f3a2b1c0d";
            for (const ids of [[id, null], id]) {
                const problems = problemsOf({ ...stackRaw("prod"), access: group({ entraAdminGroupObjectIds: ids }) }, "prod");
                assert.equal(problems.length, 1, problems.join("\n"));
                assert.ok(problems[0].startsWith("access.entraAdminGroupObjectIds"), problems[0]);
            }
        });

        describe("a cross-member rule says nothing about a member whose value was not of its type, whichever member its message begins with", () => {
            // Each row: one member given a value not of its type (a list item null/true, "yes" for a
            // boolean, text for an integer), plus what makes a rule relating it to another member fire on
            // its default or trimmed value. The stack must hear only about the bad value: the rule would
            // judge a value the stack did not write (e.g. the default maxCount 3, or [] for [null]).
            const rows: [string, string, Record<string, unknown>][] = [
                ["dev", "systemPool.zones", { "systemPool.zones": [null], "network.perZoneNodePools": true }],
                ["prod", "access.entraAdminGroupObjectIds", { "access.entraAdminGroupObjectIds": [true] }],
                ["dev", "keyVault.allowedIpRanges", { "keyVault.allowedIpRanges": [null], "keyVault.networkAclMode": "deny" }],
                ["dev", "keyVault.privateEndpoints", { "keyVault.privateEndpoints": "yes", "keyVault.publicNetworkAccess": false }],
                ["dev", "systemPool.maxCount", { "systemPool.autoscaling": true, "systemPool.maxCount": "ten", "systemPool.nodeCount": 5 }],
                [
                    "dev",
                    "ingress.appGatewayMaxCapacity",
                    { "ingress.waf": true, "ingress.appGatewayMaxCapacity": "x", "ingress.appGatewayMinCapacity": 5 },
                ],
                [
                    "dev",
                    "network.perZoneNodePools",
                    { "network.perZoneNodePools": "yes", "network.egressType": "natGateway", "systemPool.zones": ["1", "2", "3"] },
                ],
            ];
            for (const [stack, path, overrides] of rows) {
                it(`${stack}: ${JSON.stringify(overrides)}`, () => {
                    const problems = problemsOf(withOverrides(stackRaw(stack), overrides as unknown as Overrides), stack);
                    assert.equal(problems.length, 1, problems.join("\n"));
                    assert.ok(problems[0].startsWith(`${path}`) && /is not (allowed|a whole number)/.test(problems[0]), problems[0]);
                });
            }

            it("a message names a path only where the path stands whole", () => {
                assert.ok(
                    namesPath("network.perZoneNodePools: true needs every node pool zoned, but systemPool.zones is []", "systemPool.zones"),
                );
                assert.ok(
                    namesPath("systemPool.nodeCount: 5 is outside systemPool.minCount..systemPool.maxCount (1..3)", "systemPool.maxCount"),
                );
                assert.ok(namesPath("systemPool.zones[0]: null", "systemPool.zones"));
                assert.ok(namesPath("ends with systemPool.zones.", "systemPool.zones"));
                for (const longer of [
                    "systemPool.zonesX",
                    "systemPool.zones2",
                    "systemPool.zones.first",
                    "mysystemPool.zones",
                    "systemPool.zones_a",
                ])
                    assert.ok(!namesPath(`a: ${longer} is set`, "systemPool.zones"), longer);
            });

            // A problem that names the malformed member only in its advice (after "; ") still holds,
            // whatever that member holds: reported beside the type problem (third review).
            const adviceOnly: [string, Record<string, unknown>, string][] = [
                [
                    "prod",
                    { "access.entraIdEnabled": false, "access.entraAdminGroupObjectIds": [true] },
                    "access.entraIdEnabled: false is not allowed for environment prod",
                ],
                [
                    "dev",
                    { "apiServer.authorizedIpRanges": [], "network.runnerSubnetCidr": true },
                    "apiServer.authorizedIpRanges: [] is not allowed",
                ],
            ];
            for (const [stack, overrides, expected] of adviceOnly) {
                it(`${stack}: ${JSON.stringify(overrides)} still reports "${expected}"`, () => {
                    const problems = problemsOf(withOverrides(stackRaw(stack), overrides as unknown as Overrides), stack);
                    assert.ok(
                        problems.some((p) => p.startsWith(expected)),
                        problems.join("\n"),
                    );
                });
            }

            // Rules whose condition reads a refused member without naming it in the claim (fourth review).
            const unnamedReads: [string, Record<string, unknown>, string][] = [
                ["dev", { "apiServer.private": "yes", "apiServer.authorizedIpRanges": [] }, "apiServer.private"],
                [
                    "dev",
                    { "keyVault.publicNetworkAccess": "no", "keyVault.networkAclMode": "deny", "keyVault.allowedIpRanges": [] },
                    "keyVault.publicNetworkAccess",
                ],
                ["prod", { "registry.mode": true, "registry.publicNetworkAccess": true }, "registry.mode"],
                ["prod", { "userPool.enabled": "no", "network.perZoneNodePools": true, "userPool.zones": [] }, "userPool.enabled"],
            ];
            for (const [stack, overrides, path] of unnamedReads) {
                it(`${stack}: ${JSON.stringify(overrides)} reports only ${path}'s type`, () => {
                    const problems = problemsOf(withOverrides(stackRaw(stack), overrides as unknown as Overrides), stack);
                    assert.equal(problems.length, 1, problems.join("\n"));
                    assert.ok(problems[0].startsWith(path), problems[0]);
                });
            }

            it("a node subnet's size is not judged from a zone list with a refused item", () => {
                // Two zones written, one refused: judged over the one left, the subnet would look too small.
                const problems = problemsOf(
                    withOverrides(stackRaw("dev"), {
                        "network.perZoneNodePools": true,
                        "network.egressType": "natGateway",
                        "systemPool.zones": ["1", null],
                        "systemPool.nodeCount": 9,
                        "network.systemSubnetCidr": "10.240.0.0/26",
                    } as unknown as Overrides),
                );
                assert.ok(!problems.some((p) => p.startsWith("network.systemSubnetCidr")), problems.join("\n"));
            });

            it("still reports a rule that names only well-typed members, beside the type problem", () => {
                const problems = problemsOf(
                    withOverrides(stackRaw("dev"), {
                        "userPool.enabled": "yes",
                        "systemPool.autoscaling": true,
                        "systemPool.nodeCount": 5,
                    }),
                );
                assert.equal(problems.length, 2, problems.join("\n"));
                assert.ok(
                    problems.some((p) => p.startsWith("systemPool.nodeCount: 5 is outside")),
                    problems.join("\n"),
                );
            });
        });

        it('an integer member takes 3 and "3", and refuses "3.5", 3.5 and "three"', () => {
            for (const good of [3, "3"]) {
                const { errors, values } = read({ systemPool: group({ nodeCount: good }) });
                assert.deepEqual(errors, [], String(good));
                assert.strictEqual(values.systemPool.nodeCount, 3);
            }
            for (const bad of ["3.5", 3.5, "three"]) {
                const error = errorOf(read({ systemPool: group({ nodeCount: bad }) }).errors, "systemPool.nodeCount");
                assert.ok(error.includes(JSON.stringify(bad)), error);
            }
        });

        it('a boolean member takes true and "true", and refuses "yes"', () => {
            assert.strictEqual(read({ userPool: group({ enabled: "true" }) }).values.userPool.enabled, true);
            assert.strictEqual(read({ userPool: group({ enabled: false }) }, "prod").values.userPool.enabled, false);
            const error = errorOf(read({ userPool: group({ enabled: "yes" }) }).errors, "userPool.enabled");
            assert.ok(error.includes('"yes"') && error.includes("true or false"), error);
        });

        it("a list member reads unquoted YAML numbers as strings and refuses a scalar", () => {
            assert.deepEqual(read({ systemPool: group({ zones: [1, 2, 3] }) }, "prod").values.systemPool.zones, ["1", "2", "3"]);
            errorOf(read({ systemPool: group({ zones: "1" }) }).errors, "systemPool.zones");
        });

        it("a value of the right type is kept when its own rule fails", () => {
            const { errors, values } = read({ systemPool: group({ nodeCount: 500 }) });
            errorOf(errors, "systemPool.nodeCount");
            assert.equal(values.systemPool.nodeCount, 500);
        });
    });

    describe("groups", () => {
        it("a group that is not a mapping is refused, naming the group and the value", () => {
            for (const [text, shown] of [
                ["Standard", '"Standard"'],
                ["[1,2]", "[1,2]"],
                ["3", "3"],
            ]) {
                const error = errorOf(read({ cluster: text }).errors, "cluster");
                assert.ok(error.includes(shown), error);
                assert.ok(error.includes("pulumi config set --path cluster."), error);
            }
        });

        it("a group holding a secret member does not show a value that is not a mapping", () => {
            const error = errorOf(read({ ingress: "-----BEGIN PRIVATE KEY----- abc" }).errors, "ingress");
            assert.ok(!error.includes("BEGIN PRIVATE KEY"), error);
        });

        it("a set secret member whose group did not arrive secret is refused without its value", () => {
            const raw = { ingress: group({ host: "app.example.com", tlsPrivateKey: "-----BEGIN PRIVATE KEY----- leak" }) };
            const { errors } = read(raw, "dev", []);
            const error = errorOf(errors, "ingress.tlsPrivateKey");
            assert.ok(error.includes("--secret") && error.includes("--path"), error);
            for (const e of errors) assert.ok(!e.includes("leak"), e);
            // Listed in PULUMI_CONFIG_SECRET_KEYS (some leaf of the group is secure:): accepted.
            assert.deepEqual(read(raw, "dev", ["ingress"]).errors, []);
        });

        it("a secret member of the wrong type is refused without its value", () => {
            const { errors } = read({ ingress: group({ tlsPrivateKey: ["leak"] }) }, "dev", ["ingress"]);
            const error = errorOf(errors, "ingress.tlsPrivateKey");
            assert.ok(!error.includes("leak"), error);
        });

        it("no secret member's own rule quotes the value it refuses", () => {
            // The schema prints a rule's message as it is (there is no redaction): a rule of a secret
            // member must describe the problem without the value.
            const bad = ["http://leak.example.com/hook", "leak", "-----BEGIN PRIVATE KEY----- leak", " leak "];
            for (const path of SECRET_PATHS as ConfigPath[]) {
                const check = specOf(path).check as ((key: string, value: string, environment: Environment) => unknown) | undefined;
                for (const environment of ["dev", "prod"] as const) {
                    for (const value of bad) {
                        const message = [check?.(path, value, environment)].flat().join("\n");
                        assert.ok(!message.includes("leak"), `${path}: ${message}`);
                    }
                }
            }
        });

        it("a secret member's value stays hidden when its own rule fails", () => {
            const { errors } = read({ monitoring: group({ alertWebhookUrl: "http://leak.example.com/hook" }) }, "dev", ["monitoring"]);
            const error = errorOf(errors, "monitoring.alertWebhookUrl");
            assert.ok(!error.includes("leak"), error);
        });
    });

    describe("which stacks may set a member", () => {
        it("an Azure member on local is refused with pulumi config rm --path", () => {
            const { errors, values } = read({ cluster: group({ tier: "Premium" }) }, "local");
            const error = errorOf(errors, "cluster.tier");
            assert.ok(error.includes("pulumi config rm --path cluster.tier"), error);
            assert.equal(values.cluster.tier, defaultOf("cluster.tier", "local"));
        });

        it("a local member on dev and prod is refused with pulumi config rm --path", () => {
            for (const environment of ["dev", "prod"] as const) {
                const error = errorOf(read({ local: group({ vaultMode: "ha" }) }, environment).errors, "local.vaultMode");
                assert.ok(error.includes("pulumi config rm --path local.vaultMode"), error);
            }
        });

        it("a secret Azure member on local is refused without its value", () => {
            const error = errorOf(
                read({ monitoring: group({ alertWebhookUrl: "https://leak.example.com" }) }, "local", ["monitoring"]).errors,
                "monitoring.alertWebhookUrl",
            );
            assert.ok(!error.includes("leak"), error);
        });
    });

    it("a member of a switched-off feature is still checked, and its message names the switch", () => {
        // userPool.enabled is off on dev unless set.
        const off = errorOf(read({ userPool: group({ nodeCount: 0 }) }, "dev").errors, "userPool.nodeCount");
        assert.ok(off.includes("userPool.enabled"), off);
        const on = errorOf(read({ userPool: group({ enabled: true, nodeCount: 0 }) }, "dev").errors, "userPool.nodeCount");
        assert.ok(!on.includes("userPool.enabled"), on);
    });

    it("reports every problem across groups in one round", () => {
        const raw = {
            clusterTier: "Standard",
            cluster: group({ tier: "Freee", kubernetesVerison: "1.36" }),
            systemPool: group({ nodeCount: "3.5" }),
            network: "loadBalancer",
            keyVault: group({ retentionDays: 120 }),
            ingress: group({ tlsPrivateKey: "x" }),
            mystery: "1",
        };
        const { errors } = read(raw, "dev");
        for (const path of [
            "clusterTier",
            "cluster.tier",
            "cluster.kubernetesVerison",
            "systemPool.nodeCount",
            "network",
            "keyVault.retentionDays",
            "ingress.tlsPrivateKey",
            "mystery",
        ]) {
            errorOf(errors, path);
        }
        assert.equal(errors.length, 8, errors.join("\n"));
    });

    describe("a value that arrived encrypted is never shown", () => {
        // The CLI lists a top-level key in PULUMI_CONFIG_SECRET_KEYS when any leaf of it is `secure:`
        // (pulumi/pulumi sdk/go/common/resource/config/object.go `object.Secure`), so the program cannot
        // tell which member of a secret group was encrypted: none of the group's text may appear.
        const SECRET = "hunter2-SECRET";
        function secretProblems(raw: Raw, stack: string, secretKeys: readonly string[]): string[] {
            try {
                parseConfig(raw, "aks-platform", stack, { isSecret: (key) => secretKeys.includes(key) });
            } catch (error) {
                if (error instanceof ConfigError) return [...error.problems];
                throw error;
            }
            return [];
        }
        const only = (problems: readonly string[], start: string) => {
            assert.equal(problems.length, 1, problems.join("\n"));
            assert.ok(problems[0].startsWith(`${start}: (value not shown) `), problems[0]);
        };

        it("a group set with --secret as one string", () => {
            only(secretProblems({ ...stackRaw("dev"), cluster: SECRET }, "dev", ["cluster"]), "cluster");
            // The schema itself hides it (the safety net in parseConfig aside).
            const direct = schemaProblems({ cluster: SECRET }, "dev", (key) => key === "cluster");
            assert.ok(direct.length === 1 && !direct[0].includes("hunter2"), direct.join("\n"));
            // Not secret: shown.
            assert.ok(schemaProblems({ cluster: SECRET }, "dev", () => false)[0].includes(JSON.stringify(SECRET)));
        });

        it("a secret environment", () => {
            only(secretProblems({ ...stackRaw("dev"), environment: SECRET }, "dev", ["environment"]), "environment");
            assert.ok(secretProblems({ ...stackRaw("dev"), environment: SECRET }, "dev", [])[0].includes(JSON.stringify(SECRET)));
        });

        it("a member of a group that arrived secret, in its own message and in a rule across members", () => {
            const egress = withOverrides(stackRaw("dev"), { "network.egressType": "SECRETVALUE" });
            only(secretProblems(egress, "dev", ["network"]), "network.egressType");
            assert.ok(secretProblems(egress, "dev", [])[0].includes('"SECRETVALUE"'), "shown when the group is not secret");
            const overlap = withOverrides(stackRaw("dev"), { "network.serviceCidr": "10.244.0.0/16", "network.podCidr": "10.244.0.0/16" });
            const problems = secretProblems(overlap, "dev", ["network"]);
            assert.ok(problems.length > 0 && problems.every((p) => !p.includes("10.244.0.0/16")), problems.join("\n"));
            assert.ok(
                secretProblems(overlap, "dev", []).some((p) => p.includes('"10.244.0.0/16"')),
                "shown when the group is not secret",
            );
        });

        it("hides a text quoted always, bare from 8 characters, and leaves other values alone", () => {
            const raw = {
                network: JSON.stringify({ egressType: "On", podCidr: "10.9.0.0/16" }),
                cluster: JSON.stringify({ tier: "Standard" }),
            };
            const [scrubbed] = scrubSecrets(['a: "On", On, "10.9.0.0/16", 10.9.0.0/16, "Standard"'], raw, (key) => key === "network");
            assert.equal(scrubbed, `a: ${HIDDEN}, On, ${HIDDEN}, ${HIDDEN}, "Standard"`);
        });
    });

    describe("DEFAULTS, the one object of defaults", () => {
        type Block = Readonly<Record<string, Readonly<Record<string, unknown>> | undefined>>;
        const has = (block: Block, path: string) => {
            const [g, m] = path.split(".");
            return block[g] !== undefined && m in (block[g] as object);
        };
        const at = (block: Block, path: string) => {
            const [g, m] = path.split(".");
            return (block[g] as Record<string, unknown>)[m];
        };
        const memberPaths = CONFIG_PATHS.filter((p) => p !== "environment");
        const blocks = DEFAULTS as unknown as Record<"shared" | "dev" | "prod" | "local", Block>;

        it("names only real paths", () => {
            for (const [name, block] of Object.entries(blocks)) {
                for (const [g, members] of Object.entries(block)) {
                    for (const m of Object.keys(members ?? {}))
                        assert.ok(CONFIG_PATHS.includes(`${g}.${m}` as ConfigPath), `${name}: ${g}.${m}`);
                }
            }
        });

        it("gives each member its default once: shared, or dev and prod both; local only beside dev's", () => {
            for (const path of memberPaths) {
                const inShared = has(blocks.shared, path);
                assert.equal(has(blocks.dev, path), has(blocks.prod, path), `${path}: dev and prod both or neither`);
                assert.ok(!(inShared && has(blocks.dev, path)), `${path}: in shared and per environment`);
                if (has(blocks.local, path)) assert.ok(has(blocks.dev, path), `${path}: local without dev`);
                if (!inShared && !has(blocks.dev, path))
                    assert.ok(specOf(path).defaultText, `${path} has neither a default nor a defaultText`);
            }
        });

        it("holds prod's overrides only where prod differs from dev", () => {
            for (const path of memberPaths.filter((p) => has(blocks.prod, p))) {
                assert.notDeepStrictEqual(at(blocks.prod, path), at(blocks.dev, path), path);
            }
            for (const path of memberPaths.filter((p) => has(blocks.local, p))) {
                assert.notDeepStrictEqual(at(blocks.local, path), at(blocks.dev, path), path);
            }
        });

        it("fills every member the stack leaves out, local taking dev's where it has none of its own", () => {
            const values = read({}, "local").values;
            assert.equal(values.cluster.tier, at(blocks.dev, "cluster.tier"));
            assert.equal(values.services.imageSource, at(blocks.local, "services.imageSource"));
            assert.equal(read({}, "prod").values.ingress.host, "app.prod.example.com");
        });
    });
});
