// The Pulumi CLI's config pass (tools/cliConfig.ts) on the committed project and stacks, and each of
// its rejections with the CLI's own message (pulumi/pulumi sdk/go/common/workspace/config.go,
// project.go; sdk/go/common/resource/config/key.go).
import { strict as assert } from "assert";
import * as fs from "fs";
import { cliConfig, CliConfigError, mergeConfig, parseProject, parseStackFile, decryptOffline } from "../tools/cliConfig";
import { PROJECT, ROOT } from "./harness";

const STACKS = fs
    .readdirSync(ROOT)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined);

/** The CLI pass over an inline project and stack file; the error message, or undefined when it passes. */
function rejection(projectYaml: string, stackYaml: string, stack = "dev"): string | undefined {
    try {
        mergeConfig(stack, parseProject(projectYaml), parseStackFile(stackYaml), decryptOffline);
        return undefined;
    } catch (error) {
        if (!(error instanceof CliConfigError)) throw error;
        return error.message;
    }
}

describe("the Pulumi CLI's config pass", () => {
    it("finds the committed stacks", () => assert.deepEqual(STACKS.sort(), ["dev", "local", "prod"]));

    for (const stack of ["dev", "prod", "local"]) {
        it(`accepts Pulumi.${stack}.yaml exactly as committed, and hands the program only project keys as strings`, () => {
            const { config, secretKeys } = cliConfig(ROOT, stack);
            assert.ok(Object.keys(config).length > 0);
            for (const [key, value] of Object.entries(config)) {
                assert.ok(key.startsWith(`${PROJECT}:`), key);
                assert.equal(typeof value, "string", key);
            }
            assert.deepEqual(secretKeys, []);
        });
    }

    it("hands prod's TLS pair over as secrets once set with --secret", () => {
        const { secretKeys, config } = cliConfig(ROOT, "prod", { secrets: { ingressTlsCertificate: "c", ingressTlsPrivateKey: "k" } });
        assert.deepEqual([...secretKeys].sort(), [`${PROJECT}:ingressTlsCertificate`, `${PROJECT}:ingressTlsPrivateKey`]);
        assert.equal(config[`${PROJECT}:ingressTlsPrivateKey`], "k");
    });

    it("turns YAML values into the strings the program reads: numbers as JSON, lists as JSON", () => {
        const values = parseStackFile("config:\n  p:a: 1.30\n  p:b: 2\n  p:c: true\n  p:d: ['1', '2']\n  p:e: \"1.30\"\n");
        assert.deepEqual(Object.fromEntries([...values].map(([k, v]) => [k, v.text])), {
            "p:a": "1.3",
            "p:b": "2",
            "p:c": "true",
            "p:d": '["1","2"]',
            "p:e": "1.30",
        });
    });

    const PROJECT_HEAD = "name: p\nruntime: nodejs\n";
    const rows: { name: string; project: string; stack: string; message: string | undefined }[] = [
        {
            name: "a declared key with neither default nor value is required on every stack",
            project: `${PROJECT_HEAD}config:\n  region:\n    type: string\n  size:\n    type: integer\n  zone:\n    type: string\n`,
            stack: "config: {}\n",
            message: "Stack 'dev' is missing configuration values 'region', 'size' and 'zone'",
        },
        {
            name: "one missing key is named in the singular",
            project: `${PROJECT_HEAD}config:\n  region:\n    type: string\n`,
            stack: "config: {}\n",
            message: "Stack 'dev' is missing configuration value 'region'",
        },
        {
            name: "a declared default is injected, so the key is not missing",
            project: `${PROJECT_HEAD}config:\n  region:\n    type: string\n    default: eastus\n`,
            stack: "config: {}\n",
            message: undefined,
        },
        {
            name: "a stack key without a namespace",
            project: PROJECT_HEAD,
            stack: "config:\n  location: westeurope\n",
            message:
                "could not unmarshal map: could not parse location as a configuration key (configuration keys should be of the form `<namespace>:<name>`)",
        },
        {
            name: "a string where an integer is declared",
            project: `${PROJECT_HEAD}config:\n  size:\n    type: integer\n`,
            stack: "config:\n  p:size: three\n",
            message: "Stack 'dev' with configuration key 'size' must be of type 'integer'",
        },
        {
            name: "an integer may be written as a quoted string",
            project: `${PROJECT_HEAD}config:\n  size:\n    type: integer\n`,
            stack: 'config:\n  p:size: "3"\n',
            message: undefined,
        },
        {
            name: "a boolean spelled yes (YAML 1.2 reads it as a string)",
            project: `${PROJECT_HEAD}config:\n  on:\n    type: boolean\n`,
            stack: "config:\n  p:on: yes\n",
            message: "Stack 'dev' with configuration key 'on' must be of type 'boolean'",
        },
        {
            name: "array items of the wrong type",
            project: `${PROJECT_HEAD}config:\n  zones:\n    type: array\n    items:\n      type: string\n`,
            stack: "config:\n  p:zones: [1, 2]\n",
            message: "Stack 'dev' with configuration key 'zones' must be of type 'array<string>'",
        },
        {
            name: "a secret key set in plain text",
            project: `${PROJECT_HEAD}config:\n  token:\n    type: string\n    secret: true\n`,
            stack: "config:\n  p:token: hunter2\n",
            message: "Stack 'dev' with configuration key 'token' must be encrypted as it's secret",
        },
        {
            name: "a secret key with a default fails on a stack that does not set it encrypted",
            project: `${PROJECT_HEAD}config:\n  token:\n    type: string\n    secret: true\n    default: none\n`,
            stack: "config: {}\n",
            message: "Stack 'dev' with configuration key 'token' must be encrypted as it's secret",
        },
        {
            name: "a declaration with both default and value",
            project: `${PROJECT_HEAD}config:\n  region:\n    default: a\n    value: b\n`,
            stack: "config: {}\n",
            message: "project config 'region' cannot have both a 'default' and 'value' attribute",
        },
        {
            name: "an array declared without items",
            project: `${PROJECT_HEAD}config:\n  zones:\n    type: array\n`,
            stack: "config: {}\n",
            message: "The configuration key 'zones' declares an array but does not specify the underlying type via the 'items' attribute",
        },
        {
            name: "a default of the wrong type",
            project: `${PROJECT_HEAD}config:\n  size:\n    type: integer\n    default: big\n`,
            stack: "config: {}\n",
            message: "The default value specified for configuration key 'size' is not of the expected type 'integer'",
        },
        {
            name: "another namespace's key with a type",
            project: `${PROJECT_HEAD}config:\n  azure-native:location:\n    type: string\n`,
            stack: "config: {}\n",
            message: "Configuration key 'azure-native:location' is not namespaced by the project and should not define a type",
        },
        {
            name: "another namespace's key in shorthand is a value, and needs no stack entry",
            project: `${PROJECT_HEAD}config:\n  azure-native:location: westeurope\n`,
            stack: "config: {}\n",
            message: undefined,
        },
        {
            name: "a ciphertext no secrets provider here can decrypt",
            project: PROJECT_HEAD,
            stack: "config:\n  p:token:\n    secure: v1:AAAA\n",
            message: "failed to decrypt configuration key 'p:token': no secrets provider can decrypt it here",
        },
    ];
    for (const row of rows) {
        it(`${row.message === undefined ? "accepts" : "rejects"} ${row.name}`, () => {
            assert.equal(rejection(row.project, row.stack), row.message);
        });
    }
});
