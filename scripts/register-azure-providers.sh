#!/bin/sh
# Registers, in the subscription the Azure CLI is set to (az account set --subscription <id>), every
# Azure resource provider this program creates resources with. azure-native never registers providers
# itself: a create in an unregistered namespace fails with MissingSubscriptionRegistration. Run it once
# per subscription, before the first `pulumi up`, as someone allowed to register providers (Owner or
# Contributor: the */register/action permission). Registering a registered provider is a no-op.
# tests/azure-providers.test.ts checks this list against the resource types the program registers.
set -eu

# One namespace a line, each with why the program needs it.
PROVIDERS='
Microsoft.ContainerService     AKS: the cluster, its maintenance configurations
Microsoft.Compute              AKS: its node pools are virtual machine scale sets in the subscription
Microsoft.Network              VNet, subnets, NAT gateway, public IPs, NSGs, private endpoints, private DNS zones
Microsoft.KeyVault             the Key Vaults, their secrets and the unseal key
Microsoft.ManagedIdentity      the control plane and workload identities, federated credentials
Microsoft.OperationalInsights  the Log Analytics workspace
Microsoft.Insights             Application Insights, diagnostic settings, data collection rules, alerts
Microsoft.Storage              the backup storage account
Microsoft.ContainerRegistry    the stack registry (registry.mode create or existing)
Microsoft.PolicyInsights       the Azure Policy add-on (prod) and its policy assignment
Microsoft.App                  the CI runner (prod): a Container Apps environment and job
Microsoft.Monitor              managed Prometheus (prod): the Azure Monitor workspace
Microsoft.AlertsManagement     managed Prometheus (prod): its Prometheus rule groups
'

for ns in $(printf '%s\n' "$PROVIDERS" | awk 'NF { print $1 }'); do
    state=$(az provider show --namespace "$ns" --query registrationState --output tsv 2>/dev/null || true)
    if [ "$state" = "Registered" ]; then
        echo "$ns: registered"
    else
        echo "$ns: registering (was ${state:-unknown})"
        az provider register --namespace "$ns" --wait --output none
        echo "$ns: registered"
    fi
done
