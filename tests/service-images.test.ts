// Images that exist (issue 17 item 5): dev builds the services into its own registry and deploys them by
// digest; prod imports the CI-built images into its private-only registry through ARM; local and the
// GitOps path deploy the images config names; no committed stack file names a placeholder image.
// Expectations come from the workflows (what the CI builds), the registry's REST contract
// (ImportImageParameters, the /oauth2/exchange form) and the chart's values, not from the component.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { importImage, importImageBody, type AcrImportInputs } from "../components/azure/acrImport";
import { checkDeployable, parseConfig, SERVICE_NAMES } from "../components/config";
import {
    configProblems,
    evaluateStack,
    isSecretValue,
    itRejectsConfig,
    MOCK_ARM_TOKEN,
    mockAcrRefreshToken,
    PROJECT,
    ROOT,
    stackRaw,
    TENANT,
    TUNED,
    type StackRun,
    withOverrides,
} from "./harness";
import { rawMember, rawString } from "./configRaw";

const IMAGE = "docker-build:index:Image";
const IMPORT = "pulumi-nodejs:dynamic:Resource";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const REGISTRY = "azure-native:containerregistry:Registry";
const ROLE = "azure-native:authorization:RoleAssignment";
const ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"; // Azure built-in roles: AcrPull

const images = parse(fs.readFileSync(path.join(ROOT, ".github/workflows/images.yml"), "utf8"));
const ciBuild = images.jobs.build.steps.find((s: { uses?: string }) => s.uses?.startsWith("docker/build-push-action")).with;

function loginServerOf(run: StackRun): string {
    const [registry] = run.ofType(REGISTRY);
    return registry.state.loginServer;
}

