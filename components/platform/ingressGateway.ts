import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ServiceAccountRef } from "../config";
import { zoneSpread, type ZoneSpreadConstraint } from "./availability";
import {
    CHARTS,
    keyVaultMountTimeoutSeconds,
    pinnedRelease,
    SECRETS_STORE_CSI_DRIVER,
    WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION,
    ISTIO_NETWORKING_API,
    WORKLOAD_IDENTITY_USE_LABEL,
} from "./charts";
import { INGRESS_HEALTH_PATH, PORTS, POD_LABELS, RELEASES } from "../topology";
import { KeyVaultSecretProviderClass } from "./secretProviderClass";

/** The label value VirtualServices' Gateways select the ingress gateway pods by (the guide's selector). */
const INGRESS_GATEWAY_SELECTOR = POD_LABELS.ingressGateway;

/** The keys of Istio's gateway chart values (1.29.x) this component sets. */
export interface GatewayValues {
    /**
     * Extra labels on every object and the pod. The chart turns `istio` and `app` into the selector
     * labels instead (default: the release name without "istio-"), so `istio` is set explicitly.
     */
    readonly labels: Readonly<Record<string, string>>;
    readonly serviceAccount: {
        readonly create: boolean;
        readonly name: string;
        readonly annotations: Readonly<Record<string, pulumi.Input<string>>>;
    };
    readonly autoscaling: { readonly enabled: boolean; readonly minReplicas: number; readonly maxReplicas: number };
    /** `{}` renders no PodDisruptionBudget. */
    readonly podDisruptionBudget: { readonly minAvailable?: number };
    readonly service: {
        readonly type: "LoadBalancer" | "NodePort";
        /** The Service's annotations (gateway templates/service.yaml merges them with the top-level `annotations`). */
        readonly annotations?: Readonly<Record<string, string>>;
        /** Rendered only when set (gateway templates/service.yaml `with .Values.service.externalTrafficPolicy`). */
        readonly externalTrafficPolicy?: "Local" | "Cluster";
    };
    /**
     * Extra pod annotations, merged with the chart's own (istio/istio 1.29.2 manifests/charts/gateway
     * values.yaml `podAnnotations`, deep-merged over `_internal_defaults_do_not_set` by the chart's
     * zzz_profile.yaml).
     */
    readonly podAnnotations?: Readonly<Record<string, string>>;
    /** Rendered into the gateway Deployment's pod spec (gateway values.yaml `topologySpreadConstraints`). */
    readonly topologySpreadConstraints: readonly ZoneSpreadConstraint[];
    readonly volumes: readonly object[];
    readonly volumeMounts: readonly object[];
}

/**
 * The gateway's Service. Behind a load balancer, `externalTrafficPolicy: Local`: with Cluster (the
 * chart's default), a request landing on a node without a gateway pod is forwarded with the node's
 * address as its source (cilium/cilium#19010 for Cilium's kube-proxy replacement), and on Azure CNI
 * powered by Cilium a NetworkPolicy's ipBlock can never admit node or pod addresses (AKS docs, "Azure
 * CNI Powered by Cilium", limitations), so that request would be dropped at the gateway's ingress
 * policy. Local keeps the client's address and sends load-balanced traffic only to nodes running a
 * gateway pod. The Azure load balancer's health check keeps working: for a Local Service the cloud
 * provider probes HTTP on the Service's healthCheckNodePort (kubernetes-sigs/cloud-provider-azure
 * pkg/provider/azure_loadbalancer.go, `servicehelpers.NeedsHealthCheck` ->
 * `GetServiceHealthCheckPathPort`), answered by the node's proxy (kube-proxy, or Cilium's replacement)
 * with 200 only where a ready gateway pod runs; the probe comes from the AzureLoadBalancer tag, which
 * the NSGs' default rules admit, and never reaches a pod, so no NetworkPolicy is involved.
 */
function gatewayService(type: GatewayValues["service"]["type"], internal?: InternalLoadBalancer): GatewayValues["service"] {
    if (type !== "LoadBalancer") return { type };
    return internal
        ? { type, externalTrafficPolicy: "Local", annotations: internalLoadBalancerAnnotations(internal) }
        : { type, externalTrafficPolicy: "Local" };
}

