// MeshTrafficPolicy on its own under the mocks: every value of the guide's routes, destination rules and
// authorization policies. The Gateway they bind to is the platform's (tests/platform.test.ts).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { appNamespace } from "../components/config";
import { ISTIO_VERSION } from "../components/platform/charts";
import { MeshTrafficPolicy, type MeshTrafficPolicyArgs } from "../components/workloads/trafficPolicy";
import { evaluate, type Registration, type StackRun, TEST_KUBECONFIG as KUBECONFIG } from "./harness";

const CR = (kind: string) =>
    `kubernetes:${kind.startsWith("AuthorizationPolicy") ? "security.istio.io" : "networking.istio.io"}/v1:${kind}`;
const T = {
    provider: "pulumi:providers:kubernetes",
    component: "aksplatform:workloads:MeshTrafficPolicy",
    gateway: CR("Gateway"),
    virtualService: CR("VirtualService"),
    destinationRule: CR("DestinationRule"),
    authorizationPolicy: CR("AuthorizationPolicy"),
};
const HOST = "shop.example.com";
const GATEWAY_NS = "istio-ingress";
const GATEWAY_SA = "istio-ingressgateway";
const SERVICES = [
    { name: "product-service", prefix: "/api/products" },
    { name: "order-service", prefix: "/api/orders" },
];
const GATEWAY_REF = `${GATEWAY_NS}/public`;

function program(namespace: string, overrides: Partial<MeshTrafficPolicyArgs> = {}) {
    return () => {
        const provider = new k8s.Provider("k8s", { kubeconfig: KUBECONFIG });
        const istiod = new k8s.core.v1.ConfigMap("istiod-stand-in", {}, { provider });
        const policy = new MeshTrafficPolicy("mesh", {
            provider,
            namespace,
            gatewayNamespace: GATEWAY_NS,
            gatewayServiceAccount: pulumi.output(GATEWAY_SA),
            host: HOST,
            gateway: GATEWAY_REF,
            services: SERVICES.map((s) => ({ name: s.name, serviceAccount: s.name, pathPrefix: s.prefix })),
            meshReady: [istiod],
            ...overrides,
        });
        return { virtualServiceName: policy.virtualServiceName };
    };
}

for (const environment of ["dev", "prod"] as const) {
    describe(`MeshTrafficPolicy (${environment})`, () => {
        const namespace = appNamespace(environment);
        let run: StackRun;
        before(async () => {
            run = await evaluate(environment, {}, program(namespace));
        });

        it("creates Istio v1 resources on the explicit provider, under the component, after istiod", () => {
            const provider = run.get(T.provider, "k8s");
            const component = run.get(T.component, "mesh");
            const istiod = run.get("kubernetes:core/v1:ConfigMap", "istiod-stand-in");
            const crs = run.resources.filter((r) => r.parent === component.urn);
            assert.equal(crs.length, 1 + 2 + 2);
            for (const r of crs) {
                assert.equal(r.provider, provider.urn, r.name);
                assert.ok(r.dependencies.includes(istiod.urn), `${r.name} waits for the mesh`);
                assert.match(r.inputs.apiVersion, /^(networking|security)\.istio\.io\/v1$/);
            }
        });

        it("VirtualService: each prefix to its service on port 80 with retries and a 10s timeout", () => {
            const vs = run.get(T.virtualService, "mesh-routes");
            assert.equal(vs.inputs.metadata.namespace, namespace);
            assert.deepEqual(vs.inputs.spec.hosts, [HOST]);
            assert.deepEqual(vs.inputs.spec.gateways, [GATEWAY_REF]);
            assert.deepEqual(
                vs.inputs.spec.http,
                SERVICES.map((s) => ({
                    name: s.name,
                    match: [{ uri: { prefix: s.prefix } }],
                    route: [{ destination: { host: `${s.name}.${namespace}.svc.cluster.local`, port: { number: 80 } } }],
                    retries: { attempts: 3, perTryTimeout: "2s", retryOn: "5xx,reset,connect-failure,refused-stream" },
                    timeout: "10s",
                })),
            );
        });

        for (const s of SERVICES) {
            it(`DestinationRule ${s.name}: connection pool, outlier detection, ISTIO_MUTUAL`, () => {
                const dr = run.get(T.destinationRule, `mesh-${s.name}-destination`);
                assert.equal(dr.inputs.metadata.namespace, namespace);
                assert.equal(dr.inputs.spec.host, `${s.name}.${namespace}.svc.cluster.local`);
                assert.deepEqual(dr.inputs.spec.trafficPolicy, {
                    connectionPool: { tcp: { maxConnections: 100 }, http: { http1MaxPendingRequests: 50, http2MaxRequests: 100 } },
                    outlierDetection: { consecutive5xxErrors: 5, interval: "30s", baseEjectionTime: "30s" },
                    tls: { mode: "ISTIO_MUTUAL" },
                });
            });

            it(`AuthorizationPolicy ${s.name}: ALLOW the gateway GET/POST on /api/*, and only order-service into product-service`, () => {
                const ap: Registration = run.get(T.authorizationPolicy, `mesh-${s.name}-authz`);
                assert.equal(ap.inputs.metadata.namespace, namespace);
                const gateway = {
                    from: [{ source: { principals: [`cluster.local/ns/${GATEWAY_NS}/sa/${GATEWAY_SA}`] } }],
                    to: [{ operation: { methods: ["GET", "POST"], paths: ["/api/*"] } }],
                };
                // Issue 21: order-service looks products up (GET /api/products/{id}) on the container port 8080
                // (charts/microservice values.yaml containerPort); no other service-to-service call exists.
                const orderServiceLooksUpProducts = {
                    from: [{ source: { principals: [`cluster.local/ns/${namespace}/sa/order-service`] } }],
                    to: [{ operation: { methods: ["GET"], paths: ["/api/products/*"], ports: ["8080"] } }],
                };
                assert.deepEqual(ap.inputs.spec, {
                    selector: { matchLabels: { "app.kubernetes.io/name": s.name } },
                    action: "ALLOW",
                    rules: s.name === "product-service" ? [gateway, orderServiceLooksUpProducts] : [gateway],
                });
            });
        }
    });
}

describe("MeshTrafficPolicy: the platform's Gateway", () => {
    it("creates no Gateway of its own and routes through the given one", async () => {
        const run = await evaluate("dev", {}, program("microservices-dev", { gateway: "istio-ingress/other" }));
        assert.equal(run.ofType(T.gateway).length, 0);
        assert.deepEqual(run.get(T.virtualService, "mesh-routes").inputs.spec.gateways, ["istio-ingress/other"]);
    });
});

describe("MeshTrafficPolicy: assumptions it relies on", () => {
    it("the pinned Istio serves the v1 APIs (1.22 or later)", () => {
        const [major, minor] = ISTIO_VERSION.split(".").map(Number);
        assert.ok(major > 1 || (major === 1 && minor >= 22), ISTIO_VERSION);
    });

    it("the chart labels pods with app.kubernetes.io/name, which the policies select", () => {
        const helpers = fs.readFileSync(path.join(__dirname, "..", "charts", "microservice", "templates", "_helpers.tpl"), "utf8");
        assert.match(helpers, /app\.kubernetes\.io\/name: \{\{ include "microservice\.name" \. \}\}/);
    });
});
