// Serves the platform's policy pack to the Pulumi engine: `pulumi preview --policy-pack policy`.
// The rules live in policies.ts, where the tests import them without starting the analyzer.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("aks-platform", {
    description:
        "Guardrails of the AKS platform: Key Vault and AKS identity settings, explicit Kubernetes providers, pinned charts, no public services but the gateway, container limits.",
    enforcementLevel: "mandatory",
    policies,
});
