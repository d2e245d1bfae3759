import * as authorization from "@pulumi/azure-native/authorization";
import * as dockerbuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { SERVICE_BUILD_ARG, SERVICE_DOCKERFILE, SERVICE_NAMES, type ServiceName } from "../config/constants";
import type { ImageRef } from "../config/types";
import { AcrImport } from "./acrImport";
import { acrPushCredentials } from "./acrToken";

/** The repository root: the services' build context (their npm workspaces and lockfile are there). */
const REPOSITORY_ROOT = path.resolve(__dirname, "..", "..");

/** An image as the chart takes it: repository and a tag or, to pin the image itself, sha256:<digest>. */
export interface DeployedImage {
    readonly repository: pulumi.Output<string>;
    readonly tag: pulumi.Output<string>;
}

export interface ServiceImagesArgs {
    /** build: built from services/ and pushed here; import: copied here from `sources`. */
    readonly source: "build" | "import";
    /** The stack's registry: its ARM ID and login server (<name>.azurecr.io). */
    readonly registryId: pulumi.Input<string>;
    readonly loginServer: pulumi.Input<string>;
    /** Entra ID tenant of the deployer (the registry token exchange names it). */
    readonly tenantId: pulumi.Input<string>;
    /** The tag a build is pushed under (the environment); it is deployed by digest all the same. */
    readonly buildTag: string;
    /** The CI-built images to import (import), by service. */
    readonly sources?: Readonly<Record<ServiceName, ImageRef>>;
    /** Credentials of the source registry (import), the token a secret. */
    readonly sourceCredentials?: { readonly username: string; readonly token: pulumi.Input<string> };
    /** What a pull waits for (the registry's AcrPull assignment and private endpoint): the images wait too. */
    readonly registryReady: pulumi.Input<pulumi.Resource>[];
}

/** `ghcr.io/my-org/product-service` -> registry ghcr.io, path my-org/product-service. */
function splitRepository(repository: string): { readonly registry: string; readonly path: string } {
    const [first, ...rest] = repository.split("/");
    // A first segment without a dot, colon or "localhost" is a Docker Hub path (distribution/reference).
    if (rest.length === 0 || !(first.includes(".") || first.includes(":") || first === "localhost")) {
        return { registry: "docker.io", path: rest.length === 0 ? `library/${first}` : repository };
    }
    return { registry: first, path: rest.join("/") };
}

const isDigest = (tag: string) => tag.startsWith("sha256:");

/**
 * The services' images in the stack's own registry, which the kubelet identity pulls from (AcrPull,
 * components/azure/registry.ts); the Helm releases take `images` and so wait for them.
 *
 * build: @pulumi/docker-build builds services/Dockerfile (the service as its SERVICE build argument)
 * with the Docker engine where `up` runs, pushes it to the registry with the deployer's Entra ID token
 * (acrToken.ts) and deploys it by digest: a rebuild with the same build context is no change (docker-build
 * diffs a hash of the context, provider/internal/image.go), a changed service is a new digest and so a
 * rollout. Nothing is built during a preview (buildOnPreview off), which therefore needs no Docker engine.
 *
 * import: each CI-built image is copied into the registry by ARM's importImage (acrImport.ts), so a
 * private-only registry never opens a public endpoint; deployed by the same tag, or digest if given one.
 */
export class ServiceImages extends pulumi.ComponentResource {
    /** The image of each service, as the chart takes it. */
    readonly images: Readonly<Record<ServiceName, DeployedImage>>;

    constructor(name: string, args: ServiceImagesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:azure:ServiceImages", name, {}, opts);
        const loginServer = pulumi.output(args.loginServer);
        const images = {} as Record<ServiceName, DeployedImage>;
        if (args.source === "build") {
            const registry = acrPushCredentials(loginServer, args.tenantId, { parent: this });
            for (const service of SERVICE_NAMES) {
                const image = new dockerbuild.Image(
                    `${name}-${service}`,
                    {
                        context: { location: REPOSITORY_ROOT },
                        dockerfile: { location: path.join(REPOSITORY_ROOT, SERVICE_DOCKERFILE) },
                        buildArgs: { [SERVICE_BUILD_ARG]: service },
                        // AKS's node pools run x86-64 VM sizes.
                        platforms: [dockerbuild.Platform.Linux_amd64],
                        push: true,
                        buildOnPreview: false,
                        tags: [pulumi.interpolate`${loginServer}/${service}:${args.buildTag}`],
                        registries: [registry],
                    },
                    { parent: this, dependsOn: args.registryReady },
                );
                images[service] = { repository: pulumi.interpolate`${loginServer}/${service}`, tag: image.digest };
            }
        } else {
            if (!args.sources) throw new pulumi.ResourceError(`${name}: importing needs the source images`, this);
            const armToken = pulumi.secret(authorization.getClientTokenOutput({}, { parent: this }).token);
            for (const service of SERVICE_NAMES) {
                const source = args.sources[service];
                const { registry, path: sourcePath } = splitRepository(source.repository);
                const digest = isDigest(source.tag);
                const imported = new AcrImport(
                    `${name}-${service}`,
                    {
                        registryId: args.registryId,
                        sourceRegistry: registry,
                        sourceImage: digest ? `${sourcePath}@${source.tag}` : `${sourcePath}:${source.tag}`,
                        targetRepository: service,
                        targetTag: digest ? undefined : source.tag,
                        sourceUsername: args.sourceCredentials?.username,
                        sourcePassword: args.sourceCredentials && pulumi.secret(args.sourceCredentials.token),
                        armToken,
                    },
                    { parent: this, dependsOn: args.registryReady },
                );
                // Through the import's output, so that a release waits for its image to be there.
                images[service] = {
                    repository: pulumi.interpolate`${loginServer}/${imported.targetRepository}`,
                    tag: pulumi.output(source.tag),
                };
            }
        }
        this.images = images;
        this.registerOutputs({ images });
    }
}