/**
 * Proxy hops in front of the gateway behind the ingress WAF: the Application Gateway. Envoy then takes
 * the client's address from X-Forwarded-For (the entry the WAF added) instead of the WAF instance's,
 * for access logs, AuthorizationPolicy `remoteIpBlocks` and the X-Envoy-External-Address header
 * ("Configuring Gateway Network Topology", istio.io docs/ops/configuration/traffic-management/network-topologies:
 * the `proxy.istio.io/config` pod annotation with `gatewayTopology.numTrustedProxies`).
 */
export const GATEWAY_TRUSTED_PROXIES = 1;

/** Where the gateway's internal load balancer takes its frontend address (behind the ingress WAF). */
export interface InternalLoadBalancer {
    /** Subnet of the cluster's VNet holding the frontend. */
    readonly subnetName: string;
    /** The frontend's static address, in that subnet: the Application Gateway's backend. */
    readonly ip: string;
}

/**
 * The annotations that make cloud-provider-azure build an internal load balancer for the Service, in
 * a given subnet, at a given address (kubernetes-sigs/cloud-provider-azure pkg/consts/consts.go:
 * ServiceAnnotationLoadBalancerInternal, ServiceAnnotationLoadBalancerInternalSubnet, and the
 * per-family ServiceAnnotationLoadBalancerIPDualStack[false] that replaces the deprecated
 * spec.loadBalancerIP; AKS docs "Use an internal load balancer", "Specify an IP address").
 */
function internalLoadBalancerAnnotations(lb: InternalLoadBalancer): Record<string, string> {
    return {
        "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
        "service.beta.kubernetes.io/azure-load-balancer-internal-subnet": lb.subnetName,
        "service.beta.kubernetes.io/azure-load-balancer-ipv4": lb.ip,
    };
}

/** The certificate and key in Key Vault, read through the CSI driver as the ingress identity. */
export interface KeyVaultIngressTls {
    readonly kind: "keyvault";
    /** Client ID of the ingress identity (Key Vault Secrets User on the certificate and key secrets). */
    readonly clientId: pulumi.Input<string>;
    /** Entra ID tenant of the Key Vault. */
    readonly tenantId: pulumi.Input<string>;
    /** Key Vault holding the certificate and key. */
    readonly keyVaultName: pulumi.Input<string>;
    /** Key Vault secret names of the PEM certificate and private key. */
    readonly secretNames: { readonly certificate: string; readonly privateKey: string };
    /** The CSI driver: the gateway pods mount a Key Vault volume. */
    readonly secretsStoreReady: readonly pulumi.Resource[];
    /** The ingress identity's federated credentials and role assignments. */
    readonly identityReady: readonly pulumi.Resource[];
}

/** The certificate and key as PEM values, written into the TLS Secret directly (no Key Vault). */
export interface PemIngressTls {
    readonly kind: "pem";
    readonly certificate: pulumi.Input<string>;
    /** Made secret however it arrives. */
    readonly privateKey: pulumi.Input<string>;
}

export interface IngressGatewayArgs {
    /** Namespace of the gateway (its TLS Secret must live beside it). */
    readonly namespace: pulumi.Input<string>;
    /** The gateway's service account (the ingress identity's federated subject with Key Vault); the chart creates it. */
    readonly serviceAccount: ServiceAccountRef;
    /** Where the certificate and key come from. */
    readonly tls: KeyVaultIngressTls | PemIngressTls;
    /** Host served over HTTPS. */
    readonly host: string;
    /** Type of the gateway's Service. Default: LoadBalancer. */
    readonly serviceType?: GatewayValues["service"]["type"];
    /**
     * An internal load balancer instead of a public one (behind the ingress WAF), and a directResponse
     * route on INGRESS_HEALTH_PATH for the WAF's health probe. Absent: a public load balancer.
     */
    readonly internalLoadBalancer?: InternalLoadBalancer;
    /** Two or more replicas and a disruption budget (prod). */
    readonly highAvailability: boolean;
    /** A serving istiod: it injects the gateway's proxy image and validates the Gateway resource. */
    readonly meshReady: readonly pulumi.Resource[];
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
}

