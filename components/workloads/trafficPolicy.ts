import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ISTIO_NETWORKING_API, ISTIO_SECURITY_API } from "../platform/charts";
import { SERVICE_PORT } from "./microservice";
import { SERVICE_CALLS, SERVICE_CONTAINER_PORT } from "./serviceCalls";
// The services' methods and time budgets, imported from their source (a file of plain constants with no
// imports), so the gateway and the services cannot disagree.
import { API_METHODS, GATEWAY_RETRY, GATEWAY_TIMEOUT_MS, METHODS, type Method } from "../../services/common/src/api";

/** One service behind the gateway. */
export interface MeshService {
    /** Kubernetes Service name (also the chart's app.kubernetes.io/name pod label), e.g. product-service. */
    readonly name: string;
    /** Service account its pods run as: its mesh identity. */
    readonly serviceAccount: string;
    /** Path prefix the gateway routes to it, e.g. /api/products. */
    readonly pathPrefix: string;
}

/** An Istio duration (protobuf Duration in YAML: "2s", "1.5s") from milliseconds. */
const duration = (ms: number) => `${ms / 1000}s`;

/** The methods whose requests a proxy may not send again (API_METHODS: not idempotent). */
const NON_IDEMPOTENT_METHODS = METHODS.filter((m) => !API_METHODS[m].idempotent);

/**
 * Retries and timeout of the gateway's routes. The numbers are the services' (services/common/src/api.ts).
 *
 * `attempts` counts retries after the first request; `timeout` bounds the whole, retries included
 * (istio/api networking/v1 virtual_service.proto, HTTPRetry and HTTPRoute.timeout).
 *
 * - idempotent (GET, PUT, DELETE): retried on `5xx,reset,connect-failure,refused-stream`, each attempt
 *   cut after perTryTimeout. `5xx` and `reset` also retry a request the service received and may have
 *   processed (a 5xx answer, a reset or a per-try timeout after it was sent: Envoy's router_filter docs,
 *   x-envoy-retry-on), which is harmless only for these methods.
 * - nonIdempotent (POST): retried only where the request cannot have reached the service. With retryOn
 *   `connect-failure,refused-stream` Envoy retries a connection that failed to open or a stream the
 *   server refused (HTTP/2 REFUSED_STREAM: "indicates that a request is safe to retry"), nothing else
 *   (envoyproxy/envoy source/common/router/retry_state_impl.cc, wouldRetryFromReset). No perTryTimeout:
 *   a slow order is never cut and sent again; it has the whole route timeout, which order-service's
 *   pricing deadline stays inside. An explicit retryOn matters: a route without `retries` gets Istio's
 *   default policy, which retries a 503 answer, and `retries` without retryOn keeps that 503
 *   (istio/istio pilot/pkg/networking/core/route/retry/retry.go, DefaultPolicy and ConvertPolicy).
 */
const ROUTE_RESILIENCE = {
    idempotent: {
        retries: {
            attempts: GATEWAY_RETRY.retries,
            perTryTimeout: duration(GATEWAY_RETRY.perTryTimeoutMs),
            retryOn: "5xx,reset,connect-failure,refused-stream",
        },
        timeout: duration(GATEWAY_TIMEOUT_MS),
    },
    nonIdempotent: {
        retries: { attempts: GATEWAY_RETRY.retries, retryOn: "connect-failure,refused-stream" },
        timeout: duration(GATEWAY_TIMEOUT_MS),
    },
} as const;

/** HTTP methods the gateway may send to the services: every method their routes use (API_METHODS). */
const GATEWAY_METHODS: readonly Method[] = METHODS;

/** Connection pool, outlier detection and mTLS of each service's DestinationRule. */
const DESTINATION_TRAFFIC_POLICY = {
    connectionPool: {
        tcp: { maxConnections: 100 },
        http: { http1MaxPendingRequests: 50, http2MaxRequests: 100 },
    },
    outlierDetection: { consecutive5xxErrors: 5, interval: "30s", baseEjectionTime: "30s" },
    tls: { mode: "ISTIO_MUTUAL" },
} as const;

export interface MeshTrafficPolicyArgs {
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
    /** Namespace of the services, their VirtualService, DestinationRules and AuthorizationPolicies. */
    readonly namespace: pulumi.Input<string>;
    /** Namespace of the ingress gateway (its pods, TLS Secret and the Gateway resource). */
    readonly gatewayNamespace: pulumi.Input<string>;
    /** Service account of the ingress gateway pods: the principal allowed in. */
    readonly gatewayServiceAccount: pulumi.Input<string>;
    /** Host name the routes serve (the Gateway's host). */
    readonly host: pulumi.Input<string>;
    /**
     * The Gateway (`<namespace>/<name>`) the routes bind to: the platform's ingress gateway creates it,
     * with the host's TLS certificate (a second Gateway for the same host and port would conflict).
     */
    readonly gateway: pulumi.Input<string>;
    /** Services, their accounts and routes. */
    readonly services: readonly MeshService[];
    /** The mesh's trust domain, the first segment of SPIFFE principals. Default: cluster.local. */
    readonly trustDomain?: string;
    /** Paths the AuthorizationPolicies allow. Default: /api/*. */
    readonly allowedPaths?: readonly string[];
    /** What must exist first, e.g. a serving istiod (its webhook validates these resources). Default none. */
    readonly meshReady?: readonly pulumi.Resource[];
}

