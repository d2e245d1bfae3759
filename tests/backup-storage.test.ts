// BackupStorage on its own under the mocks: an account that only Entra ID can write to, versioned and
// soft-deleted, one container per kind of backup with its own retention.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { maxNamePrefixLength, namesFor, parseConfig } from "../components/config";
import { BackupStorage, DEFAULT_SOFT_DELETE_DAYS } from "../components/azure/backupStorage";
import { backupContainers } from "../components/azure/layer";
import { evaluate, evaluateStack, EvaluationError, itRejectsConfig, PROJECT, stackRaw, type StackRun } from "./harness";

const T = {
    account: "azure-native:storage:StorageAccount",
    blobService: "azure-native:storage:BlobServiceProperties",
    container: "azure-native:storage:BlobContainer",
    policy: "azure-native:storage:ManagementPolicy",
};
const CONTAINERS = [
    { name: "vault-snapshots", retentionDays: 30 },
    { name: "mongodb", retentionDays: 7 },
];

function program(zoneRedundant: boolean, containers = CONTAINERS) {
    return () => {
        const backups = new BackupStorage(
            "backups",
            { resourceGroupName: "rg", location: "eastus", accountName: "gitopsprodbkab12", tags: { a: "b" }, containers, zoneRedundant },
            { protect: zoneRedundant },
        );
        return { containerIds: pulumi.output(backups.containerIds), blobEndpoint: backups.blobEndpoint, accountId: backups.accountId };
    };
}

describe("BackupStorage", () => {
    let run: StackRun;
    before(async () => {
        run = await evaluate("prod", {}, program(true));
    });

    it("accepts Entra ID alone: no shared keys, no public blobs, HTTPS and TLS 1.2, no cross-tenant copies", () => {
        const account = run.get(T.account, "backups").inputs;
        assert.equal(account.allowSharedKeyAccess, false);
        assert.equal(account.defaultToOAuthAuthentication, true);
        assert.equal(account.allowBlobPublicAccess, false);
        assert.equal(account.allowCrossTenantReplication, false);
        assert.equal(account.enableHttpsTrafficOnly, true);
        assert.equal(account.minimumTlsVersion, "TLS1_2");
        assert.equal(account.kind, "StorageV2");
    });

    it("is zone-redundant when asked (prod), locally redundant otherwise", async () => {
        assert.equal(run.get(T.account, "backups").inputs.sku.name, "Standard_ZRS");
        const lrs = await evaluate("dev", {}, program(false));
        assert.equal(lrs.get(T.account, "backups").inputs.sku.name, "Standard_LRS");
    });

    it("keeps versions and soft-deleted blobs and containers", () => {
        const service = run.get(T.blobService, "backups").inputs;
        assert.equal(service.blobServicesName, "default");
        assert.equal(service.isVersioningEnabled, true);
        assert.deepEqual(service.deleteRetentionPolicy, { enabled: true, days: DEFAULT_SOFT_DELETE_DAYS });
        assert.deepEqual(service.containerDeleteRetentionPolicy, { enabled: true, days: DEFAULT_SOFT_DELETE_DAYS });
    });

    it("creates each container private, after the blob service settings, and exports its ARM ID as a role scope", () => {
        const service = run.get(T.blobService, "backups");
        for (const c of CONTAINERS) {
            const container = run.get(T.container, `backups-${c.name}`);
            assert.equal(container.inputs.containerName, c.name);
            assert.equal(container.inputs.publicAccess, "None");
            assert.ok(run.dependsOn(container.urn, service.urn));
            assert.equal(run.outputs.containerIds.value[c.name], container.id);
            assert.match(
                container.id,
                new RegExp(`/providers/Microsoft.Storage/storageAccounts/gitopsprodbkab12/blobServices/default/containers/${c.name}$`),
            );
        }
        assert.equal(run.outputs.blobEndpoint.value, "https://gitopsprodbkab12.blob.core.windows.net/");
    });

    it("deletes blobs and old versions after each container's own retention, nothing else", () => {
        const policy = run.get(T.policy, "backups").inputs;
        assert.equal(policy.managementPolicyName, "default");
        assert.deepEqual(
            policy.policy.rules.map((r: any) => [
                r.name,
                r.definition.filters.prefixMatch,
                r.definition.actions.baseBlob.delete.daysAfterCreationGreaterThan,
                r.definition.actions.version.delete.daysAfterCreationGreaterThan,
            ]),
            CONTAINERS.map((c) => [`retain-${c.name}`, [`${c.name}/`], c.retentionDays, c.retentionDays]),
        );
    });

    it("protects the account when asked", () => {
        assert.equal(run.get(T.account, "backups").protect, true);
    });

    it("refuses two containers of one name, as an error of the component itself", async () => {
        await assert.rejects(evaluate("dev", {}, program(false, [CONTAINERS[0], CONTAINERS[0]])), (error: EvaluationError) => {
            assert.match(error.message, /container names must be unique, got vault-snapshots, vault-snapshots/);
            // The CLI prints a ResourceError under the resource it names (@pulumi/pulumi errors.ts).
            assert.ok(pulumi.ResourceError.isInstance(error.cause), "a pulumi.ResourceError");
            assert.ok(error.cause.resource instanceof BackupStorage, "attached to the BackupStorage");
            return true;
        });
    });

    it("has a name that fits Azure's 24 lowercase letters and digits for the longest allowed prefix", () => {
        for (const environment of ["dev", "prod"] as const) {
            const name = `${namesFor("a".repeat(maxNamePrefixLength(environment)), environment).backupStorageStem}x1y2`;
            assert.match(name, /^[a-z0-9]{3,24}$/, name);
        }
    });

    it("exists in a stack exactly when some kind of backup names a container", async () => {
        for (const stack of ["dev", "prod"] as const) {
            const expected = backupContainers(parseConfig(stackRaw(stack), PROJECT, stack)).length > 0 ? 1 : 0;
            assert.equal((await evaluateStack(stack)).ofType(T.account).length, expected, stack);
        }
    });
});

