import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { POD_SECURITY_REASON_ANNOTATION, podSecurityLabels, type PodSecurity } from "./podSecurity";

/** One namespace and its labels. */
export interface NamespaceSpec {
    /** Namespace name. */
    readonly name: string;
    /** Labels, e.g. istio-injection: enabled. Default none. */
    readonly labels?: Readonly<Record<string, string>>;
    /** Pod Security Admission level enforced, with the reason where it is below restricted. */
    readonly podSecurity: PodSecurity;
    /**
     * Keep the namespace when the stack is destroyed. Deleting a namespace deletes its volume claims,
     * and AKS's storage classes then delete the disks, whatever the claims' own retainOnDelete says.
     * Default false.
     */
    readonly retainOnDelete?: boolean;
}

export interface NamespacesArgs {
    /** The namespaces to create, each name once. */
    readonly namespaces: readonly NamespaceSpec[];
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
    /** Provider for the retained namespaces: adopts one a re-created stack finds. Default: `provider`. */
    readonly retainedProvider?: k8s.Provider;
}

/** The platform's namespaces. Releases take their names from `names`, which carries the dependency. */
export class Namespaces extends pulumi.ComponentResource {
    /** Each namespace's name as an output of its resource, by name. */
    readonly names: Readonly<Record<string, pulumi.Output<string>>>;

    constructor(name: string, args: NamespacesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:platform:Namespaces", name, {}, opts);

        const names: Record<string, pulumi.Output<string>> = {};
        for (const spec of args.namespaces) {
            if (spec.name in names) throw new pulumi.ResourceError(`namespace ${spec.name} is listed twice`, this);
            const namespace = new k8s.core.v1.Namespace(
                `${name}-${spec.name}`,
                {
                    metadata: {
                        name: spec.name,
                        labels: { ...spec.labels, ...podSecurityLabels(spec.podSecurity, spec.name) },
                        // The exception's reason where an operator reads the level.
                        annotations: spec.podSecurity.reason ? { [POD_SECURITY_REASON_ANNOTATION]: spec.podSecurity.reason } : undefined,
                    },
                },
                {
                    parent: this,
                    provider: spec.retainOnDelete ? (args.retainedProvider ?? args.provider) : args.provider,
                    retainOnDelete: spec.retainOnDelete,
                },
            );
            names[spec.name] = namespace.metadata.name;
        }

        this.names = names;
        this.registerOutputs({ names });
    }

    /** The output name of `namespace`; throws if this component did not create it. */
    name(namespace: string): pulumi.Output<string> {
        const found = this.names[namespace];
        if (!found) throw new pulumi.ResourceError(`namespace ${namespace} is not one of ${Object.keys(this.names).join(", ")}`, this);
        return found;
    }
}