/**
 * The Istio ingress gateway (official gateway chart) serving HTTPS from a kubernetes.io/tls Secret,
 * which the Istio Gateway resource refers to by name (credentialName); HTTP redirects to HTTPS. With
 * Key Vault, a SecretProviderClass syncs the PEM certificate and key into that Secret, which the CSI
 * driver only does while a pod mounts the class, so the gateway pods mount it as the ingress identity.
 * With PEM values, the component writes the Secret itself.
 */
export class IngressGateway extends pulumi.ComponentResource {
    /** The LoadBalancer Service in front of the gateway pods. */
    readonly serviceName: string;
    /** Namespace of the gateway, its Service and TLS Secret. */
    readonly namespace: pulumi.Output<string>;
    /** `<namespace>/<name>` of the Istio Gateway resource, as a VirtualService's `gateways` lists it. */
    readonly gatewayRef: pulumi.Output<string>;
    /** Name of the kubernetes.io/tls Secret synced from Key Vault. */
    readonly tlsSecretName: string;
    /** Name of the TLS SecretProviderClass; absent when the certificate does not come from Key Vault. */
    readonly tlsSecretProviderClass?: string;
    readonly release: k8s.helm.v3.Release;

    constructor(name: string, args: IngressGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:platform:IngressGateway", name, {}, opts);
        const child = { parent: this, provider: args.provider };
        const tlsName = "ingress-tls";

        const delivered =
            args.tls.kind === "keyvault" ? this.keyVaultTls(name, tlsName, args.tls, args) : this.pemTls(name, tlsName, args.tls, args);

        const ha = args.highAvailability;
        const values: GatewayValues = {
            labels: { ...INGRESS_GATEWAY_SELECTOR, ...delivered.podLabels },
            serviceAccount: { create: true, name: args.serviceAccount.name, annotations: delivered.serviceAccountAnnotations },
            autoscaling: { enabled: true, minReplicas: ha ? 2 : 1, maxReplicas: ha ? 5 : 2 },
            podDisruptionBudget: ha ? { minAvailable: 1 } : {},
            service: gatewayService(args.serviceType ?? "LoadBalancer", args.internalLoadBalancer),
            ...(args.internalLoadBalancer
                ? {
                      podAnnotations: {
                          "proxy.istio.io/config": JSON.stringify({ gatewayTopology: { numTrustedProxies: GATEWAY_TRUSTED_PROXIES } }),
                      },
                  }
                : {}),
            topologySpreadConstraints: ha ? zoneSpread(INGRESS_GATEWAY_SELECTOR) : [],
            volumes: delivered.volumes,
            volumeMounts: delivered.volumeMounts,
        };
        // The chart names the Deployment, Service and selector after the release.
        const releaseName = RELEASES.ingressGateway;
        this.release = pinnedRelease(
            name,
            CHARTS.istioGateway,
            {
                releaseName,
                namespace: args.namespace,
                values,
                // The CSI volume mounts as the ingress identity, whose Key Vault roles may still be propagating.
                timeoutSeconds: args.tls.kind === "keyvault" ? keyVaultMountTimeoutSeconds() : undefined,
            },
            // Pods start only once istiod injects them and their certificate is there to mount or read.
            { ...child, dependsOn: [...args.meshReady, ...delivered.after] },
        );

        const gatewayName = "public";
        const gateway = new k8s.apiextensions.CustomResource(
            `${name}-gateway`,
            {
                apiVersion: ISTIO_NETWORKING_API,
                kind: "Gateway",
                metadata: { name: gatewayName, namespace: args.namespace },
                spec: {
                    selector: INGRESS_GATEWAY_SELECTOR,
                    servers: [
                        {
                            port: { number: PORTS.gatewayHttps.service, name: "https", protocol: "HTTPS" },
                            hosts: [args.host],
                            tls: { mode: "SIMPLE", credentialName: tlsName },
                        },
                        {
                            port: { number: PORTS.gatewayHttp.service, name: "http", protocol: "HTTP" },
                            hosts: [args.host],
                            tls: { httpsRedirect: true },
                        },
                    ],
                },
            },
            { ...child, dependsOn: [...args.meshReady] },
        );

        // The Application Gateway's health probe: HTTPS on the Service's own 443 with the served host
        // (its backend settings' protocol and server name), answered by Envoy itself, so it succeeds
        // exactly when a gateway pod serves the host's TLS. Envoy's status port (15021) is plain HTTP,
        // which an HTTPS backend's probe cannot use, and no NetworkPolicy admits the WAF to it.
        if (args.internalLoadBalancer) {
            new k8s.apiextensions.CustomResource(
                `${name}-health`,
                {
                    apiVersion: ISTIO_NETWORKING_API,
                    kind: "VirtualService",
                    metadata: { name: "ingress-health", namespace: args.namespace },
                    spec: {
                        hosts: [args.host],
                        gateways: [gatewayName],
                        http: [
                            {
                                name: "health",
                                match: [{ uri: { exact: INGRESS_HEALTH_PATH } }],
                                directResponse: { status: 200, body: { string: "ok" } },
                            },
                        ],
                    },
                },
                { ...child, dependsOn: [gateway] },
            );
        }

        this.serviceName = releaseName;
        this.namespace = pulumi.output(args.namespace);
        this.gatewayRef = pulumi.interpolate`${gateway.metadata.namespace}/${gateway.metadata.name}`;
        this.tlsSecretName = tlsName;
        this.tlsSecretProviderClass = delivered.secretProviderClass;
        this.registerOutputs({
            serviceName: this.serviceName,
            namespace: this.namespace,
            gatewayRef: this.gatewayRef,
            tlsSecretName: this.tlsSecretName,
        });
    }

