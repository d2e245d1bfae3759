import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS, IMAGES, pinnedRelease } from "./charts";

/**
 * The keys of the reloader chart's values.yaml (2.2.16, stakater/Reloader
 * deployments/kubernetes/chart/reloader/values.yaml and templates/deployment.yaml) this component sets.
 */
export interface ReloaderValues {
    readonly image: { readonly repository: string; readonly tag: string };
    readonly reloader: {
        /** false with `namespaces`: scoped mode, a Role and RoleBinding per watched namespace, no ClusterRole. */
        readonly watchGlobally: boolean;
        readonly namespaces: readonly pulumi.Input<string>[];
        /** Only Secrets matter here (the synced Key Vault Secret). */
        readonly ignoreConfigMaps: boolean;
        /**
         * `annotations`: a rollout stamps a pod-template annotation instead of adding an env variable,
         * so the Deployment's containers stay exactly what Helm or Argo CD applied.
         */
        readonly reloadStrategy: "annotations";
        /** Mounts an emptyDir for /tmp and sets readOnlyRootFilesystem. */
        readonly readOnlyRootFileSystem: boolean;
        readonly deployment: {
            readonly containerSecurityContext: {
                readonly allowPrivilegeEscalation: boolean;
                readonly capabilities: { readonly drop: readonly string[] };
            };
        };
    };
}

export interface ReloaderArgs {
    /** Namespace Reloader runs in (created by the platform layer). */
    readonly namespace: pulumi.Input<string>;
    /** Namespaces whose annotated workloads it rolls. */
    readonly watchNamespaces: readonly pulumi.Input<string>[];
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
}

/**
 * Stakater Reloader, watching only the given namespaces: a Deployment annotated
 * `secret.reloader.stakater.com/reload: <secret>` is rolled when that Secret's data changes. The Secrets
 * Store CSI driver's rotation updates the synced Secret every poll interval; without a restart, the
 * services' env variables would keep the old value for the pod's lifetime.
 */
export class Reloader extends pulumi.ComponentResource {
    readonly release: k8s.helm.v3.Release;

    constructor(name: string, args: ReloaderArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:platform:Reloader", name, {}, opts);
        const values: ReloaderValues = {
            image: IMAGES.reloader,
            reloader: {
                watchGlobally: false,
                namespaces: args.watchNamespaces,
                ignoreConfigMaps: true,
                reloadStrategy: "annotations",
                readOnlyRootFileSystem: true,
                // With the chart's pod securityContext (non-root 65534, RuntimeDefault seccomp) this meets restricted.
                deployment: { containerSecurityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } },
            },
        };
        this.release = pinnedRelease(
            name,
            CHARTS.reloader,
            { releaseName: "reloader", namespace: args.namespace, values },
            { parent: this, provider: args.provider },
        );
        this.registerOutputs({ release: this.release });
    }
}
