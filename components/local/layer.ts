// The local layer: what a stack without Azure (environment local) stands on in place of the Azure
// layer. An existing cluster from the kubeconfig, and generated values where Key Vault would hold them.
// It creates no Azure resource and calls no Azure API.
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "../config";
import type { ClusterFoundation, KubernetesSecrets } from "../foundation";
import { layerChildOptions } from "../layer";
import { ExistingCluster } from "./existingCluster";
import { LocalSecrets } from "./localSecrets";

/** The settings the local layer reads (index.ts picks them out of the program's config). */
export const LOCAL_LAYER_CONFIG = ["environment", "kubeconfigContext", "ingress"] as const satisfies readonly (keyof PlatformConfig)[];
export type LocalLayerArgs = Pick<PlatformConfig, (typeof LOCAL_LAYER_CONFIG)[number]>;

/**
 * The existing cluster and the generated secrets, as the foundation of the in-cluster layers. Its
 * children keep the URNs they had as resources of the stack (components/layer.ts).
 */
export class LocalLayer extends pulumi.ComponentResource implements ClusterFoundation {
    readonly cluster: ExistingCluster;
    readonly provider: k8s.Provider;
    readonly secrets: KubernetesSecrets;
    readonly mongoRootPassword: pulumi.Output<string>;

    constructor(name: string, cfg: LocalLayerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:local:Layer", name, {}, opts);
        const child = layerChildOptions(this);
        const cluster = new ExistingCluster("local", { context: cfg.kubeconfigContext }, child);
        const generated = new LocalSecrets(
            "local-secrets",
            {
                ingressHost: cfg.ingress.host,
                environment: cfg.environment,
                ingressTls: cfg.ingress.tls,
            },
            child,
        );
        this.cluster = cluster;
        this.provider = cluster.provider;
        this.secrets = { kind: "kubernetes", appSecretValues: generated.appSecretValues, ingressTls: generated.ingressTls };
        this.mongoRootPassword = generated.mongoRootPassword;
        this.registerOutputs({});
    }
}