    /**
     * A SecretProviderClass syncing the Key Vault certificate and key into the TLS Secret, and the CSI
     * volume that makes the driver do it, mounted as the ingress identity.
     */
    private keyVaultTls(name: string, tlsName: string, tls: KeyVaultIngressTls, args: IngressGatewayArgs): TlsDelivery {
        const spc = new KeyVaultSecretProviderClass(
            `${name}-tls`,
            {
                className: tlsName,
                namespace: args.namespace,
                keyVaultName: tls.keyVaultName,
                tenantId: tls.tenantId,
                clientId: tls.clientId,
                objects: [
                    { objectName: tls.secretNames.certificate, key: "tls.crt" },
                    { objectName: tls.secretNames.privateKey, key: "tls.key" },
                ],
                secretName: tlsName,
                secretType: "kubernetes.io/tls",
                after: tls.secretsStoreReady,
                provider: args.provider,
            },
            { parent: this },
        );
        return {
            // The identity label is what the AKS documentation puts on pods mounting Key Vault through
            // workload identity; the driver itself requests the service account token it exchanges.
            podLabels: { [WORKLOAD_IDENTITY_USE_LABEL]: "true" },
            serviceAccountAnnotations: { [WORKLOAD_IDENTITY_CLIENT_ID_ANNOTATION]: tls.clientId },
            volumes: [
                {
                    name: tlsName,
                    csi: { driver: SECRETS_STORE_CSI_DRIVER, readOnly: true, volumeAttributes: { secretProviderClass: spc.className } },
                },
            ],
            volumeMounts: [{ name: tlsName, mountPath: `/mnt/secrets-store/${tlsName}`, readOnly: true }],
            after: [...tls.secretsStoreReady, ...tls.identityReady, spc],
            secretProviderClass: spc.className,
        };
    }

    /** The TLS Secret written from PEM values; istiod reads it by name, so the pods mount nothing. */
    private pemTls(name: string, tlsName: string, tls: PemIngressTls, args: IngressGatewayArgs): TlsDelivery {
        const secret = new k8s.core.v1.Secret(
            `${name}-tls`,
            {
                metadata: { name: tlsName, namespace: args.namespace },
                type: "kubernetes.io/tls",
                stringData: { "tls.crt": tls.certificate, "tls.key": pulumi.secret(tls.privateKey) },
            },
            { parent: this, provider: args.provider },
        );
        return { podLabels: {}, serviceAccountAnnotations: {}, volumes: [], volumeMounts: [], after: [secret] };
    }
}

/** How the TLS Secret comes to exist, and what the gateway pods need for it. */
interface TlsDelivery {
    readonly podLabels: Readonly<Record<string, string>>;
    readonly serviceAccountAnnotations: Readonly<Record<string, pulumi.Input<string>>>;
    readonly volumes: readonly object[];
    readonly volumeMounts: readonly object[];
    /** What the gateway release waits for. */
    readonly after: readonly pulumi.Resource[];
    readonly secretProviderClass?: string;
}
