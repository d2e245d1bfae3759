import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { SERVICE_PORT } from "./microservice";

/**
 * Istio's v1 APIs, served since Istio 1.22 (networking: Gateway, VirtualService, DestinationRule;
 * security: AuthorizationPolicy). The platform pins a newer Istio (ISTIO_VERSION in platform/charts.ts).
 */
export const ISTIO_NETWORKING_API = "networking.istio.io/v1";
export const ISTIO_SECURITY_API = "security.istio.io/v1";

/** The pod label the ingress gateway's pods carry and a Gateway selects them by. */
export const INGRESS_GATEWAY_LABELS = { istio: "ingressgateway" } as const;

/** One service behind the gateway. */
export interface MeshService {
    /** Kubernetes Service name (also the chart's app.kubernetes.io/name pod label), e.g. product-service. */
    readonly name: string;
    /** Service account its pods run as: its mesh identity. */
    readonly serviceAccount: string;
    /** Path prefix the gateway routes to it, e.g. /api/products. */
    readonly pathPrefix: string;
}

/** The lab's two services and their routes. */
export const DEFAULT_MESH_SERVICES: readonly MeshService[] = [
    { name: "product-service", serviceAccount: "product-service", pathPrefix: "/api/products" },
    { name: "order-service", serviceAccount: "order-service", pathPrefix: "/api/orders" },
];

/** Retries and timeout of each route, from the guide. */
export const ROUTE_RESILIENCE = {
    retries: { attempts: 3, perTryTimeout: "2s", retryOn: "5xx,reset,connect-failure,refused-stream" },
    timeout: "10s",
} as const;

/** Connection pool, outlier detection and mTLS of each service's DestinationRule. */
export const DESTINATION_TRAFFIC_POLICY = {
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
    /** Host name served over HTTPS. */
    readonly host: pulumi.Input<string>;
    /** kubernetes.io/tls Secret in gatewayNamespace holding the certificate (the Gateway's credentialName). */
    readonly tlsSecretName: pulumi.Input<string>;
    /**
     * An existing Gateway (`<namespace>/<name>`) to bind the routes to instead of creating one. Default:
     * none, a Gateway `<name>-gateway` is created in gatewayNamespace.
     */
    readonly existingGateway?: pulumi.Input<string>;
    /** Services, their accounts and routes. Default: product-service on /api/products, order-service on /api/orders. */
    readonly services?: readonly MeshService[];
    /** The mesh's trust domain, the first segment of SPIFFE principals. Default: cluster.local. */
    readonly trustDomain?: string;
    /** HTTP methods the AuthorizationPolicies allow. Default: GET and POST. */
    readonly allowedMethods?: readonly string[];
    /** Paths the AuthorizationPolicies allow. Default: /api/*. */
    readonly allowedPaths?: readonly string[];
    /** What must exist first, e.g. a serving istiod (its webhook validates these resources). Default none. */
    readonly meshReady?: readonly pulumi.Resource[];
}

/** The in-cluster host name of a Service. */
const fqdn = (service: string, namespace: pulumi.Input<string>) => pulumi.interpolate`${service}.${namespace}.svc.cluster.local`;

/**
 * The guide's mesh traffic policy for the services: an HTTPS Gateway on the ingress gateway with an
 * HTTP-to-HTTPS redirect, a VirtualService routing each path prefix with retries and a timeout, a
 * DestinationRule per service (connection pool, outlier detection, Istio mTLS), and an
 * AuthorizationPolicy per service that admits only the ingress gateway and the services themselves.
 */
export class MeshTrafficPolicy extends pulumi.ComponentResource {
    /** `<namespace>/<name>` of the Gateway the routes are bound to. */
    readonly gatewayRef: pulumi.Output<string>;
    /** Name of the VirtualService. */
    readonly virtualServiceName: pulumi.Output<string>;

    constructor(name: string, args: MeshTrafficPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:workloads:MeshTrafficPolicy", name, {}, opts);
        const child = { parent: this, provider: args.provider, dependsOn: [...(args.meshReady ?? [])] };
        const services = args.services ?? DEFAULT_MESH_SERVICES;
        const trustDomain = args.trustDomain ?? "cluster.local";

        let gatewayRef: pulumi.Output<string>;
        if (args.existingGateway !== undefined) {
            gatewayRef = pulumi.output(args.existingGateway);
        } else {
            const gateway = new k8s.apiextensions.CustomResource(
                `${name}-gateway`,
                {
                    apiVersion: ISTIO_NETWORKING_API,
                    kind: "Gateway",
                    metadata: { name: `${name}-gateway`, namespace: args.gatewayNamespace },
                    spec: {
                        selector: INGRESS_GATEWAY_LABELS,
                        servers: [
                            {
                                port: { number: 443, name: "https", protocol: "HTTPS" },
                                hosts: [args.host],
                                // credentialName is looked up in the gateway pods' namespace.
                                tls: { mode: "SIMPLE", credentialName: args.tlsSecretName },
                            },
                            {
                                port: { number: 80, name: "http", protocol: "HTTP" },
                                hosts: [args.host],
                                tls: { httpsRedirect: true },
                            },
                        ],
                    },
                },
                child,
            );
            gatewayRef = pulumi.interpolate`${gateway.metadata.namespace}/${gateway.metadata.name}`;
        }

        const virtualService = new k8s.apiextensions.CustomResource(
            `${name}-routes`,
            {
                apiVersion: ISTIO_NETWORKING_API,
                kind: "VirtualService",
                metadata: { name: `${name}-routes`, namespace: args.namespace },
                spec: {
                    hosts: [args.host],
                    gateways: [gatewayRef],
                    http: services.map((s) => ({
                        name: s.name,
                        match: [{ uri: { prefix: s.pathPrefix } }],
                        route: [{ destination: { host: fqdn(s.name, args.namespace), port: { number: SERVICE_PORT } } }],
                        retries: { ...ROUTE_RESILIENCE.retries },
                        timeout: ROUTE_RESILIENCE.timeout,
                    })),
                },
            },
            child,
        );

        const principal = (namespace: pulumi.Input<string>, account: pulumi.Input<string>) =>
            pulumi.interpolate`${trustDomain}/ns/${namespace}/sa/${account}`;
        const principals = [
            principal(args.gatewayNamespace, args.gatewayServiceAccount),
            ...services.map((s) => principal(args.namespace, s.serviceAccount)),
        ];

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
                        rules: [
                            {
                                from: [{ source: { principals } }],
                                to: [
                                    {
                                        operation: {
                                            methods: [...(args.allowedMethods ?? ["GET", "POST"])],
                                            paths: [...(args.allowedPaths ?? ["/api/*"])],
                                        },
                                    },
                                ],
                            },
                        ],
                    },
                },
                child,
            );
        }

        this.gatewayRef = gatewayRef;
        this.virtualServiceName = virtualService.metadata.name;
        this.registerOutputs({ gatewayRef: this.gatewayRef, virtualServiceName: this.virtualServiceName });
    }
}
