import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS, pinnedRelease } from "./charts";

/** The keys of csi-secrets-store-provider-azure's values.yaml (1.7.2) this component sets. */
export interface SecretsStoreCsiValues {
    readonly "secrets-store-csi-driver": {
        /** Install the driver sub-chart alongside the Azure provider. */
        readonly install: boolean;
        /** Re-read mounted objects on a poll interval and update files and synced Secrets. */
        readonly enableSecretRotation: boolean;
        readonly rotationPollInterval: string;
        /** Allow secretObjects: sync mounted objects into Kubernetes Secrets. */
        readonly syncSecret: { readonly enabled: boolean };
    };
}

export interface SecretsStoreCsiArgs {
    /** Namespace of the driver and provider DaemonSets. Default kube-system. */
    readonly namespace?: pulumi.Input<string>;
    /** Rotation poll interval, e.g. 2m. */
    readonly rotationPollInterval: string;
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
}

/**
 * The Secrets Store CSI driver with the Azure Key Vault provider, from the provider's chart (which
 * bundles the driver), with secret rotation and secret sync on. The driver already requests service
 * account tokens for the api://AzureADTokenExchange audience (chart default `tokenRequests`), which is
 * what lets a SecretProviderClass authenticate as a workload identity.
 */
export class SecretsStoreCsi extends pulumi.ComponentResource {
    /** The Helm release; SecretProviderClasses wait for it (it installs their CRD). */
    readonly release: k8s.helm.v3.Release;
    /** What a SecretProviderClass or a pod mounting one must wait for. */
    readonly ready: pulumi.Resource[];

    constructor(name: string, args: SecretsStoreCsiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:platform:SecretsStoreCsi", name, {}, opts);

        const values: SecretsStoreCsiValues = {
            "secrets-store-csi-driver": {
                install: true,
                enableSecretRotation: true,
                rotationPollInterval: args.rotationPollInterval,
                syncSecret: { enabled: true },
            },
        };
        this.release = pinnedRelease(
            name,
            CHARTS.secretsStoreCsiAzure,
            { releaseName: "csi-secrets-store-provider-azure", namespace: args.namespace ?? "kube-system", values },
            { parent: this, provider: args.provider },
        );

        this.ready = [this.release];
        this.registerOutputs({ release: this.release });
    }
}