// Issue 22 item 7: prod's backups have no public endpoint; the writers reach them privately.
describe("backup storage: private in prod", () => {
    let run: StackRun;
    before(async () => {
        run = await evaluateStack("prod");
    });
    const E = {
        endpoint: "azure-native:network:PrivateEndpoint",
        zoneGroup: "azure-native:network:PrivateDnsZoneGroup",
        zone: "azure-native:privatedns:PrivateZone",
        link: "azure-native:privatedns:VirtualNetworkLink",
        vnet: "azure-native:network:VirtualNetwork",
    };

    it("disables the account's public endpoint", () => {
        // azure-native 3.28.0 storage PublicNetworkAccess: Enabled | Disabled | SecuredByPerimeter.
        assert.equal(run.get(T.account, "backups").inputs.publicNetworkAccess, "Disabled");
    });

    it("puts a blob private endpoint in the endpoint subnet, its records in privatelink.blob.core.windows.net linked to the VNet", () => {
        const account = run.get(T.account, "backups");
        const endpoint = run.get(E.endpoint, "backups-pe");
        const [connection] = endpoint.inputs.privateLinkServiceConnections;
        assert.equal(connection.privateLinkServiceId, account.id);
        // The blob sub-resource (Azure Private Link: "Private endpoint DNS": blob -> privatelink.blob.core.windows.net).
        assert.deepEqual(connection.groupIds, ["blob"]);
        assert.equal(endpoint.inputs.subnet.id, `${run.get(E.vnet, "network").id}/subnets/snet-private-endpoints`);
        const zone = run.get(E.zone, "blob-dns");
        assert.equal(zone.inputs.privateZoneName, "privatelink.blob.core.windows.net");
        assert.deepEqual(run.get(E.link, "blob-dns-link").inputs.virtualNetwork, { id: run.get(E.vnet, "network").id });
        assert.deepEqual(run.get(E.zoneGroup, "backups-pe-dns").inputs.privateDnsZoneConfigs, [
            { name: "blob", privateDnsZoneId: zone.id },
        ]);
    });

    it("starts the jobs that write backups only once the account resolves privately", () => {
        const accountName = run.get(T.account, "backups").state.name as string;
        const writers = run.resources.filter(
            (r) =>
                r.custom &&
                ["kubernetes:batch/v1:CronJob", "kubernetes:batch/v1:Job"].includes(r.type) &&
                JSON.stringify(r.inputs).includes(accountName),
        );
        assert.ok(
            writers.length >= 2,
            `the raft snapshot and MongoDB backup CronJobs name the account: ${writers.map((w) => w.name).join(", ")}`,
        );
        const group = run.get(E.zoneGroup, "backups-pe-dns");
        const link = run.get(E.link, "blob-dns-link");
        for (const writer of writers) {
            assert.ok(run.dependsOn(writer.urn, group.urn), `${writer.name} waits for the endpoint's DNS records`);
            assert.ok(run.dependsOn(writer.urn, link.urn), `${writer.name} waits for the VNet link`);
        }
    });

    it("dev keeps its public endpoint and no endpoint (cheap)", async () => {
        const dev = await evaluateStack("dev");
        assert.equal(dev.get(T.account, "backups").inputs.publicNetworkAccess, "Enabled");
        assert.equal(dev.ofType(E.zone).filter((z) => z.inputs.privateZoneName === "privatelink.blob.core.windows.net").length, 0);
    });
});

describe("backup storage: bad configuration", () => {
    itRejectsConfig([
        {
            name: "prod's backups open to the internet",
            stack: "prod",
            raw: { "backupStorage.publicNetworkAccess": true },
            expect: ["backupStorage.publicNetworkAccess: true", "prod", "private endpoint"],
        },
        {
            name: "a closed account with no private endpoint",
            raw: { "backupStorage.publicNetworkAccess": false },
            expect: ["backupStorage.publicNetworkAccess: false", "backupStorage.privateEndpoint: true"],
        },
    ]);
});
