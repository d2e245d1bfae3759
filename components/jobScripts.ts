// The shell scripts the program's Jobs run live in scripts/ (checked with shellcheck there), never as
// strings in TypeScript. A Job mounts a ConfigMap holding its script and the lib.sh it sources.
// Beside them, the container helpers the platform and workloads layers share (workloads may import
// platform, platform never imports workloads, so shared helpers live here, above both).
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";

export const SCRIPTS_DIR = path.join(__dirname, "..", "scripts");
/** The helpers (log, retry) every Job script sources from its own directory. */
const SCRIPT_LIB = "lib.sh";

/** ConfigMap data for the Job script `file` of scripts/: the script and lib.sh, read at deploy time. */
export function jobScriptFiles(file: string): Record<string, string> {
    const read = (name: string) => fs.readFileSync(path.join(SCRIPTS_DIR, name), "utf8");
    return { [file]: read(file), [SCRIPT_LIB]: read(SCRIPT_LIB) };
}

/**
 * Annotations every Job of the program carries. pulumi-kubernetes replaces a Job whose live object is
 * not Complete (failed, or still running) only when this annotation is "true"; without it the next
 * `pulumi up` waits on the same failed Job again (pulumi/pulumi-kubernetes
 * provider/pkg/provider/provider.go, Diff: `metadata.ReplaceUnready`).
 */
export const JOB_ANNOTATIONS = { "pulumi.com/replaceUnready": "true" } as const;

/**
 * On a failed exit the kubelet copies the container's last log lines into its termination message;
 * pulumi-kubernetes' pod checker puts a container's termination message into the error it reports
 * for a failing Job (provider/pkg/await/checker/pod/check.go, containerLastTerminationState). So a
 * failed `pulumi up` names the cause, not only "BackoffLimitExceeded".
 */
export const JOB_CONTAINER_DEFAULTS = { terminationMessagePolicy: "FallbackToLogsOnError" } as const;

/** The pod security context of the Jobs that run a script as a non-root user (any UID runs the CLIs). */
export const JOB_POD_SECURITY_CONTEXT: k8s.types.input.core.v1.PodSecurityContext = {
    runAsNonRoot: true,
    runAsUser: 1000,
    runAsGroup: 1000,
    fsGroup: 1000,
    seccompProfile: { type: "RuntimeDefault" },
};

/** Their containers' security context: nothing to escalate to, a read-only root filesystem. */
export const JOB_CONTAINER_SECURITY_CONTEXT: k8s.types.input.core.v1.SecurityContext = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
};

type EnvVar = k8s.types.input.core.v1.EnvVar;
type VolumeMount = k8s.types.input.core.v1.VolumeMount;

/**
 * A container that runs one phase of the Job script `file` (scripts/), mounted from its ConfigMap at
 * /scripts: /work hands output from one phase to the next, /tmp holds HOME and the Azure CLI's config,
 * so the root filesystem stays read-only. Pair it with scriptVolumes.
 */
export function scriptPhase(
    file: string,
    phase: string,
    image: pulumi.Input<string>,
    env: EnvVar[],
    extraMounts: VolumeMount[] = [],
): k8s.types.input.core.v1.Container {
    return {
        name: phase,
        image,
        command: ["/bin/sh", `/scripts/${file}`, phase],
        ...JOB_CONTAINER_DEFAULTS,
        env: [
            { name: "WORK_DIR", value: "/work" },
            { name: "HOME", value: "/tmp" },
            { name: "AZURE_CONFIG_DIR", value: "/tmp/.azure" },
            { name: "TMPDIR", value: "/tmp" },
            ...env,
        ],
        volumeMounts: [
            { name: "script", mountPath: "/scripts", readOnly: true },
            { name: "work", mountPath: "/work" },
            { name: "tmp", mountPath: "/tmp" },
            ...extraMounts,
        ],
        // The Azure CLI (Python) is the hungriest of the images these phases run.
        resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
        securityContext: JOB_CONTAINER_SECURITY_CONTEXT,
    };
}

/** The volumes scriptPhase mounts: the script's ConfigMap, /work in memory (it may hold secrets), /tmp. */
export function scriptVolumes(configMapName: pulumi.Input<string>, workSizeLimit: string): k8s.types.input.core.v1.Volume[] {
    return [
        { name: "script", configMap: { name: configMapName, defaultMode: 0o555 } },
        { name: "work", emptyDir: { medium: "Memory", sizeLimit: workSizeLimit } },
        { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
    ];
}

/**
 * The env entry `name` read from key `key` of the Secret `secretName` (valueFrom.secretKeyRef): the
 * value stays in the Secret, never in the pod spec. Generic so plain strings stay plain (Helm values).
 */
export function secretEnv<S extends pulumi.Input<string>, K extends pulumi.Input<string>>(name: string, secretName: S, key: K) {
    return { name, valueFrom: { secretKeyRef: { name: secretName, key } } };
}
