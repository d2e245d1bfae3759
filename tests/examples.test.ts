// The typed outputs helper and the example consumer (examples/consumer), run under the same mocks as
// the platform. The consumer reads the outputs the real platform program exports (evaluated for dev
// first), so the contract is checked end to end: the values the consumer wires are the platform's.
import * as pulumi from "@pulumi/pulumi";
import { strict as assert } from "assert";
import * as path from "path";
import { SECRET_OUTPUTS, type StackOutputs } from "../components/outputs";
import { DIY_ORGANIZATION, OUTPUT_NAMES, PLATFORM_PROJECT, platformOutputs, stackReferenceName } from "../components/stackOutputs";
import { evaluate, evaluateStack, isSecretValue, PROJECT, ROOT, type ExportedOutput, type StackRun } from "./harness";

const CONSUMER = path.join(ROOT, "examples", "consumer", "index.ts");
const STACK_REFERENCE = "pulumi:pulumi:StackReference";

interface ReferencedStack {
    /** Output values by name. */
    readonly outputs: Readonly<Record<string, unknown>>;
    /** Names the engine reports secret; undefined models an engine that reports none. */
    readonly secretOutputNames?: readonly string[];
}

/** A secret value as the engine serializes it in a resource's state. */
function secretValue(value: unknown): object {
    return { [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value };
}

/**
 * Runs `program` with the harness mocks, answering reads of a StackReference the way the engine does:
 * state `outputs` (secret ones wrapped as secrets) and `secretOutputNames`. Records the stack names read.
 */
function withStackReference(
    referenced: ReferencedStack,
    program: () => Record<string, unknown> | Promise<Record<string, unknown>>,
    config: Record<string, string> = {},
) {
    const names: string[] = [];
    const run = evaluate("dev", config, () => {
        // The harness answers every resource from its Azure mocks; StackReference reads need the outputs.
        const mocks = (pulumi.runtime.getMonitor() as unknown as { mocks: pulumi.runtime.Mocks }).mocks;
        const answer = mocks.newResource.bind(mocks);
        mocks.newResource = (args) => {
            if (args.type !== STACK_REFERENCE) return answer(args);
            names.push(args.inputs.name);
            const secret = new Set(referenced.secretOutputNames ?? []);
            const outputs = Object.fromEntries(Object.entries(referenced.outputs).map(([k, v]) => [k, secret.has(k) ? secretValue(v) : v]));
            const state: Record<string, unknown> = { name: args.inputs.name, outputs };
            if (referenced.secretOutputNames) state.secretOutputNames = [...referenced.secretOutputNames];
            return { id: args.inputs.name, state };
        };
        return program();
    });
    return { run, names };
}

/** Resolves an output to its value and secretness. */
async function settle(output: pulumi.Output<unknown>): Promise<ExportedOutput> {
    const value = await new Promise<unknown>((resolve) => output.apply(resolve));
    return { value, secret: await pulumi.isSecret(output) };
}

function runConsumer(referenced: ReferencedStack, config: Record<string, string> = {}) {
    return withStackReference(
        referenced,
        () => {
            delete require.cache[require.resolve(CONSUMER)];
            // A fresh require runs the consumer program's top level again.
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            return require(CONSUMER) as Record<string, unknown>;
        },
        config,
    );
}

const values = (outputs: Readonly<Record<string, ExportedOutput>>) =>
    Object.fromEntries(Object.entries(outputs).map(([k, o]) => [k, o.value]));

describe("typed outputs for consumers", () => {
    // The real platform program's dev outputs, evaluated once for both suites.
    let platform: StackRun;
    before(async () => {
        platform = await evaluateStack("dev");
    });

    describe("typed platform outputs", () => {
        it("name every output the platform program exports, no more and no fewer", () => {
            assert.deepEqual([...OUTPUT_NAMES].sort(), Object.keys(platform.outputs).sort());
        });

        it("read each output from the stack and keep the contract's secret ones secret", async () => {
            const seen: Partial<Record<keyof StackOutputs, ExportedOutput>> = {};
            const { run } = withStackReference({ outputs: values(platform.outputs), secretOutputNames: [...SECRET_OUTPUTS] }, async () => {
                const outputs = platformOutputs(new pulumi.StackReference("platform", { name: "organization/aks-platform/dev" }));
                for (const name of OUTPUT_NAMES) seen[name] = await settle(outputs[name]);
                return {};
            });
            await run;
            for (const name of OUTPUT_NAMES) {
                assert.deepEqual(seen[name]?.value, platform.outputs[name].value, name);
                assert.equal(seen[name]?.secret, (SECRET_OUTPUTS as readonly string[]).includes(name), `${name} secret`);
            }
        });

        it("make the contract's secret outputs secret even when the engine does not say so", async () => {
            let kubeconfig: ExportedOutput | undefined;
            const { run } = withStackReference({ outputs: { kubeconfig: "apiVersion: v1" } }, async () => {
                kubeconfig = await settle(platformOutputs(new pulumi.StackReference("platform")).kubeconfig);
                return {};
            });
            await run;
            assert.deepEqual(kubeconfig, { value: "apiVersion: v1", secret: true });
        });

        it("read only the outputs a consumer uses, and name a missing one", async () => {
            // A Pulumi program fails on an unhandled rejection: reading every output eagerly would fail a
            // consumer of an older platform stack over an output it never uses. The one it does use fails.
            const rejections: unknown[] = [];
            const record = (reason: unknown) => rejections.push(reason);
            process.on("unhandledRejection", record);
            let clusterName: unknown;
            let missing: unknown;
            try {
                const { run } = withStackReference({ outputs: { clusterName: "gitops-dev-aks" } }, async () => {
                    const outputs = platformOutputs(new pulumi.StackReference("platform"));
                    clusterName = (await settle(outputs.clusterName)).value;
                    // Output's promise() is not in the public typings; it is how a failed requireOutput shows.
                    const failing = outputs.oidcIssuerUrl as unknown as { promise(): Promise<unknown> };
                    missing = await failing.promise().then(
                        () => undefined,
                        (error: Error) => error.message,
                    );
                    return {};
                });
                await run;
                await new Promise((resolve) => setTimeout(resolve, 50));
            } finally {
                process.off("unhandledRejection", record);
            }
            assert.equal(clusterName, "gitops-dev-aks");
            assert.match(String(missing), /Required output 'oidcIssuerUrl' does not exist/);
            const unused = rejections.map(String).filter((message) => !message.includes("'oidcIssuerUrl'"));
            assert.deepEqual(unused, [], "outputs the consumer never used were read");
        });

        it("build fully qualified stack names and refuse malformed parts", () => {
            assert.equal(stackReferenceName(DIY_ORGANIZATION, PLATFORM_PROJECT, "prod"), "organization/aks-platform/prod");
            assert.equal(stackReferenceName("contoso", "aks-platform", "dev.eu_1"), "contoso/aks-platform/dev.eu_1");
            assert.throws(() => stackReferenceName("contoso", "aks-platform", "dev/x"), /stack "dev\/x" is not allowed/);
            assert.throws(() => stackReferenceName("", "aks-platform", "dev"), /organization "" is not allowed/);
            assert.throws(() => stackReferenceName("a b", "-p", "dev"), /organization "a b", project "-p" is not allowed/);
        });

        it("use the platform program's project name", () => {
            assert.equal(PLATFORM_PROJECT, PROJECT);
        });
    });

    describe("example consumer", () => {
        let consumer: StackRun;
        let referenced: string[];
        before(async () => {
            const started = runConsumer({ outputs: values(platform.outputs), secretOutputNames: [...SECRET_OUTPUTS] });
            consumer = await started.run;
            referenced = started.names;
        });

        const T = {
            identity: "azure-native:managedidentity:UserAssignedIdentity",
            fic: "azure-native:managedidentity:FederatedIdentityCredential",
            provider: "pulumi:providers:kubernetes",
            namespace: "kubernetes:core/v1:Namespace",
            serviceAccount: "kubernetes:core/v1:ServiceAccount",
            secret: "kubernetes:core/v1:Secret",
        };

        it("reads the platform stack of its own stack name by default, or the one configured", async () => {
            assert.deepEqual(referenced, ["organization/aks-platform/dev"]);
            const other = runConsumer({ outputs: values(platform.outputs) }, { [`${PROJECT}:platformStack`]: "contoso/aks-platform/prod" });
            await other.run;
            assert.deepEqual(other.names, ["contoso/aks-platform/prod"]);
        });

        it("federates a new identity with the platform cluster's OIDC issuer, in the platform's resource group", () => {
            const identity = consumer.get(T.identity, "reports");
            const fic = consumer.get(T.fic, "reports");
            assert.equal(identity.inputs.resourceGroupName, platform.outputs.resourceGroupName.value);
            assert.equal(fic.inputs.resourceGroupName, platform.outputs.resourceGroupName.value);
            assert.equal(fic.inputs.issuer, platform.outputs.oidcIssuerUrl.value);
            assert.match(fic.inputs.issuer, /^https:\/\/eastus\.oic\.prod-aks\.azure\.com\//);
            assert.equal(fic.inputs.resourceName, identity.state.name);
            assert.deepEqual(fic.inputs.audiences, ["api://AzureADTokenExchange"]);
        });

        it("creates the federated service account, annotated with the identity's client ID, in the platform's cluster", () => {
            const namespace = consumer.get(T.namespace, "reports");
            const account = consumer.get(T.serviceAccount, "reports");
            const fic = consumer.get(T.fic, "reports");
            const identity = consumer.get(T.identity, "reports");
            assert.equal(fic.inputs.subject, `system:serviceaccount:${account.inputs.metadata.namespace}:${account.inputs.metadata.name}`);
            assert.equal(account.inputs.metadata.namespace, namespace.inputs.metadata.name);
            assert.equal(account.inputs.metadata.annotations["azure.workload.identity/client-id"], identity.state.clientId);
            assert.equal(consumer.outputs.identityClientId.value, identity.state.clientId);
            assert.equal(consumer.outputs.platformCluster.value, platform.outputs.clusterName.value);
        });

        it("builds its Kubernetes provider from the platform's kubeconfig and keeps it secret", () => {
            const provider = consumer.get(T.provider, "platform");
            assert.equal(provider.inputs.kubeconfig, platform.outputs.kubeconfig.value);
            assert.ok(isSecretValue(provider.rawInputs.kubeconfig), "kubeconfig input is not secret");
        });

        it("keeps the platform's secret connection string secret in the Kubernetes Secret", () => {
            const secret = consumer.get(T.secret, "reports-telemetry");
            assert.equal(
                secret.inputs.stringData.APPLICATIONINSIGHTS_CONNECTION_STRING,
                platform.outputs.appInsightsConnectionString.value,
            );
            const raw = secret.rawInputs.stringData;
            assert.ok(isSecretValue(raw) || isSecretValue(raw.APPLICATIONINSIGHTS_CONNECTION_STRING), "connection string is not secret");
        });

        it("exports nothing secret in plain text", () => {
            const secrets = SECRET_OUTPUTS.map((name) => String(platform.outputs[name].value));
            for (const [name, output] of Object.entries(consumer.outputs)) {
                if (output.secret) continue;
                for (const secret of secrets) assert.ok(!String(output.value).includes(secret), `${name} leaks a secret`);
            }
        });

        it("puts every Kubernetes resource on the provider built from the platform's kubeconfig", () => {
            const provider = consumer.get(T.provider, "platform");
            const k8sResources = consumer.resources.filter((r) => r.type.startsWith("kubernetes:"));
            assert.equal(k8sResources.length, 3);
            for (const r of k8sResources) assert.equal(r.provider, provider.urn, `${r.type} ${r.name}`);
        });
    });
});
