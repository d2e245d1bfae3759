// Pod Security Admission (the built-in admission controller, Kubernetes 1.25+) levels of the namespaces
// this program creates. Each namespace enforces the strictest level its pods pass and audits and warns
// at `restricted`, so a violation of the target level shows in the audit log and in kubectl output
// without blocking a pod that needs the exception named in its `reason`.

/** The Pod Security Standards levels, least to most strict. */
export const POD_SECURITY_LEVELS = ["privileged", "baseline", "restricted"] as const;
export type PodSecurityLevel = (typeof POD_SECURITY_LEVELS)[number];

/**
 * The policy version the levels are checked against. Pinned rather than `latest`, so a cluster upgrade
 * that tightens a standard cannot start rejecting pods on its own; raise it deliberately.
 */
export const POD_SECURITY_VERSION = "v1.33";

/** Namespace annotation carrying why `enforce` is below restricted. */
export const POD_SECURITY_REASON_ANNOTATION = "aks-platform/pod-security-exception";

/** A namespace's Pod Security Admission settings. */
export interface PodSecurity {
    /** Pods violating this level are rejected. */
    readonly enforce: PodSecurityLevel;
    /** Why `enforce` is below restricted; required then (an exception without a reason is a mistake). */
    readonly reason?: string;
}

/** The namespace labels the admission controller reads (kubernetes.io/docs/concepts/security/pod-security-admission). */
export function podSecurityLabels(ps: PodSecurity, namespace: string): Record<string, string> {
    if (ps.enforce !== "restricted" && !ps.reason) throw new Error(`namespace ${namespace}: enforce ${ps.enforce} needs a reason`);
    const labels: Record<string, string> = {};
    for (const mode of ["enforce", "audit", "warn"] as const) {
        labels[`pod-security.kubernetes.io/${mode}`] = mode === "enforce" ? ps.enforce : "restricted";
        labels[`pod-security.kubernetes.io/${mode}-version`] = POD_SECURITY_VERSION;
    }
    return labels;
}

/**
 * Why the Istio CNI node agent's namespace is privileged: its DaemonSet (istio/istio 1.29.2
 * manifests/charts/istio-cni/templates/daemonset.yaml) mounts the node's CNI bin and conf dirs, /proc
 * and /var/run/netns (hostPath) and adds NET_ADMIN and SYS_ADMIN as root, which is what lets the
 * meshed pods themselves run restricted.
 */
export const ISTIO_CNI_REASON =
    "the Istio CNI node agent installs the CNI plugin on each node (hostPath) and programs pod network namespaces (NET_ADMIN, SYS_ADMIN as root), so that meshed pods need neither";
