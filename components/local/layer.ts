// The local layer: what a stack without Azure (environment local) stands on in place of the Azure
// layer. An existing cluster from the kubeconfig, and generated values where Key Vault would hold them.
// It creates no Azure resource and calls no Azure API.
import type { PlatformConfig } from "../config";
import type { ClusterFoundation, KubernetesSecrets } from "../foundation";
import { ExistingCluster } from "./existingCluster";
import { LocalSecrets } from "./localSecrets";

export interface LocalLayer extends ClusterFoundation {
    readonly cluster: ExistingCluster;
    readonly secrets: KubernetesSecrets;
}

export function createLocalLayer(cfg: PlatformConfig): LocalLayer {
    const cluster = new ExistingCluster("local", { context: cfg.kubeconfigContext });
    const generated = new LocalSecrets("local-secrets", {
        ingressHost: cfg.ingress.host,
        environment: cfg.environment,
        ingressTls: cfg.ingress.tls,
    });
    return {
        cluster,
        provider: cluster.provider,
        secrets: { kind: "kubernetes", appSecretValues: generated.appSecretValues, ingressTls: generated.ingressTls },
        mongoRootPassword: generated.mongoRootPassword,
    };
}
