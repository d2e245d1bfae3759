import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ServiceAccountRef } from "../config";
import { WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION } from "./charts";

export interface WorkloadServiceAccountsArgs {
    /** The service accounts: exactly the federated subjects of the identity. */
    readonly serviceAccounts: readonly ServiceAccountRef[];
    /**
     * Client ID of the managed identity they act as. Default: none, plain service accounts (a stack
     * without Azure, where pods read Kubernetes Secrets and have no identity to exchange tokens for).
     */
    readonly clientId?: pulumi.Input<string>;
    /** Namespace name outputs by name, so each account waits for its namespace. */
    readonly namespaces: Readonly<Record<string, pulumi.Input<string>>>;
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
}

/**
 * Service accounts that act as one managed identity through Azure Workload Identity: each is annotated
 * with the identity's client ID. Pods that run as them still need the azure.workload.identity/use label.
 * Without a client ID they are plain service accounts, with the same names.
 */
export class WorkloadServiceAccounts extends pulumi.ComponentResource {
    /** The created accounts, as namespace/name. */
    readonly names: readonly string[];

    constructor(name: string, args: WorkloadServiceAccountsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:platform:WorkloadServiceAccounts", name, {}, opts);

        for (const sa of args.serviceAccounts) {
            const namespace = args.namespaces[sa.namespace];
            if (namespace === undefined)
                throw new pulumi.ResourceError(
                    `service account ${sa.namespace}/${sa.name}: namespace ${sa.namespace} is not created by the platform`,
                    this,
                );
            new k8s.core.v1.ServiceAccount(
                `${name}-${sa.namespace}-${sa.name}`,
                {
                    metadata: {
                        name: sa.name,
                        namespace,
                        annotations: args.clientId === undefined ? {} : { [WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION]: args.clientId },
                    },
                },
                { parent: this, provider: args.provider },
            );
        }

        this.names = args.serviceAccounts.map((sa) => `${sa.namespace}/${sa.name}`);
        this.registerOutputs({ names: this.names });
    }
}

/** The one federated service account a Job of `parent` runs as, in `namespace` (the ref's own namespace name). */
export function jobServiceAccount(
    name: string,
    args: {
        readonly serviceAccount: ServiceAccountRef;
        /** Absent: a plain service account (a Job that acts as no managed identity). */
        readonly clientId?: pulumi.Input<string>;
        readonly namespace: pulumi.Input<string>;
        readonly provider: k8s.Provider;
    },
    parent: pulumi.Resource,
): WorkloadServiceAccounts {
    return new WorkloadServiceAccounts(
        `${name}-sa`,
        {
            serviceAccounts: [args.serviceAccount],
            clientId: args.clientId,
            namespaces: { [args.serviceAccount.namespace]: args.namespace },
            provider: args.provider,
        },
        { parent },
    );
}
