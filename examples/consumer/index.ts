// An example consumer of the platform: another Pulumi project that reads a platform stack's outputs
// through the typed helper, federates a new managed identity with the cluster's OIDC issuer, and creates
// the namespace and service account that identity trusts, through a Kubernetes provider built from the
// platform's (secret) kubeconfig.
//
//   pulumi -C examples/consumer stack init dev     # reads organization/aks-platform/dev by default
//   pulumi -C examples/consumer up
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DIY_ORGANIZATION, PLATFORM_PROJECT, platformOutputs, stackReferenceName } from "../../components/stackOutputs";

const config = new pulumi.Config();
const stack = pulumi.getStack();
const platformStack = config.get("platformStack") ?? stackReferenceName(DIY_ORGANIZATION, PLATFORM_PROJECT, stack);
const location = config.get("location") ?? "eastus";
const namespace = config.get("namespace") ?? "reports";
const serviceAccount = config.get("serviceAccount") ?? "report-service";

const platform = platformOutputs(new pulumi.StackReference("platform", { name: platformStack }));

// The federated subject and the service account below are derived from the same two names, so the
// token the pod presents is the one the credential trusts.
const subject = `system:serviceaccount:${namespace}:${serviceAccount}`;
const tags = { project: pulumi.getProject(), stack };

const identity = new managedidentity.UserAssignedIdentity("reports", {
    resourceName: `id-${namespace}-${stack}`,
    resourceGroupName: platform.resourceGroupName,
    location,
    tags,
});

new managedidentity.FederatedIdentityCredential("reports", {
    federatedIdentityCredentialResourceName: `${namespace}-${serviceAccount}`,
    resourceName: identity.name,
    resourceGroupName: platform.resourceGroupName,
    issuer: platform.oidcIssuerUrl,
    subject,
    audiences: ["api://AzureADTokenExchange"],
});

// Explicit provider: the consumer deploys into the platform's cluster, never the local kubeconfig's.
const cluster = new k8s.Provider("platform", { kubeconfig: platform.kubeconfig });

const ns = new k8s.core.v1.Namespace(
    "reports",
    { metadata: { name: namespace, labels: { "istio-injection": "enabled" } } },
    { provider: cluster },
);

new k8s.core.v1.ServiceAccount(
    "reports",
    {
        metadata: {
            name: serviceAccount,
            namespace: ns.metadata.name,
            annotations: { "azure.workload.identity/client-id": identity.clientId },
        },
    },
    { provider: cluster },
);

// A secret platform output stays secret on its way into the cluster.
new k8s.core.v1.Secret(
    "reports-telemetry",
    {
        metadata: { name: "telemetry", namespace: ns.metadata.name },
        stringData: { APPLICATIONINSIGHTS_CONNECTION_STRING: platform.appInsightsConnectionString },
    },
    { provider: cluster },
);

export const identityClientId = identity.clientId;
export const federatedSubject = subject;
export const platformCluster = platform.clusterName;
