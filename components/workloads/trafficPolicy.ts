import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ISTIO_NETWORKING_API, ISTIO_SECURITY_API } from "../platform/charts";
import { SERVICE_PORT } from "./microservice";
import { SERVICE_CALLS, SERVICE_CONTAINER_PORT } from "./serviceCalls";

/** One service behind the gateway. */
export interface MeshService {
    /** Kubernetes Service name (also the chart's app.kubernetes.io/name pod label), e.g. product-service. */
    readonly name: string;
    /** Service account its pods run as: its mesh identity. */
    readonly serviceAccount: string;
    /** Path prefix the gateway routes to it, e.g. /api/products. */
    readonly pathPrefix: string;
}

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
 * The guide's mesh traffic policy for the services, behind the platform's Gateway: a VirtualService
 * routing each path prefix with retries and a timeout, a
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
        const gatewayRule = {
            from: [{ source: { principals: [principal(args.gatewayNamespace, args.gatewayServiceAccount)] } }],
            to: [{ operation: { methods: [...(args.allowedMethods ?? ["GET", "POST"])], paths: [...(args.allowedPaths ?? ["/api/*"])] } }],
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