describe("service images", () => {
    describe("dev: built by the program into the stack's registry, deployed by digest", () => {
        let run: StackRun;
        before(async () => (run = await evaluateStack("dev")));

        it("creates the stack's registry with AcrPull for the kubelet identity", () => {
            const [registry] = run.ofType(REGISTRY);
            assert.ok(registry, "dev creates a registry by default");
            assert.equal(registry.inputs.adminUserEnabled, false);
            const pull = run.ofType(ROLE).find((r) => String(r.inputs.roleDefinitionId).endsWith(ACR_PULL));
            assert.ok(pull, "an AcrPull assignment");
            assert.equal(pull.inputs.scope, registry.id);
        });

        for (const service of SERVICE_NAMES) {
            it(`${service}: builds what the CI builds (the one Dockerfile, its build argument, the repository root)`, () => {
                const image = run.get(IMAGE, `images-${service}`);
                assert.equal(path.resolve(image.inputs.context.location), path.resolve(ROOT, ciBuild.context));
                assert.equal(path.resolve(image.inputs.dockerfile.location), path.resolve(ROOT, ciBuild.file));
                const [argName] = String(ciBuild["build-args"]).split("=");
                assert.deepEqual(image.inputs.buildArgs, { [argName]: service });
                assert.equal(image.inputs.push, true);
                assert.equal(image.inputs.buildOnPreview, false, "a preview needs no Docker engine");
                assert.deepEqual(image.inputs.tags, [`${loginServerOf(run)}/${service}:dev`]);
            });

            it(`${service}: pushes with the deployer's Entra ID token traded for a registry token, kept secret`, () => {
                const image = run.get(IMAGE, `images-${service}`);
                const [registry] = image.inputs.registries;
                assert.equal(registry.address, loginServerOf(run));
                assert.equal(registry.username, "00000000-0000-0000-0000-000000000000");
                assert.equal(registry.password, mockAcrRefreshToken(loginServerOf(run)));
                const raw = image.rawInputs.registries;
                assert.ok(isSecretValue(raw) || isSecretValue(raw[0]) || isSecretValue(raw[0].password), "the registry token is a secret");
            });

            it(`${service}: the release deploys the pushed digest from the stack's registry, after AcrPull`, () => {
                const image = run.get(IMAGE, `images-${service}`);
                const release = run.get(RELEASE, service);
                assert.deepEqual(release.inputs.values.image, { repository: `${loginServerOf(run)}/${service}`, tag: image.state.digest });
                assert.match(image.state.digest, /^sha256:[0-9a-f]{64}$/);
                assert.ok(run.dependsOn(release.urn, image.urn), "the release waits for its image");
                const pull = run.ofType(ROLE).find((r) => String(r.inputs.roleDefinitionId).endsWith(ACR_PULL))!;
                assert.ok(run.dependsOn(image.urn, pull.urn), "the image (and so the release) waits for AcrPull");
            });
        }

        it("exchanges the token at the registry as ACR's OAuth exchange expects", () => {
            assert.equal(run.tokenExchanges.length, 1);
            const [exchange] = run.tokenExchanges;
            assert.equal(exchange.url, `https://${loginServerOf(run)}/oauth2/exchange`);
            assert.deepEqual(exchange.form, {
                grant_type: "access_token",
                service: loginServerOf(run),
                tenant: TENANT,
                access_token: MOCK_ARM_TOKEN,
            });
        });

        it("imports nothing", () => assert.equal(run.ofType(IMPORT).length, 0));
    });

    describe("prod: the CI-built images imported into the private-only registry through ARM", () => {
        let run: StackRun;
        before(async () => (run = await evaluateStack("prod")));
        const raw = () => stackRaw("prod");

        it("keeps the registry private: no public endpoint, a private endpoint, nothing built here", () => {
            const [registry] = run.ofType(REGISTRY);
            assert.equal(registry.inputs.publicNetworkAccess, "Disabled");
            assert.equal(run.ofType(IMAGE).length, 0, "no Docker push: it would need the public endpoint");
        });

        for (const service of SERVICE_NAMES) {
            it(`${service}: imports <image>:<tag> from its registry into the stack's, with the source token secret`, () => {
                // services.productImage / services.productTag for product-service (components/config/layout.ts).
                const stem = service.replace(/-service$/, "");
                const image = rawString(raw(), `services.${stem}Image`)!;
                const tag = rawString(raw(), `services.${stem}Tag`)!;
                const [host, ...rest] = image.split("/");
                const imported = run.get(IMPORT, `images-${service}`);
                const [registry] = run.ofType(REGISTRY);
                assert.equal(imported.inputs.registryId, registry.id);
                assert.equal(imported.inputs.sourceRegistry, host);
                assert.equal(imported.inputs.sourceImage, `${rest.join("/")}:${tag}`);
                assert.equal(imported.inputs.targetRepository, service);
                assert.equal(imported.inputs.targetTag, tag);
                assert.equal(imported.inputs.sourceUsername, rawString(raw(), "services.imageSourceUsername"));
                assert.ok(isSecretValue(imported.rawInputs.sourcePassword), "the source token is a secret");
                assert.ok(isSecretValue(imported.rawInputs.armToken), "the ARM token is a secret");
                const release = run.get(RELEASE, service);
                assert.deepEqual(release.inputs.values.image, { repository: `${loginServerOf(run)}/${service}`, tag });
                assert.ok(run.dependsOn(release.urn, imported.urn), "the release waits for the import");
            });
        }

        it("imports a digest untagged and deploys that digest", async () => {
            const digest = TUNED.prod["services.productTag"];
            assert.match(digest, /^sha256:[0-9a-f]{64}$/);
            const pinned = await evaluateStack("prod", TUNED.prod);
            const imported = pinned.get(IMPORT, "images-product-service");
            assert.match(imported.inputs.sourceImage, new RegExp(`/product-service@${digest}$`));
            assert.equal(imported.inputs.targetTag, undefined);
            assert.deepEqual(pinned.get(RELEASE, "product-service").inputs.values.image.tag, digest);
        });
    });

    describe("local: the images config names", () => {
        it("deploys <service>:local as Pulumi.local.yaml says, with no registry", async () => {
            const run = await evaluateStack("local");
            const raw = stackRaw("local");
            assert.equal(run.ofType(IMAGE).length + run.ofType(IMPORT).length, 0);
            assert.deepEqual(run.get(RELEASE, "product-service").inputs.values.image, {
                repository: rawString(raw, "services.productImage"),
                tag: rawString(raw, "services.productTag"),
            });
        });
    });

    it("no committed stack file or GitOps values name a placeholder image", () => {
        const files = fs.readdirSync(ROOT).filter((f) => /^Pulumi\.[a-z]+\.yaml$/.test(f));
        assert.ok(files.length >= 3);
        const gitops = ["dev", "prod", "local"].map((env) => `argocd/apps/${env}/values.yaml`);
        for (const file of [...files, ...gitops]) assert.doesNotMatch(fs.readFileSync(path.join(ROOT, file), "utf8"), /my-org/, file);
    });

    describe("config", () => {
        itRejectsConfig([
            {
                name: "build without Azure",
                stack: "local",
                raw: { "services.imageSource": "build" },
                expect: ["services.imageSource", '"build"', "local", '"config"'],
            },
            {
                name: "build without the stack's registry",
                raw: { "registry.mode": "none" },
                expect: ["services.imageSource", 'registry.mode "create"', '"none"'],
            },
            {
                name: "build into a registry with no public endpoint",
                raw: { "registry.publicNetworkAccess": false, "registry.privateEndpoint": true },
                expect: ["services.imageSource", "registry.publicNetworkAccess: true", '"import"'],
            },
            {
                name: "a source token without its user",
                stack: "prod",
                raw: { "services.imageSourceUsername": undefined },
                expect: ["services.imageSourceUsername", "services.imageSourceToken"],
            },
        ]);

        it("prod imports by default and, without the images, names every missing key in one round", () => {
            const raw = withOverrides(stackRaw("prod"), {
                "services.productImage": undefined,
                "services.productTag": undefined,
                "services.orderImage": undefined,
                "services.orderTag": undefined,
            });
            // Not a parse error (a committed prod file looks like this before its first promotion): a deploy
            // check, reported with the missing secrets.
            assert.deepEqual(configProblems(raw, "prod"), []);
            const problems = checkDeployable(parseConfig(raw, PROJECT, "prod")).join("\n");
            for (const key of ["services.productImage", "services.productTag", "services.orderImage", "services.orderTag"])
                assert.ok(problems.includes(key), key);
            assert.ok(problems.includes('services.imageSource is "import"'));
        });

        it("dev builds by default and needs no image key", () => {
            assert.deepEqual(configProblems(stackRaw("dev"), "dev"), []);
            assert.equal(rawMember(stackRaw("dev"), "services.productImage"), undefined);
        });
    });
});

