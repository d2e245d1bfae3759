// Issue 22 item 3: the cluster's Azure Policy assignments, and nothing the program deploys is denied by
// one of them. The rules below are written from the sources, not from components/azure/clusterPolicy.ts:
// Azure/azure-policy built-in-policies (PSPRestrictedStandard.json's parameters for each member policy;
// ContainerAllowedImages.json, LoadbalancerNoPublicIPs.json, ContainerResourceLimits.json) and the
// Gatekeeper templates they run (open-policy-agent/gatekeeper-library pod-security-policy/*: a
// MustRunAs group rule refuses a missing field; allow-privilege-escalation refuses an unset field).
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import { MICROSERVICE_CHART_DIR } from "../components/workloads/microservice";
import { evaluateStack, TUNED, type StackRun } from "./harness";
import { sharedHelm, HELM_KUBE_VERSION, helmEnv } from "./helm";

const ASSIGNMENT = "azure-native:authorization:PolicyAssignment";
/** IDs copied from Azure/azure-policy (each file's `name`). */
const BUILT_IN = {
    restricted: "/providers/Microsoft.Authorization/policySetDefinitions/42b8ef37-b724-4e24-bbc8-7a7708edfe00",
    images: "/providers/Microsoft.Authorization/policyDefinitions/febd0533-8e55-448f-b837-bd0e06f16469",
    internalLb: "/providers/Microsoft.Authorization/policyDefinitions/3fc4dc25-5baf-40d8-9b05-7fe74c1bc64e",
    limits: "/providers/Microsoft.Authorization/policyDefinitions/e345eecc-fa47-480f-9e88-67dcc122b164",
} as const;
type Policy = keyof typeof BUILT_IN;

// PSPRestrictedStandard.json: ContainerCapabilities' allowedCapabilities default, AllowedVolumeTypes' list.
const ALLOWED_CAPABILITIES = new Set([
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
]);
const ALLOWED_VOLUMES = new Set([
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
]);
const inRange = (n: unknown) => typeof n === "number" && n >= 1 && n <= 65535;

/** What the restricted initiative refuses in one pod spec. */
function restrictedProblems(pod: any): string[] {
    const p: string[] = [];
    const psc = pod.securityContext ?? {};
    if (pod.hostNetwork || pod.hostPID || pod.hostIPC) p.push("host namespaces");
    for (const v of pod.volumes ?? []) {
        const type = Object.keys(v).find((k) => k !== "name");
        if (!type || !ALLOWED_VOLUMES.has(type)) p.push(`volume ${v.name} of type ${type}`);
    }
    if (!inRange(psc.fsGroup)) p.push("fsGroup not in 1-65535");
    if (!Array.isArray(psc.supplementalGroups) || psc.supplementalGroups.length === 0 || !psc.supplementalGroups.every(inRange))
        p.push("supplementalGroups not set in 1-65535");
    for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
        const sc = c.securityContext ?? {};
        const field = (k: string) => (sc[k] !== undefined ? sc[k] : psc[k]);
        if (sc.privileged) p.push(`${c.name}: privileged`);
        if (sc.allowPrivilegeEscalation !== false) p.push(`${c.name}: allowPrivilegeEscalation not false`);
        for (const cap of sc.capabilities?.add ?? []) if (!ALLOWED_CAPABILITIES.has(cap)) p.push(`${c.name}: adds ${cap}`);
        const user = field("runAsUser");
        if (!(field("runAsNonRoot") === true || (user !== undefined && user !== 0)) || user === 0) p.push(`${c.name}: may run as root`);
        if (!inRange(field("runAsGroup"))) p.push(`${c.name}: runAsGroup not in 1-65535`);
        if (field("seccompProfile")?.type !== "RuntimeDefault") p.push(`${c.name}: seccomp not runtime/default`);
        for (const port of c.ports ?? []) if (port.hostPort) p.push(`${c.name}: hostPort`);
    }
    return p;
}

