// How the platform's replicated pods spread over availability zones (istiod, the ingress gateway; the
// services' chart renders the same constraint itself, charts/microservice values.yaml `zoneSpread`).

/** A Kubernetes topologySpreadConstraint, as the Istio charts render it verbatim. */
export interface ZoneSpreadConstraint {
    readonly topologyKey: string;
    readonly maxSkew: number;
    readonly whenUnsatisfiable: "ScheduleAnyway" | "DoNotSchedule";
    readonly labelSelector: { readonly matchLabels: Readonly<Record<string, string>> };
}

/**
 * One pod per zone before a second lands in any, for the pods `matchLabels` selects. ScheduleAnyway:
 * the nodes of a lost zone still count as a domain until they are removed, and DoNotSchedule would then
 * keep the replacement pods pending, which is exactly when they are needed.
 */
export function zoneSpread(matchLabels: Readonly<Record<string, string>>): ZoneSpreadConstraint[] {
    return [
        { topologyKey: "topology.kubernetes.io/zone", maxSkew: 1, whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels } },
    ];
}
