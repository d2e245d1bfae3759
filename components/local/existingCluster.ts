import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface ExistingClusterArgs {
    /**
     * Kubeconfig context of the cluster (kind-kind, k3d-<name>, minikube, microk8s). Default: the
     * kubeconfig's current context at the time of each `pulumi up`.
     */
    readonly context?: string;
}

/**
 * An existing cluster (kind, k3d, minikube, MicroK8s) and the Kubernetes provider every in-cluster
 * resource of a stack without Azure uses. The provider reads the kubeconfig itself (KUBECONFIG, else
 * ~/.kube/config): the program never reads or stores the credentials. It is still an explicit provider,
 * passed to every resource, so the program never falls back to the engine's default provider.
 */
export class ExistingCluster extends pulumi.ComponentResource {
    /** The context the provider uses; undefined for the kubeconfig's current context. */
    readonly context: string | undefined;
    /** Kubernetes provider for this cluster; pass it explicitly to every Kubernetes resource. */
    readonly provider: k8s.Provider;

    constructor(name: string, args: ExistingClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:local:ExistingCluster", name, {}, opts);

        this.provider = new k8s.Provider(`${name}-k8s`, { context: args.context }, { parent: this });
        this.context = args.context;
        this.registerOutputs({ context: this.context, provider: this.provider });
    }
}
