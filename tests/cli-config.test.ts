// The Pulumi CLI's config pass (tools/cliConfig.ts) on the committed project and stacks, and each of
// its rejections with the CLI's own message (pulumi/pulumi pkg/workspace/config.go, mergeConfig and
// validateStackConfigValue; sdk/go/common/workspace/project.go; sdk/go/common/resource/config/key.go).
// Structured values: what the program receives for a group (config/object.go MarshalString, Secure;
// value.go Value.Value; plaintext.go marshalText), and what `pulumi config set/rm --path` writes
// (map.go Map.Set, Map.Remove; object.go coerce, object.Set). Every expected text below is written from
// those sources (Go's encoding/json: map keys sorted, <>& escaped), not from the code under test.
import { strict as assert } from "assert";
import * as fs from "fs";
import { parse } from "yaml";
import { FLAT_KEY_PATHS } from "../components/config/layout";
import {
    cliConfig,
    CliConfigError,
    decryptOffline,
    mergeConfig,
    offlineCiphertext,
    parseProject,
    parseStackFile,
    stackConfigWith,
    type ConfigCommand,
} from "../tools/cliConfig";
import { PROJECT, ROOT, STACK_SECRETS, stackRaw, withOverrides } from "./harness";

const STACKS = fs
    .readdirSync(ROOT)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined);

/** The CLI pass over an inline project and stack file; the error message, or undefined when it passes. */
function rejection(projectYaml: string, stackYaml: string, stack = "dev"): string | undefined {
    try {
        const project = parseProject(projectYaml);
        mergeConfig(stack, project, parseStackFile(stackYaml, project.name), decryptOffline);
        return undefined;
    } catch (error) {
        if (!(error instanceof CliConfigError)) throw error;
        return error.message;
    }
}

