// An image copied into the stack's registry by ARM's importImage action: a control-plane operation
// (POST <registry ID>/importImage on management.azure.com), so it reaches a registry whose public
// endpoint is off. "If you have access to the target registry, you don't require the registry's public
// endpoint" (MicrosoftDocs/azure-docs articles/container-registry/container-registry-import-images.md);
// request and long-running response as in Azure/azure-rest-api-specs
// specification/containerregistry/resource-manager/Microsoft.ContainerRegistry, operation
// Registries_ImportImage (ImportImageParameters: source.registryUri,
// source.sourceImage, source.credentials.{username,password}, targetTags, untaggedTargetRepositories,
// mode; 200 or 202 with a Location to poll). azure-native has no resource for it (its containerregistry
// module has ImportPipeline, which moves blobs through a storage account, not images between
// registries), so a dynamic provider makes the call with the deployer's own ARM token. The image stays
// in the registry when this resource is deleted: it goes with the registry.
import * as pulumi from "@pulumi/pulumi";

const ARM = "https://management.azure.com";
/** The API version of the importImage action: the one azure-native 3.28.0's containerregistry.Registry uses. */
export const IMPORT_API_VERSION = "2023-01-01-preview";

export interface AcrImportInputs {
    /** ARM ID of the target registry. */
    readonly registryId: string;
    /** Source registry host, e.g. ghcr.io. */
    readonly sourceRegistry: string;
    /** Source repository and tag or digest in it, e.g. my-org/product-service:v1.2.0 or ...@sha256:<hex>. */
    readonly sourceImage: string;
    /** Target repository in the stack's registry, e.g. product-service. */
    readonly targetRepository: string;
    /** Target tag; absent when the source is a digest (imported untagged, then referenced by digest). */
    readonly targetTag?: string;
    /** Source registry credentials (a private GHCR package: a token with read:packages). */
    readonly sourceUsername?: string;
    readonly sourcePassword?: string;
    /** The deployer's ARM access token (a secret; changes every run and is never diffed). */
    readonly armToken: string;
}

/** The importImage request body for `inputs` (ImportImageParameters). */
export function importImageBody(inputs: AcrImportInputs): Record<string, unknown> {
    const credentials =
        inputs.sourceUsername !== undefined && inputs.sourcePassword !== undefined
            ? { credentials: { username: inputs.sourceUsername, password: inputs.sourcePassword } }
            : {};
    return {
        source: { registryUri: inputs.sourceRegistry, sourceImage: inputs.sourceImage, ...credentials },
        ...(inputs.targetTag !== undefined
            ? { targetTags: [`${inputs.targetRepository}:${inputs.targetTag}`] }
            : { untaggedTargetRepositories: [inputs.targetRepository] }),
        // Force: a re-run of the same import (a replaced resource, a re-created stack) overwrites the tag
        // with the same content instead of failing on it.
        mode: "Force",
    };
}

/** Calls importImage and waits for the long-running operation to finish. */
export async function importImage(inputs: AcrImportInputs, pollMs = 5000, maxPolls = 360): Promise<void> {
    const headers = { Authorization: `Bearer ${inputs.armToken}`, "Content-Type": "application/json" };
    const url = `${ARM}${inputs.registryId}/importImage?api-version=${IMPORT_API_VERSION}`;
    const started = await fetch(url, { method: "POST", headers, body: JSON.stringify(importImageBody(inputs)) });
    const what = `import of ${inputs.sourceRegistry}/${inputs.sourceImage} into ${inputs.registryId}`;
    if (started.status === 200) return;
    if (started.status !== 202) throw new Error(`${what} failed (${started.status}): ${await started.text()}`);
    const location = started.headers.get("location") ?? started.headers.get("azure-asyncoperation");
    if (!location) throw new Error(`${what}: 202 without a Location to poll`);
    for (let poll = 0; poll < maxPolls; poll++) {
        await new Promise((resolve) => setTimeout(resolve, pollMs));
        const status = await fetch(location, { headers });
        if (status.status === 202) continue;
        if (status.status === 200 || status.status === 204) {
            // An Azure-AsyncOperation document carries its own status; a Location poll is done at 200.
            const text = await status.text();
            const state = text ? ((JSON.parse(text) as { status?: string }).status ?? "Succeeded") : "Succeeded";
            if (state === "Succeeded") return;
            if (state === "InProgress" || state === "Running") continue;
            throw new Error(`${what} ended ${state}: ${text}`);
        }
        throw new Error(`${what} failed (${status.status}): ${await status.text()}`);
    }
    throw new Error(`${what} did not finish in ${(pollMs * maxPolls) / 1000} s`);
}

/** The state kept: the inputs without the tokens. */
function stateOf(inputs: AcrImportInputs): Omit<AcrImportInputs, "armToken" | "sourcePassword"> {
    const outs: Record<string, unknown> = { ...inputs };
    delete outs.armToken;
    delete outs.sourcePassword;
    return outs as unknown as Omit<AcrImportInputs, "armToken" | "sourcePassword">;
}

/** Fields whose change means a new import; the tokens are left out (they change every run). */
const DIFFED = ["registryId", "sourceRegistry", "sourceImage", "targetRepository", "targetTag", "sourceUsername"] as const;

/** The dynamic provider: create and update import; delete leaves the image to the registry. */
export const acrImportProvider: pulumi.dynamic.ResourceProvider = {
    async diff(_id: string, olds: AcrImportInputs, news: AcrImportInputs) {
        const changed = DIFFED.filter((key) => olds[key] !== news[key]);
        return { changes: changed.length > 0, replaces: changed.includes("registryId") ? ["registryId"] : [] };
    },
    async create(inputs: AcrImportInputs) {
        await importImage(inputs);
        return { id: `${inputs.registryId}/repositories/${inputs.targetRepository}`, outs: stateOf(inputs) };
    },
    async update(_id: string, _olds: AcrImportInputs, news: AcrImportInputs) {
        await importImage(news);
        return { outs: stateOf(news) };
    },
    async delete() {
        // Nothing: the image is deleted with its registry; removing it earlier would break running pods.
    },
};

export type AcrImportArgs = { readonly [K in keyof AcrImportInputs]: pulumi.Input<AcrImportInputs[K]> };

/** One image imported into the stack's registry. */
export class AcrImport extends pulumi.dynamic.Resource {
    /** The target repository, once imported (the SDK assigns each input's output by name). */
    declare readonly targetRepository: pulumi.Output<string>;

    constructor(name: string, args: AcrImportArgs, opts?: pulumi.CustomResourceOptions) {
        super(acrImportProvider, name, { ...args }, { ...opts, additionalSecretOutputs: ["sourcePassword", "armToken"] });
    }
}