/** The in-cluster host name of a Service. */
const fqdn = (service: string, namespace: pulumi.Input<string>) => pulumi.interpolate`${service}.${namespace}.svc.cluster.local`;

/**
 * The guide's mesh traffic policy for the services, behind the platform's Gateway: a VirtualService
 * routing each path prefix with a timeout, retrying idempotent requests and never replaying a POST, a
 * DestinationRule per service (connection pool, outlier detection, Istio mTLS), and an
 * AuthorizationPolicy per service that admits the ingress gateway and, for each call of SERVICE_CALLS,
 * the calling service's identity with that call's methods and paths on the container port only.
 */
export class MeshTrafficPolicy extends pulumi.ComponentResource {
    /** Name of the VirtualService. */
    readonly virtualServiceName: pulumi.Output<string>;

    constructor(name: string, args: MeshTrafficPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:workloads:MeshTrafficPolicy", name, {}, opts);
        const child = { parent: this, provider: args.provider, dependsOn: [...(args.meshReady ?? [])] };
        const services = args.services;
        const trustDomain = args.trustDomain ?? "cluster.local";

        const virtualService = new k8s.apiextensions.CustomResource(
            `${name}-routes`,
            {
                apiVersion: ISTIO_NETWORKING_API,
                kind: "VirtualService",
                metadata: { name: `${name}-routes`, namespace: args.namespace },
                spec: {
                    hosts: [args.host],
                    gateways: [args.gateway],
                    // Per service, first the methods a replay would repeat (first match wins, in order),
                    // then every other request under the prefix.
                    http: services.flatMap((s) => {
                        const route = [{ destination: { host: fqdn(s.name, args.namespace), port: { number: SERVICE_PORT } } }];
                        return [
                            // (With no such method the route is left out: a route without a match takes everything.)
                            ...(NON_IDEMPOTENT_METHODS.length === 0
                                ? []
                                : [
                                      {
                                          name: `${s.name}-non-idempotent`,
                                          match: NON_IDEMPOTENT_METHODS.map((method) => ({
                                              uri: { prefix: s.pathPrefix },
                                              method: { exact: method },
                                          })),
                                          route,
                                          retries: { ...ROUTE_RESILIENCE.nonIdempotent.retries },
                                          timeout: ROUTE_RESILIENCE.nonIdempotent.timeout,
                                      },
                                  ]),
                            {
                                name: s.name,
                                match: [{ uri: { prefix: s.pathPrefix } }],
                                route,
                                retries: { ...ROUTE_RESILIENCE.idempotent.retries },
                                timeout: ROUTE_RESILIENCE.idempotent.timeout,
                            },
                        ];
                    }),
                },
            },
            child,
        );

        const principal = (namespace: pulumi.Input<string>, account: pulumi.Input<string>) =>
            pulumi.interpolate`${trustDomain}/ns/${namespace}/sa/${account}`;
        const gatewayRule = {
            from: [{ source: { principals: [principal(args.gatewayNamespace, args.gatewayServiceAccount)] } }],
            to: [{ operation: { methods: [...GATEWAY_METHODS], paths: [...(args.allowedPaths ?? ["/api/*"])] } }],
        };
        // A caller's rule: its identity, its methods and paths, and the port the sidecar delivers to
        // (Operation.ports matches destination.port, the workload's port: istio/api
        // security/v1beta1/authorization.proto, message Operation).
        const callerRules = (callee: MeshService) =>
            SERVICE_CALLS.filter((c) => c.to === callee.name).flatMap((c) => {
                const caller = services.find((s) => s.name === c.from);
                if (!caller) return [];
                return [
                    {
                        from: [{ source: { principals: [principal(args.namespace, caller.serviceAccount)] } }],
                        to: [{ operation: { methods: [...c.methods], paths: [...c.paths], ports: [String(SERVICE_CONTAINER_PORT)] } }],
                    },
                ];
            });

        for (const s of services) {
            new k8s.apiextensions.CustomResource(
                `${name}-${s.name}-destination`,
                {
                    apiVersion: ISTIO_NETWORKING_API,
                    kind: "DestinationRule",
                    metadata: { name: s.name, namespace: args.namespace },
                    spec: { host: fqdn(s.name, args.namespace), trafficPolicy: DESTINATION_TRAFFIC_POLICY },
                },
                child,
            );
            // ALLOW: once a workload has an ALLOW policy, requests matching none are denied. Kubelet
            // probes are not affected: Istio rewrites HTTP probes to its agent by default.
            new k8s.apiextensions.CustomResource(
                `${name}-${s.name}-authz`,
                {
                    apiVersion: ISTIO_SECURITY_API,
                    kind: "AuthorizationPolicy",
                    metadata: { name: s.name, namespace: args.namespace },
                    spec: {
                        // The label the microservice chart puts on the pods (its fullname, the service name).
                        selector: { matchLabels: { "app.kubernetes.io/name": s.name } },
                        action: "ALLOW",
                        rules: [gatewayRule, ...callerRules(s)],
                    },
                },
                child,
            );
        }

        this.virtualServiceName = virtualService.metadata.name;
        this.registerOutputs({ virtualServiceName: this.virtualServiceName });
    }
}
