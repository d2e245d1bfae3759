import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** The Azure Disk CSI driver's provisioner name (AKS installs the driver). */
const AZURE_DISK_CSI_PROVISIONER = "disk.csi.azure.com";

/** Azure's zone-redundant Premium SSD: synchronously replicated across three zones. */
export const ZONE_REDUNDANT_DISK_SKU = "Premium_ZRS";

export interface ZoneRedundantStorageClassArgs {
    /** Name of the StorageClass. */
    readonly className: string;
    /** Keep the disk when its claim is deleted (prod). Default false: Delete. */
    readonly retain?: boolean;
    /** Keep the StorageClass object itself when the stack is destroyed (with what it serves). Default false. */
    readonly retainOnDelete?: boolean;
    /** Labels on the StorageClass. Default none. */
    readonly labels?: Readonly<Record<string, string>>;
    /** Kubernetes provider of the target cluster. */
    readonly provider: k8s.Provider;
}

/**
 * A StorageClass of zone-redundant Premium SSDs (Premium_ZRS, synchronously replicated across three
 * zones): a pod rescheduled into another zone after a zone outage attaches the same disk. Volumes
 * bind where their pod is scheduled (WaitForFirstConsumer), so the spread constraints decide.
 * Parameters follow the Azure Disk CSI driver's documented `skuName` (kubernetes-sigs/azuredisk-csi-driver,
 * docs/driver-parameters.md).
 */
export class ZoneRedundantStorageClass extends pulumi.ComponentResource {
    readonly className: pulumi.Output<string>;

    constructor(name: string, args: ZoneRedundantStorageClassArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aksplatform:platform:ZoneRedundantStorageClass", name, {}, opts);
        const sc = new k8s.storage.v1.StorageClass(
            name,
            {
                metadata: { name: args.className, labels: args.labels },
                provisioner: AZURE_DISK_CSI_PROVISIONER,
                parameters: { skuName: ZONE_REDUNDANT_DISK_SKU, cachingMode: "ReadOnly" },
                reclaimPolicy: args.retain ? "Retain" : "Delete",
                volumeBindingMode: "WaitForFirstConsumer",
                allowVolumeExpansion: true,
            },
            { parent: this, provider: args.provider, retainOnDelete: args.retainOnDelete },
        );
        this.className = sc.metadata.name;
        this.registerOutputs({ className: this.className });
    }
}
