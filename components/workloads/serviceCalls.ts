// Which service calls which, inside the mesh: the one place the program says so. order-service's
// PRODUCT_SERVICE_URL, product-service's AuthorizationPolicy rule for order-service and the
// NetworkPolicy flow between them all derive from SERVICE_CALLS.
import * as pulumi from "@pulumi/pulumi";
import type { ServiceName } from "../config";
import { PORTS } from "../topology";
import { SERVICE_PORT } from "./microservice";

/** The services' container port (charts/microservice values.yaml containerPort): what policies see after the Service's DNAT. */
export const SERVICE_CONTAINER_PORT = PORTS.serviceContainer;

export interface ServiceCall {
    readonly from: ServiceName;
    readonly to: ServiceName;
    /** The environment variable that gives `from` the URL of `to` (read by the service, services/order-service/src/productCatalog.ts). */
    readonly env: string;
    /** HTTP methods `from` uses on `to`. */
    readonly methods: readonly string[];
    /** Paths `from` calls on `to` (AuthorizationPolicy path syntax). */
    readonly paths: readonly string[];
    readonly why: string;
}

/** Every call between the services, and nothing else. */
export const SERVICE_CALLS: readonly ServiceCall[] = [
    {
        from: "order-service",
        to: "product-service",
        env: "PRODUCT_SERVICE_URL",
        methods: ["GET"],
        paths: ["/api/products/*"],
        why: "order-service checks each ordered product and takes its price from product-service",
    },
];

/** A Service's URL inside the cluster: by its name, through the mesh (the sidecar makes it mutual TLS). */
function serviceUrl(service: ServiceName, namespace: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.output(namespace).apply((ns) => serviceAddress(service, ns));
}

/** serviceUrl for a namespace known by name (the GitOps values, tools/gitops.ts). */
function serviceAddress(service: ServiceName, namespace: string): string {
    return `http://${service}.${namespace}.svc.cluster.local:${SERVICE_PORT}`;
}

/** callEnv for a namespace known by name. */
export function callEnvIn(service: ServiceName, present: readonly ServiceName[], namespace: string): Record<string, string> {
    return Object.fromEntries(
        SERVICE_CALLS.filter((c) => c.from === service && present.includes(c.to)).map((c) => [c.env, serviceAddress(c.to, namespace)]),
    );
}

/** The environment `service` needs to reach the services it calls (present ones only). */
export function callEnv(
    service: ServiceName,
    present: readonly ServiceName[],
    namespace: pulumi.Input<string>,
): Record<string, pulumi.Output<string>> {
    return Object.fromEntries(
        SERVICE_CALLS.filter((c) => c.from === service && present.includes(c.to)).map((c) => [c.env, serviceUrl(c.to, namespace)]),
    );
}
