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
import { InMemoryStorage, Logger, ORDER_PRICING_DEADLINE_MS, PRODUCT_LOOKUP } from "../services/common/src";
import { orderService } from "../services/order-service/src/orders";
import { productService } from "../services/product-service/src/products";

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

        it("creates Istio v1 resources under the component, after istiod", () => {
            const component = run.get(T.component, "mesh");
            const istiod = run.get("kubernetes:core/v1:ConfigMap", "istiod-stand-in");
            const crs = run.resources.filter((r) => r.parent === component.urn);
            assert.equal(crs.length, 1 + 2 + 2);
            for (const r of crs) {
                assert.ok(r.dependencies.includes(istiod.urn), `${r.name} waits for the mesh`);
                assert.match(r.inputs.apiVersion, /^(networking|security)\.istio\.io\/v1$/);
            }
        });

        it("VirtualService: each prefix to its service on port 80; idempotent methods retried, a POST never replayed", () => {
            const vs = run.get(T.virtualService, "mesh-routes");
            assert.equal(vs.inputs.metadata.namespace, namespace);
            assert.deepEqual(vs.inputs.spec.hosts, [HOST]);
            assert.deepEqual(vs.inputs.spec.gateways, [GATEWAY_REF]);
            const destination = (s: (typeof SERVICES)[number]) => [
                { destination: { host: `${s.name}.${namespace}.svc.cluster.local`, port: { number: 80 } } },
            ];
            // Istio matches HTTP routes in order, first match wins (virtual_service.proto, VirtualService.http):
            // the POST route of a prefix comes before its catch-all.
            assert.deepEqual(
                vs.inputs.spec.http,
                SERVICES.flatMap((s) => [
                    {
                        name: `${s.name}-non-idempotent`,
                        match: [{ uri: { prefix: s.prefix }, method: { exact: "POST" } }],
                        route: destination(s),
                        retries: { attempts: 3, retryOn: "connect-failure,refused-stream" },
                        timeout: "10s",
                    },
                    {
                        name: s.name,
                        match: [{ uri: { prefix: s.prefix } }],
                        route: destination(s),
                        retries: { attempts: 3, perTryTimeout: "2s", retryOn: "5xx,reset,connect-failure,refused-stream" },
                        timeout: "10s",
                    },
                ]),
            );
        });

        it("VirtualService: nothing can replay a POST the service may have processed", () => {
            const vs = run.get(T.virtualService, "mesh-routes");
            for (const s of SERVICES) {
                const routes: any[] = vs.inputs.spec.http;
                const first = routes.find((r) =>
                    r.match.some((m: any) => s.prefix.startsWith(m.uri.prefix) && (!m.method || m.method.exact === "POST")),
                );
                assert.ok(
                    first.match.every((m: any) => m.method?.exact === "POST"),
                    `${s.name}: a POST reaches the POST route first`,
                );
                // A route without `retries` gets Istio's default policy, which retries a 503 answer
                // (istio/istio pilot/pkg/networking/core/route/retry/retry.go): the retries must be explicit.
                assert.ok(first.retries, `${s.name}: explicit retries`);
                // Envoy's retry conditions that never resend a request the service received
                // (envoy docs, router_filter x-envoy-retry-on: connect-failure is a TCP connection failure;
                // REFUSED_STREAM "indicates that a request is safe to retry"). 5xx, reset, gateway-error,
                // retriable-status-codes or a status code would resend a processed POST.
                const conditions = String(first.retries.retryOn).split(",");
                for (const c of conditions) assert.ok(["connect-failure", "refused-stream"].includes(c), `${s.name}: retryOn ${c}`);
                // No per-try timeout: a slow POST is never cut off and sent again.
                assert.equal(first.retries.perTryTimeout, undefined);
            }
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

            it(`AuthorizationPolicy ${s.name}: ALLOW the gateway every documented method on /api/*, and only order-service into product-service`, () => {
                const ap: Registration = run.get(T.authorizationPolicy, `mesh-${s.name}-authz`);
                assert.equal(ap.inputs.metadata.namespace, namespace);
                const gateway = {
                    from: [{ source: { principals: [`cluster.local/ns/${GATEWAY_NS}/sa/${GATEWAY_SA}`] } }],
                    to: [{ operation: { methods: ["GET", "POST", "PUT", "DELETE"], paths: ["/api/*"] } }],
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

describe("MeshTrafficPolicy: the gateway agrees with the services", () => {
    /** The methods of the services' /api routes, from their route tables. */
    function serviceMethods(): Set<string> {
        const context = { env: { PRODUCT_SERVICE_URL: "http://product-service" }, logger: new Logger({}, "error", () => undefined) };
        const storage = new InMemoryStorage();
        const routes = [...productService.routes(storage, context), ...orderService.routes(storage, context)];
        return new Set(routes.filter((r) => r.path.startsWith("/api/")).map((r) => r.method));
    }

    /** The methods docs/services.md's request tables list for /api paths. */
    function documentedMethods(): Set<string> {
        const doc = fs.readFileSync(path.join(__dirname, "..", "docs", "services.md"), "utf8");
        return new Set([...doc.matchAll(/^\| `(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS) \/api\//gm)].map((m) => m[1]));
    }

    it("the gateway may send every method the services serve and the docs list, and no other", async () => {
        const run = await evaluate("dev", {}, program("microservices-dev"));
        for (const ap of run.ofType(T.authorizationPolicy)) {
            const allowed = new Set<string>(ap.inputs.spec.rules[0].to[0].operation.methods);
            assert.deepEqual([...allowed].sort(), [...serviceMethods()].sort(), ap.name);
            assert.deepEqual([...allowed].sort(), [...documentedMethods()].sort(), ap.name);
        }
        assert.deepEqual([...serviceMethods()].sort(), ["DELETE", "GET", "POST", "PUT"]);
    });

    it("order-service prices an order within the time the gateway gives a POST, with room for the write", async () => {
        const run = await evaluate("dev", {}, program("microservices-dev"));
        const post = run.get(T.virtualService, "mesh-routes").inputs.spec.http.find((r: any) => r.name === "order-service-non-idempotent");
        const ms = (d: string) => Number(/^([0-9.]+)s$/.exec(d)?.[1]) * 1000;
        // One POST attempt (no per-try timeout) has the route's whole timeout.
        const postBudget = ms(post.timeout);
        // One product's lookup at its slowest (every attempt timing out, the backoffs between) fits the
        // order's pricing deadline, and the deadline leaves the write (a counter $inc and an insert) at
        // least a few seconds before the gateway gives up and answers 504 to a POST that may yet succeed.
        const worstLookup = PRODUCT_LOOKUP.attempts * PRODUCT_LOOKUP.attemptTimeoutMs + PRODUCT_LOOKUP.backoffMs * (1 + 2);
        assert.equal(PRODUCT_LOOKUP.attempts, 3, "the backoff sum above is for three attempts");
        assert.ok(worstLookup <= ORDER_PRICING_DEADLINE_MS, `${worstLookup} <= ${ORDER_PRICING_DEADLINE_MS}`);
        assert.ok(ORDER_PRICING_DEADLINE_MS + 3000 <= postBudget, `${ORDER_PRICING_DEADLINE_MS} + 3000 <= ${postBudget}`);
        // An idempotent request's attempts fit its route timeout: 1 + attempts requests at most
        // (virtual_service.proto, HTTPRetry.attempts).
        const get = run.get(T.virtualService, "mesh-routes").inputs.spec.http.find((r: any) => r.name === "order-service");
        assert.ok((1 + get.retries.attempts) * ms(get.retries.perTryTimeout) <= ms(get.timeout));
    });
});
