// Issue 13: Pod Security Admission on every namespace the program creates, zone spread of the platform's
// replicated pods, and Key Vault rotation reaching the services (Reloader), on the evaluated plans.
import { strict as assert } from "assert";
import { POD_SECURITY_REASON_ANNOTATION, POD_SECURITY_VERSION, podSecurityLabels } from "../components/platform/podSecurity";
import { ARGOCD, evaluateStack, type StackRun } from "./harness";

const NAMESPACE = "kubernetes:core/v1:Namespace";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const release = (run: StackRun, chart: string) => {
    const found = run.ofType(RELEASE).filter((r) => r.inputs.chart === chart);
    assert.equal(found.length, 1, chart);
    return found[0];
};

/** The enforced level per namespace, and why each is not restricted (the exceptions). */
const EXPECTED_ENFORCE: Record<string, { level: string; because?: RegExp }> = {
    "istio-system": { level: "baseline", because: /seccomp/ },
    "istio-cni": { level: "privileged", because: /CNI plugin on each node/ },
    "istio-ingress": { level: "baseline", because: /sysctl/ },
    vault: { level: "baseline", because: /vault-helm/ },
    reloader: { level: "restricted" },
    argocd: { level: "restricted" },
};

for (const stack of ["dev", "prod", "local"] as const) {
    describe(`governance (${stack})`, () => {
        let run: StackRun;
        const appNs = `microservices-${stack}`;
        before(async () => {
            run = await evaluateStack(stack, ARGOCD);
        });

        it("labels every namespace it creates for Pod Security Admission: enforce a level, audit and warn restricted, pinned version", () => {
            const namespaces = run.ofType(NAMESPACE);
            assert.ok(namespaces.length >= 5, `found ${namespaces.length}`);
            for (const ns of namespaces) {
                const name = ns.inputs.metadata.name as string;
                const labels = ns.inputs.metadata.labels as Record<string, string>;
                const reasons = { [name]: ns.inputs.metadata.annotations?.[POD_SECURITY_REASON_ANNOTATION] as string | undefined };
                // Restricted, now that the CNI node agent replaces istio-init (issue 22 item 4).
                const expected = name === appNs ? { level: "restricted" } : EXPECTED_ENFORCE[name];
                assert.ok(expected, `namespace ${name} has no expected level`);
                assert.equal(labels["pod-security.kubernetes.io/enforce"], expected.level, name);
                if (expected.because) assert.match(reasons[name] ?? "", expected.because, `${name}: the reason names the exception`);
                for (const mode of ["audit", "warn"])
                    assert.equal(labels[`pod-security.kubernetes.io/${mode}`], "restricted", `${name} ${mode}`);
                for (const mode of ["enforce", "audit", "warn"])
                    assert.equal(labels[`pod-security.kubernetes.io/${mode}-version`], POD_SECURITY_VERSION, `${name} ${mode}-version`);
            }
            const reloader = namespaces.some((n) => n.inputs.metadata.name === "reloader");
            assert.equal(reloader, stack !== "local", "Reloader only where the CSI driver rotates Key Vault secrets");
        });

        it("refuses an exception without a reason", () => {
            assert.throws(() => podSecurityLabels({ enforce: "baseline" }, "x"), /namespace x: enforce baseline needs a reason/);
            assert.doesNotThrow(() => podSecurityLabels({ enforce: "restricted" }, "x"));
        });

        it("spreads istiod and the gateway across zones in prod only, each selecting its own pods", () => {
            const istiod = release(run, "istiod").inputs.values.topologySpreadConstraints;
            const gateway = release(run, "gateway").inputs.values.topologySpreadConstraints;
            if (stack !== "prod") {
                assert.deepEqual([istiod, gateway], [[], []]);
                return;
            }
            for (const [constraints, selector] of [
                [istiod, { app: "istiod" }],
                [gateway, { istio: "ingressgateway" }],
            ] as const) {
                assert.deepEqual(constraints, [
                    {
                        topologyKey: "topology.kubernetes.io/zone",
                        maxSkew: 1,
                        whenUnsatisfiable: "ScheduleAnyway",
                        labelSelector: { matchLabels: selector },
                    },
                ]);
            }
            // The gateway's selector is the label its chart puts on the pods.
            assert.equal(release(run, "gateway").inputs.values.labels.istio, "ingressgateway");
        });

        if (stack !== "local") {
            it("runs Reloader, scoped to the application namespace, before the services, and the services opt in", async () => {
                const r = release(run, "reloader");
                const values = r.inputs.values.reloader;
                assert.equal(values.watchGlobally, false);
                assert.deepEqual(values.namespaces, [appNs]);
                assert.equal(values.reloadStrategy, "annotations");
                assert.equal(r.inputs.namespace, "reloader");
                // Argo CD deploys the services here: its Applications wait for what the services wait for.
                const evaluated = await evaluateStack(stack);
                const reloader = release(evaluated, "reloader");
                for (const service of ["product-service", "order-service"]) {
                    const rel = evaluated.ofType(RELEASE).find((x) => x.inputs.name === service);
                    assert.ok(rel, service);
                    assert.ok(evaluated.dependsOn(rel.urn, reloader.urn), `${service} waits for Reloader`);
                    assert.equal(rel.inputs.values.secretsStore.restartOnRotation, true);
                    assert.equal(rel.inputs.values.secretsStore.secretName, "keyvault-secrets");
                    assert.equal(rel.inputs.values.podDisruptionBudget.enabled, stack === "prod");
                    assert.equal(rel.inputs.values.zoneSpread.enabled, stack === "prod");
                }
            });
        }
    });
}