describe("the Pulumi CLI's config pass", () => {
    it("finds the committed stacks", () => assert.deepEqual(STACKS.sort(), ["dev", "local", "prod"]));

    /** The groups of the structured layout (components/config/layout.ts), and the one top-level scalar. */
    const GROUPS = new Set(Object.values(FLAT_KEY_PATHS).map((p) => p.split(".")[0]));
    const MEMBERS = new Set<string>(Object.values(FLAT_KEY_PATHS));

    for (const stack of ["dev", "prod", "local"]) {
        it(`accepts Pulumi.${stack}.yaml exactly as committed, and hands the program each group as the JSON of its members`, () => {
            const { config, secretKeys } = cliConfig(ROOT, stack);
            const file = parse(fs.readFileSync(`${ROOT}/Pulumi.${stack}.yaml`, "utf8")).config as Record<string, Record<string, unknown>>;
            assert.ok(Object.keys(config).length > 0);
            assert.deepEqual(Object.keys(config).sort(), Object.keys(file).sort());
            for (const [key, value] of Object.entries(config)) {
                assert.ok(key.startsWith(`${PROJECT}:`), key);
                const group = key.slice(PROJECT.length + 1);
                assert.equal(typeof value, "string", key);
                if (group === "environment") continue;
                assert.ok(GROUPS.has(group), `${key} is not a group of the layout`);
                // The JSON of the file's map: the same members and values (numbers as numbers).
                assert.deepEqual(JSON.parse(value), file[key], key);
                for (const member of Object.keys(JSON.parse(value))) assert.ok(MEMBERS.has(`${group}.${member}`), `${group}.${member}`);
            }
            assert.deepEqual(secretKeys, []);
        });
    }

    it("hands prod over with its stand-in secrets written secure: each group holding one is a secret key, its members decrypted", () => {
        const groups = new Set(Object.keys(STACK_SECRETS.prod).map((p) => `${PROJECT}:${p.split(".")[0]}`));
        const raw = stackRaw("prod");
        for (const [configPath, value] of Object.entries(STACK_SECRETS.prod)) {
            const [group, member] = configPath.split(".");
            assert.equal(JSON.parse(raw[group])[member], value, configPath);
        }
        const program = cliConfig(ROOT, "prod", {
            secure: Object.fromEntries(Object.entries(STACK_SECRETS.prod).map(([k, v]) => [k, String(v)])),
        });
        assert.deepEqual([...program.secretKeys].sort(), [...groups].sort());
    });

    describe("structured values: a group as the program receives it", () => {
        const project = parseProject("name: p\nruntime: nodejs\n");
        const run = (stackYaml: string, commands: readonly ConfigCommand[] = []) =>
            mergeConfig("dev", project, stackConfigWith("p", parseStackFile(stackYaml, "p"), { commands }), decryptOffline);
        const secure = (text: string) => `{ secure: "${offlineCiphertext(text)}" }`;

        it("a secure member arrives decrypted inside the group's JSON, and the group's key is secret", () => {
            const { config, secretKeys } = run(
                `config:\n  p:ingress:\n    host: app.example.com\n    tlsPrivateKey: ${secure("KEY")}\n  p:mesh:\n    mtlsMode: STRICT\n`,
            );
            assert.equal(config["p:ingress"], '{"host":"app.example.com","tlsPrivateKey":"KEY"}');
            assert.equal(config["p:mesh"], '{"mtlsMode":"STRICT"}');
            assert.deepEqual(secretKeys, ["p:ingress"]);
        });

        it("a secure leaf deeper down, or in a list, makes the whole top-level key secret (object.Secure)", () => {
            const { config, secretKeys } = run(`config:\n  p:a:\n    b:\n      c: ${secure("x")}\n  p:l:\n    - ${secure("y")}\n    - z\n`);
            assert.equal(config["p:a"], '{"b":{"c":"x"}}');
            assert.equal(config["p:l"], '["y","z"]');
            assert.deepEqual([...secretKeys].sort(), ["p:a", "p:l"]);
        });

        it("members are sorted and <, >, & escaped as Go's encoding/json writes them", () => {
            const { config } = run("config:\n  p:g:\n    z: 1\n    a: a<b&c>\n");
            assert.equal(config["p:g"], '{"a":"a\\u003cb\\u0026c\\u003e","z":1}');
            assert.deepEqual(JSON.parse(config["p:g"]), { a: "a<b&c>", z: 1 });
        });

        it("YAML numbers inside a group stay JSON numbers: an unquoted 1.30 arrives as 1.3, a quoted one as the string", () => {
            const { config } = run('config:\n  p:cluster:\n    kubernetesVersion: 1.30\n    quoted: "1.30"\n    count: 2\n    on: true\n');
            assert.equal(config["p:cluster"], '{"count":2,"kubernetesVersion":1.3,"on":true,"quoted":"1.30"}');
        });

        it("an empty YAML value is the empty string at the top level (yaml.v3 skips UnmarshalYAML for null), null inside a group", () => {
            const { config } = run("config:\n  p:empty:\n  p:g:\n    a:\n    b: x\n");
            assert.equal(config["p:empty"], "");
            assert.equal(config["p:g"], '{"a":null,"b":"x"}');
        });

        it("a group whose members are all removed by `pulumi config rm --path` stays, as {}", () => {
            const { config } = run("config:\n  p:g:\n    a: x\n", [
                { rm: "g.a", path: true },
                { rm: "g.missing", path: true },
            ]);
            assert.equal(config["p:g"], "{}");
        });
    });

    it("injects a declared member's default into its group, coerced as `--path` coerces (createConfigValue, Map.Set)", () => {
        const project = parseProject(`${PROJECT_HEAD}config:\n  cluster.tier:\n    default: Free\n  cluster.count:\n    default: 3\n`);
        const { config } = mergeConfig(
            "dev",
            project,
            parseStackFile("config:\n  p:cluster:\n    kubernetesVersion: '1.36'\n", "p"),
            decryptOffline,
        );
        assert.equal(config["p:cluster"], '{"count":3,"kubernetesVersion":"1.36","tier":"Free"}');
    });

    it("injects a declared object or non-int default as Go's json.Marshal of it (createConfigValue), read back as the CLI does", () => {
        // pulumi/pulumi pkg/workspace/config.go createConfigValue: a primitive (string, int, bool) as
        // fmt %v, anything else json.Marshal'd into an object value: keys sorted, <>& escaped, an int64's
        // digits exact, a uint64 (yaml.v3 reads 18446744073709551615 as one, not an int) as its digits,
        // which Value.Value reads back with UseNumber: beyond int64, a float64.
        const project = parseProject(
            `${PROJECT_HEAD}config:\n` +
                "  g:\n    default:\n      z: 1\n      a: '<b&c>'\n      n: 9007199254740993\n      f: 1.50\n      l: [2, x]\n" +
                "  big:\n    default: 18446744073709551615\n" +
                "  grp.obj:\n    default:\n      k: 10\n",
        );
        const { config } = mergeConfig("dev", project, parseStackFile("config: {}\n", "p"), decryptOffline);
        assert.deepEqual(config, {
            "p:g": '{"a":"\\u003cb\\u0026c\\u003e","f":1.5,"l":[2,"x"],"n":9007199254740993,"z":1}',
            "p:big": "18446744073709552000",
            "p:grp": '{"obj":{"k":10}}',
        });
    });

    describe("pulumi config set --path: the CLI's coercion below the top level (object.go coerce)", () => {
        const project = parseProject("name: p\nruntime: nodejs\n");
        const member = (value: string, extra: Partial<{ secret: boolean }> = {}) => {
            const values = stackConfigWith("p", new Map(), { commands: [{ set: "g.m", value, path: true, ...extra }] });
            return mergeConfig("dev", project, values, decryptOffline);
        };
        // [given, what the program's JSON.parse reads, and where the digits matter, the exact text the
        // program receives]. coerce: ParseInt(v, 10, 64), else ParseUint(v, 10, 64), else the string.
        // The stored group is JSON text; Map.Decrypt reads it back with json.Decoder UseNumber and
        // unmarshalObject's json.Number: Int64 when it is one (digits exact), else Float64, which
        // encoding/json writes as the shortest float text ('f' format below 1e21).
        const rows: [string, unknown, string?][] = [
            ["3", 3],
            ["0", 0],
            ["-5", -5],
            ["true", true],
            ["false", false],
            ["0123", "0123"],
            ["1.30", "1.30"],
            ["1e3", "1e3"],
            ["True", "True"],
            ["12345678901234567890123", "12345678901234567890123"],
            ["", ""],
            // int64: the exact digits reach the program (its JSON.parse then rounds 2^53 + 1).
            ["9007199254740993", 9007199254740992, '{"m":9007199254740993}'],
            ["9223372036854775807", 2 ** 63, '{"m":9223372036854775807}'],
            ["-9223372036854775808", -(2 ** 63), '{"m":-9223372036854775808}'],
            ["-9223372036854775809", "-9223372036854775809"],
            // uint64 (ParseUint): a number, read back as a float64 on the way to the program.
            ["9223372036854775808", 2 ** 63, '{"m":9223372036854776000}'],
            ["18446744073709551615", 2 ** 64, '{"m":18446744073709552000}'],
            // Beyond uint64: the string.
            ["18446744073709551616", "18446744073709551616"],
            // A sign: ParseInt takes one, ParseUint none ("A sign prefix is not permitted", Go's strconv
            // ParseUint), so a signed value beyond int64 stays the string it was given.
            ["+7", 7],
            ["+9223372036854775807", 2 ** 63, '{"m":9223372036854775807}'],
            ["+9223372036854775808", "+9223372036854775808"],
            ["+18446744073709551615", "+18446744073709551615"],
        ];
        for (const [given, expected, text] of rows) {
            it(`${JSON.stringify(given)} becomes ${JSON.stringify(expected)}${text ? `, received as ${text}` : ""}`, () => {
                const received = member(given).config["p:g"];
                assert.deepEqual(JSON.parse(received), { m: expected });
                if (text !== undefined) assert.equal(received, text);
            });
        }

        // object.go object.Set and newContainer: a missing list is made `make([]object, index+1)` (nil
        // items, JSON null); an existing list takes an index up to its length (appended) and refuses one past it.
        const setRows: { name: string; file?: string; set: string; received: Record<string, string> }[] = [
            { name: "an index past 0 on a missing list pads it with nulls", set: "g.l[1]", received: { "p:g": '{"l":[null,"x"]}' } },
            { name: "index 0 on a missing list", set: "g.l[0]", received: { "p:g": '{"l":["x"]}' } },
            { name: "an index on a missing top-level key makes it a list", set: "g[2]", received: { "p:g": '[null,null,"x"]' } },
            {
                name: "a missing list deeper down, then a map in it",
                set: "g.a[1].b",
                received: { "p:g": '{"a":[null,{"b":"x"}]}' },
            },
            {
                name: "an index at an existing list's length appends",
                file: "config:\n  p:g:\n    l: [a]\n",
                set: "g.l[1]",
                received: { "p:g": '{"l":["a","x"]}' },
            },
            {
                name: "an index inside an existing list replaces the item",
                file: "config:\n  p:g:\n    l: [a, b]\n",
                set: "g.l[0]",
                received: { "p:g": '{"l":["x","b"]}' },
            },
        ];
        for (const row of setRows) {
            it(`--path ${row.set} x: ${row.name}`, () => {
                const values = stackConfigWith("p", parseStackFile(row.file ?? "config: {}\n", "p"), {
                    commands: [{ set: row.set, value: "x", path: true }],
                });
                assert.deepEqual(mergeConfig("dev", project, values, decryptOffline).config, row.received);
            });
        }

        it("creates the group when absent; a list for an index, appended at its end", () => {
            const values = stackConfigWith("p", new Map(), {
                commands: [
                    { set: "apiServer.authorizedIpRanges[0]", value: "1.2.3.4/32", path: true },
                    { set: "apiServer.authorizedIpRanges[1]", value: "5.6.7.8/32", path: true },
                    { set: "cluster.tier", value: "Standard", path: true },
                ],
            });
            const { config } = mergeConfig("dev", project, values, decryptOffline);
            assert.equal(config["p:apiServer"], '{"authorizedIpRanges":["1.2.3.4/32","5.6.7.8/32"]}');
            assert.equal(config["p:cluster"], '{"tier":"Standard"}');
        });

        it("--secret on a path: the member stays the string given, encrypted, and its group becomes a secret key", () => {
            const { config, secretKeys } = member("true", { secret: true });
            assert.equal(config["p:g"], '{"m":"true"}');
            assert.deepEqual(secretKeys, ["p:g"]);
        });

        it("a top-level value is always a string, with or without --path", () => {
            const values = stackConfigWith("p", new Map(), {
                commands: [
                    { set: "environment", value: "3", path: true },
                    { set: "other", value: "true" },
                ],
            });
            const { config } = mergeConfig("dev", project, values, decryptOffline);
            assert.deepEqual(config, { "p:environment": "3", "p:other": "true" });
        });

        it("a scalar where a group is expected is replaced at the top level, and refused deeper", () => {
            const replaced = stackConfigWith("p", parseStackFile("config:\n  p:g: flat\n", "p"), {
                commands: [{ set: "g.a", value: "1", path: true }],
            });
            assert.equal(mergeConfig("dev", project, replaced, decryptOffline).config["p:g"], '{"a":1}');
            assert.throws(
                () =>
                    stackConfigWith("p", parseStackFile("config:\n  p:g:\n    a: x\n", "p"), {
                        commands: [{ set: "g.a.b", value: "1", path: true }],
                    }),
                (e: Error) => e instanceof CliConfigError && e.message === "g.a: expected a map",
            );
            assert.throws(
                () =>
                    stackConfigWith("p", parseStackFile("config:\n  p:g:\n    l: [a]\n", "p"), {
                        commands: [{ set: "g.l[2]", value: "1", path: true }],
                    }),
                (e: Error) => e instanceof CliConfigError && e.message === "g.l[2]: array index out of range",
            );
        });

        it("refuses `secure` as the only key of a new map: the CLI reserves it for encrypted values", () => {
            // pulumi/pulumi sdk/go/common/resource/config/object.go: a map whose one key is "secure" with a
            // string value would read back as a secret; `set` refuses it with this text.
            assert.throws(
                () =>
                    stackConfigWith("p", parseStackFile("config: {}\n", "p"), { commands: [{ set: "g.secure", value: "x", path: true }] }),
                (e: Error) => e instanceof CliConfigError && e.message === 'maps with the single key "secure" are reserved',
            );
            // Only a string is reserved (object.go newPlaintext): a number under `secure` is a member.
            const number = stackConfigWith("p", parseStackFile("config: {}\n", "p"), {
                commands: [{ set: "g.secure", value: "1", path: true }],
            });
            assert.equal(mergeConfig("dev", project, number, decryptOffline).config["p:g"], '{"secure":1}');
            // Beside another key it is an ordinary member.
            const both = stackConfigWith("p", parseStackFile("config:\n  p:g:\n    a: 1\n", "p"), {
                commands: [{ set: "g.secure", value: "x", path: true }],
            });
            assert.equal(mergeConfig("dev", project, both, decryptOffline).config["p:g"], '{"a":1,"secure":"x"}');
        });
    });

    it("the harness's withOverrides edits a group as the stack file edit through the CLI's pass would", () => {
        const overrides = {
            "cluster.tier": "Premium",
            "systemPool.nodeCount": 4,
            "userPool.zones": [],
            "apiServer.authorizedIpRanges": undefined,
        };
        const prefix = `${PROJECT}:`;
        const { config } = cliConfig(ROOT, "dev", { file: overrides });
        const viaCli = Object.fromEntries(Object.entries(config).map(([k, v]) => [k.slice(prefix.length), v]));
        assert.deepEqual(withOverrides(stackRaw("dev", false), overrides), viaCli);
        assert.equal(viaCli.apiServer, undefined, "a group emptied by the edit is gone from the file");
        assert.equal(JSON.parse(viaCli.userPool).zones.length, 0);
    });

    describe("the stack file read as gopkg.in/yaml.v3 reads it (resolve.go, decode.go merge)", () => {
        const project = parseProject("name: p\nruntime: nodejs\n");
        const received = (stackYaml: string) => mergeConfig("dev", project, parseStackFile(stackYaml, "p"), decryptOffline).config;

        // resolve.go: `_` removed, strconv.ParseInt(plain, 0, 64) (base prefixes, a leading 0 is octal),
        // else ParseUint, else a float when yamlStyleFloat matches; the program gets Go's JSON of the group.
        const numberRows: [string, string][] = [
            ["010", "8"],
            ["0x1F", "31"],
            ["-0x1F", "-31"],
            ["0o17", "15"],
            ["0b101", "5"],
            ["1_000", "1000"],
            ["+5", "5"],
            ["08", "8"], // not octal: ParseInt and ParseUint fail, yamlStyleFloat matches: the float 8
            ["1e3", "1000"],
            [".5", "0.5"],
            ["1.30", "1.3"],
            ["9007199254740993", "9007199254740993"], // an int: the digits exact
            ["18446744073709551615", "18446744073709552000"], // a uint64, read back from the JSON as a float64
            ["18446744073709551616", "18446744073709552000"], // beyond uint64: a float
            ["1.2.3.4", '"1.2.3.4"'],
            ["0x", '"0x"'],
            ['"010"', '"010"'], // quoted: a string
            ["2001-12-14", '"2001-12-14"'], // a timestamp, decoded into `any` as its text
        ];
        for (const [yamlText, json] of numberRows) {
            it(`a member written ${yamlText} reaches the program as ${json}`, () => {
                assert.equal(received(`config:\n  p:g:\n    m: ${yamlText}\n`)["p:g"], `{"m":${json}}`);
            });
        }

        it("Pulumi.yaml too (loaders.go LoadProject): a shorthand default 0x10 is the int 16, injected as its text", () => {
            const declared = parseProject(
                "name: p\nruntime: nodejs\nconfig:\n  count: 0x10\n  size:\n    type: integer\n    default: 010\n",
            );
            assert.deepEqual(mergeConfig("dev", declared, parseStackFile("config: {}\n", "p"), decryptOffline).config, {
                "p:count": "16",
                "p:size": "8",
            });
        });

        it("a top-level number is its text as Go writes it: 010 is 8, 0x1F is 31", () => {
            assert.deepEqual(received("config:\n  p:a: 010\n  p:b: 0x1F\n  p:c: 1_000\n"), { "p:a": "8", "p:b": "31", "p:c": "1000" });
        });

        it("applies merge keys: the map's own members first, then the sources in order", () => {
            const config = received(
                [
                    "config:",
                    "  p:defaults: &pool",
                    "    vmSize: Standard_D2s_v5",
                    "    nodeCount: 2",
                    "  p:spot: &spot",
                    "    nodeCount: 9",
                    "    priority: Spot",
                    "  p:userPool:",
                    "    <<: *pool",
                    "    nodeCount: 3",
                    "  p:systemPool:",
                    "    zones: [1]",
                    "    <<: [*pool, *spot]",
                    "",
                ].join("\n"),
            );
            assert.equal(config["p:userPool"], '{"nodeCount":3,"vmSize":"Standard_D2s_v5"}');
            assert.equal(config["p:systemPool"], '{"nodeCount":2,"priority":"Spot","vmSize":"Standard_D2s_v5","zones":[1]}');
        });
    });

    it("turns top-level YAML values into the strings the program reads: numbers as JSON, lists as JSON", () => {
        const values = parseStackFile("config:\n  p:a: 1.30\n  p:b: 2\n  p:c: true\n  p:d: ['1', '2']\n  p:e: \"1.30\"\n", "p");
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
        // loaders.go LoadProjectStackBytes, stackConfigNamespacedWithProject: a key without `:` is the project's.
        {
            name: "a stack key without a namespace, as the project's (a declared integer checked there)",
            project: `${PROJECT_HEAD}config:\n  size:\n    type: integer\n`,
            stack: "config:\n  size: 3\n",
            message: undefined,
        },
        {
            name: "a stack key without a namespace, checked as the project's key it is",
            project: `${PROJECT_HEAD}config:\n  size:\n    type: integer\n`,
            stack: "config:\n  size: three\n",
            message: "Stack 'dev' with configuration key 'size' must be of type 'integer'",
        },
        {
            name: "a stack key with two colons",
            project: PROJECT_HEAD,
            stack: "config:\n  p:a:b: x\n",
            message:
                "could not unmarshal map: could not parse p:a:b as a configuration key (configuration keys should be of the form `<namespace>:<name>`)",
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
        // A declared key is a path (pkg/workspace/config.go: stackConfig.Get(key, true)): a member of a group.
        {
            name: "a declared member of a group, set in the group",
            project: `${PROJECT_HEAD}config:\n  cluster.tier:\n    type: string\n  cluster.nodeCount:\n    type: integer\n`,
            stack: "config:\n  p:cluster:\n    tier: Free\n    nodeCount: 3\n",
            message: undefined,
        },
        {
            name: "a declared member missing from its group",
            project: `${PROJECT_HEAD}config:\n  cluster.tier:\n    type: string\n`,
            stack: "config:\n  p:cluster:\n    other: x\n",
            message: "Stack 'dev' is missing configuration value 'cluster.tier'",
        },
        {
            name: "a declared member of the wrong type, named by its path",
            project: `${PROJECT_HEAD}config:\n  cluster.nodeCount:\n    type: integer\n`,
            stack: "config:\n  p:cluster:\n    nodeCount: three\n",
            message: "Stack 'dev' with configuration key 'cluster.nodeCount' must be of type 'integer'",
        },
        {
            name: "a declared secret member set in plain text, though another member of the group is secure",
            project: `${PROJECT_HEAD}config:\n  ingress.tlsPrivateKey:\n    type: string\n    secret: true\n`,
            stack: `config:\n  p:ingress:\n    tlsPrivateKey: plain\n    tlsCertificate:\n      secure: ${offlineCiphertext("c")}\n`,
            message: "Stack 'dev' with configuration key 'ingress.tlsPrivateKey' must be encrypted as it's secret",
        },
        {
            name: "a declared secret member written secure:",
            project: `${PROJECT_HEAD}config:\n  ingress.tlsPrivateKey:\n    type: string\n    secret: true\n`,
            stack: `config:\n  p:ingress:\n    tlsPrivateKey:\n      secure: ${offlineCiphertext("k")}\n`,
            message: undefined,
        },
    ];
    for (const row of rows) {
        it(`${row.message === undefined ? "accepts" : "rejects"} ${row.name}`, () => {
            assert.equal(rejection(row.project, row.stack), row.message);
        });
    }
});