describe("ARM importImage (components/azure/acrImport.ts)", () => {
    const inputs: AcrImportInputs = {
        registryId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/acr1",
        sourceRegistry: "ghcr.io",
        sourceImage: "owner/product-service:v1.2.0",
        targetRepository: "product-service",
        targetTag: "v1.2.0",
        sourceUsername: "owner",
        sourcePassword: "token",
        armToken: "arm",
    };

    it("sends ImportImageParameters as the REST contract names them", () => {
        assert.deepEqual(importImageBody(inputs), {
            source: {
                registryUri: "ghcr.io",
                sourceImage: "owner/product-service:v1.2.0",
                credentials: { username: "owner", password: "token" },
            },
            targetTags: ["product-service:v1.2.0"],
            mode: "Force",
        });
        const untagged = importImageBody({ ...inputs, targetTag: undefined, sourceUsername: undefined, sourcePassword: undefined });
        assert.deepEqual(untagged.untaggedTargetRepositories, ["product-service"]);
        assert.equal((untagged.source as Record<string, unknown>).credentials, undefined);
    });

    it("POSTs to the registry's importImage action with the ARM token, then polls the 202's Location", async () => {
        const calls: { url: string; method: string; auth: string }[] = [];
        const real = globalThis.fetch;
        let polls = 0;
        globalThis.fetch = (async (url: string, init?: RequestInit) => {
            calls.push({ url: String(url), method: init?.method ?? "GET", auth: (init?.headers as Record<string, string>).Authorization });
            if (init?.method === "POST")
                return new Response(null, { status: 202, headers: { Location: "https://management.azure.com/op/1" } });
            return new Response(null, { status: ++polls < 2 ? 202 : 200 });
        }) as typeof fetch;
        try {
            await importImage(inputs, 1);
        } finally {
            globalThis.fetch = real;
        }
        assert.equal(calls[0].url, `https://management.azure.com${inputs.registryId}/importImage?api-version=2023-01-01-preview`);
        assert.equal(calls[0].method, "POST");
        assert.deepEqual(
            calls.map((c) => c.auth),
            calls.map(() => "Bearer arm"),
        );
        assert.deepEqual(
            calls.slice(1).map((c) => c.url),
            ["https://management.azure.com/op/1", "https://management.azure.com/op/1"],
        );
    });

    it("fails with ARM's answer when the import is refused", async () => {
        const real = globalThis.fetch;
        globalThis.fetch = (async () => new Response('{"error":{"code":"InvalidParameters"}}', { status: 400 })) as typeof fetch;
        try {
            await assert.rejects(importImage(inputs, 1), /failed \(400\).*InvalidParameters/);
        } finally {
            globalThis.fetch = real;
        }
    });
});