/** What the limits policy refuses: a container without both limits, or above the assignment's caps. */
function limitProblems(pod: any, caps: { cpu: string; memory: string }): string[] {
    const cpu = (q: string) => (q.endsWith("m") ? Number(q.slice(0, -1)) / 1000 : Number(q));
    const mem = (q: string) => {
        const units: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };
        const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(q);
        return m ? Number(m[1]) * (m[2] ? units[m[2]] : 1) : NaN;
    };
    const p: string[] = [];
    for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
        const l = c.resources?.limits ?? {};
        if (l.cpu === undefined || l.memory === undefined) p.push(`${c.name}: no cpu and memory limits`);
        else if (!(cpu(String(l.cpu)) <= cpu(caps.cpu)) || !(mem(String(l.memory)) <= mem(caps.memory)))
            p.push(`${c.name}: above the caps`);
    }
    return p;
}

/** Pod templates of the workload kinds the program registers. */
function podSpecOf(kind: string, spec: any): any {
    if (kind === "Pod") return spec;
    if (kind === "CronJob") return spec.jobTemplate.spec.template.spec;
    return spec.template.spec;
}

for (const stack of ["dev", "prod"] as const) {
    const prod = stack === "prod";
    describe(`Azure Policy on the cluster (${stack}, add-on on)`, function () {
        this.timeout(120000);
        let run: StackRun;
        let tmp: string;
        before(async () => {
            run = await evaluateStack(stack, TUNED[stack]);
            tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cluster-policy-"));
        });
        after(() => fs.rmSync(tmp, { recursive: true, force: true }));
        const assignments = () => Object.fromEntries(run.ofType(ASSIGNMENT).map((a) => [a.inputs.policyDefinitionId, a.inputs]));
        const excluded = (policy: Policy): string[] => assignments()[BUILT_IN[policy]].parameters.excludedNamespaces.value;

        it(`assigns the four built-ins with effect ${prod ? "deny" : "audit"}, each exemption with its reason`, () => {
            const a = assignments();
            assert.deepEqual(Object.keys(a).sort(), Object.values(BUILT_IN).sort());
            const scope = run.get("azure-native:containerservice:ManagedCluster", "aks").id;
            for (const [policy, id] of Object.entries(BUILT_IN)) {
                assert.equal(a[id].scope, scope, policy);
                assert.equal(a[id].parameters.effect.value, prod ? "deny" : "audit", policy);
                assert.equal(a[id].enforcementMode, "Default");
                for (const ns of ["kube-system", "gatekeeper-system"]) assert.ok(a[id].parameters.excludedNamespaces.value.includes(ns));
                // Every exempt namespace beyond the built-in defaults is named, with a reason, in the description.
                for (const ns of a[id].parameters.excludedNamespaces.value.slice(4))
                    assert.match(a[id].description, new RegExp(`${ns}: \\S+`), `${policy}: ${ns} has a reason`);
            }
            assert.equal(a[BUILT_IN.limits].parameters.cpuLimit.value, "4");
            assert.equal(a[BUILT_IN.limits].parameters.memoryLimit.value, "8Gi");
        });

        it("exempts the application namespace from nothing (the CNI agent replaced istio-init)", () => {
            for (const policy of Object.keys(BUILT_IN) as Policy[])
                assert.ok(!excluded(policy).includes(`microservices-${stack}`), `${policy} applies to the application namespace`);
        });

        it("denies nothing the program registers: every pod template (and the services' chart, rendered) passes each policy that applies", () => {
            const regex = new RegExp(assignments()[BUILT_IN.images].parameters.allowedContainerImagesRegex.value);
            const caps = { cpu: "4", memory: "8Gi" };
            const pods: { where: string; namespace: string; pod: any }[] = [];
            for (const kind of ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"]) {
                for (const r of run.ofType(
                    `kubernetes:${kind === "CronJob" || kind === "Job" ? "batch" : kind === "Pod" ? "core" : "apps"}/v1:${kind}`,
                ))
                    pods.push({ where: `${kind} ${r.name}`, namespace: r.inputs.metadata.namespace, pod: podSpecOf(kind, r.inputs.spec) });
            }
            // The services' releases of the local chart, rendered with exactly the values the program passes.
            const helmBin = sharedHelm();
            for (const r of run
                .ofType("kubernetes:helm.sh/v3:Release")
                .filter((x) => path.resolve(x.inputs.chart) === MICROSERVICE_CHART_DIR)) {
                const values = path.join(tmp, `${r.inputs.name}.json`);
                fs.writeFileSync(values, JSON.stringify(r.inputs.values));
                const out = execFileSync(
                    helmBin,
                    [
                        "template",
                        r.inputs.name,
                        MICROSERVICE_CHART_DIR,
                        "-n",
                        r.inputs.namespace,
                        "-f",
                        values,
                        "--kube-version",
                        HELM_KUBE_VERSION,
                    ],
                    { env: helmEnv(tmp), encoding: "utf8" },
                );
                for (const doc of parseAllDocuments(out).map((d) => d.toJS()))
                    if (doc?.kind === "Deployment")
                        pods.push({ where: `chart ${r.inputs.name}`, namespace: r.inputs.namespace, pod: doc.spec.template.spec });
            }
            assert.ok(
                pods.filter((p) => p.namespace === `microservices-${stack}`).length >= 4,
                JSON.stringify(pods.map((p) => [p.where, p.namespace])),
            );
            const problems: string[] = [];
            for (const { where, namespace, pod } of pods) {
                if (!excluded("restricted").includes(namespace))
                    problems.push(...restrictedProblems(pod).map((x) => `${where} (${namespace}) restricted: ${x}`));
                if (!excluded("limits").includes(namespace)) problems.push(...limitProblems(pod, caps).map((x) => `${where} limits: ${x}`));
                if (!excluded("images").includes(namespace))
                    for (const c of [...(pod.initContainers ?? []), ...pod.containers])
                        if (!regex.test(c.image)) problems.push(`${where}: image ${c.image} is not allowed`);
            }
            // Services: a LoadBalancer outside an exempt namespace must be internal.
            for (const s of run.ofType("kubernetes:core/v1:Service"))
                if (s.inputs.spec?.type === "LoadBalancer" && !excluded("internalLb").includes(s.inputs.metadata.namespace))
                    if (s.inputs.metadata.annotations?.["service.beta.kubernetes.io/azure-load-balancer-internal"] !== "true")
                        problems.push(`Service ${s.name} is a public load balancer`);
            assert.deepEqual(problems, []);
        });

        it("allows the pinned upstream images and the services' repositories, and nothing else", () => {
            const regex = new RegExp(assignments()[BUILT_IN.images].parameters.allowedContainerImagesRegex.value);
            // The services come from the stack's own registry (issue 17 item 5), named by the Registry resource.
            const [registry] = run.ofType("azure-native:containerregistry:Registry");
            const loginServer = `${registry.inputs.registryName.toLowerCase()}.azurecr.io`;
            for (const image of [
                "docker.io/istio/proxyv2:1.29.2",
                "docker.io/hashicorp/vault:1.21.2",
                "ghcr.io/stakater/reloader:v1.4.21",
                "mcr.microsoft.com/azure-cli:2.77.0",
                `${loginServer}/product-service@sha256:${"a".repeat(64)}`,
            ])
                assert.ok(regex.test(image), image);
            for (const image of [
                "nginx:latest",
                "docker.io/library/nginx:1",
                "ghcr.io/evil/product-service:v1",
                "ghcr.io/my-org/product-service:v1.0.0",
                "docker.io/istio-fake/x:1",
                `${loginServer}.evil.example/product-service:v1`,
            ])
                assert.ok(!regex.test(image), image);
        });
    });
}
