// Node pools and Kubernetes versions on AKS (issue 18 items 4 and 5).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { userPoolName } from "../components/azure/aksCluster";
import { parseConfig } from "../components/config";
import { evaluateStack, PROJECT, ROOT, stackRaw, type Registration, withOverrides } from "./harness";
import { rawMember } from "./configRaw";

const T = {
    cluster: "azure-native:containerservice:ManagedCluster",
    pool: "azure-native:containerservice:AgentPool",
} as const;

const userPool = async (overrides: Parameters<typeof evaluateStack>[1] = {}, stack = "prod") => {
    const run = await evaluateStack(stack, overrides);
    return { run, cluster: run.get(T.cluster, "aks"), pool: run.get(T.pool, "aks-user") };
};

// A pool's settings act alike on either stack: their tests turn them on dev with its user pool on (the
// defaults give it prod's zones, counts and channel), the cheaper evaluation. Independent settings share
// an evaluation (each test checks its own): the upgrade channels node-image and none ride on a count
// change and on a VM-size change, which say nothing about versions.
const DEV_POOL = { "userPool.enabled": true };
const COUNTS_AND_NODE_IMAGE = { ...DEV_POOL, "userPool.maxCount": 12, "userPool.minCount": 2, "cluster.autoUpgradeChannel": "node-image" };
const RESIZED_AND_NONE = { ...DEV_POOL, "userPool.vmSize": "Standard_D8ds_v5", "cluster.autoUpgradeChannel": "none" };

/** Minutes in a Pulumi customTimeouts duration such as "135m" or "2h15m". */
function minutes(duration: string): number {
    const m = /^(?:(\d+)h)?(?:(\d+)m)?$/.exec(duration);
    assert.ok(m && duration, `a duration: ${JSON.stringify(duration)}`);
    return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}

/**
 * The longest AKS may spend draining a pool in an upgrade, from what the program sends it: batches of
 * ceil(maxSurge% x nodes) surge nodes, each batch's drains allowed drainTimeoutInMinutes (AKS
 * upgradeSettings, azure-native 3.28.0 AgentPoolUpgradeSettings).
 */
function drainMinutes(pool: { maxCount?: number; count: number; upgradeSettings: { maxSurge: string; drainTimeoutInMinutes: number } }) {
    const nodes = pool.maxCount ?? pool.count;
    const percent = Number(/^(\d+)%$/.exec(pool.upgradeSettings.maxSurge)?.[1]);
    const surge = Math.ceil((nodes * percent) / 100);
    return Math.ceil(nodes / surge) * pool.upgradeSettings.drainTimeoutInMinutes;
}

describe("node pools: only the system pool inline, the user pool an AgentPool (issue 18 item 4)", () => {
    it("prod: the cluster PUT carries the system pool alone; the user pool is its own resource on the cluster and its subnet", async () => {
        const { run, cluster, pool } = await userPool();
        assert.deepEqual(
            cluster.inputs.agentPoolProfiles.map((p: { name: string; mode: string }) => [p.name, p.mode]),
            [["system", "System"]],
        );
        assert.equal(pool.inputs.resourceName, cluster.state.name);
        assert.equal(pool.inputs.resourceGroupName, cluster.inputs.resourceGroupName);
        assert.equal(pool.inputs.mode, "User");
        // Its subnet: tests/network.test.ts, "puts each pool on its own subnet".
        assert.ok(run.dependsOn(pool.urn, cluster.urn), "the pool is created on the existing cluster");
        // AKS Linux pool names: lowercase letters and digits, a letter first, at most 12.
        assert.match(pool.inputs.agentPoolName, /^[a-z][a-z0-9]{0,11}$/);
    });

    it("dev: turning userPool.enabled on adds an AgentPool and never a pool to the cluster's PUT", async () => {
        const before = (await evaluateStack("dev")).get(T.cluster, "aks");
        const { run, cluster, pool } = await userPool({ "userPool.enabled": true }, "dev");
        // AKS refuses a cluster PUT that introduces a pool ("Adding agent pools to an existing cluster is
        // not allowed through managed cluster operations", pulumi/pulumi-azure-nextgen#168).
        const names = (c: Registration) => c.inputs.agentPoolProfiles.map((p: { name: string }) => p.name);
        assert.deepEqual(names(cluster), names(before));
        assert.equal(pool.inputs.mode, "User");
        assert.equal(run.ofType(T.pool).length, 1);
        assert.equal((await evaluateStack("dev")).ofType(T.pool).length, 0);
    });

    it("a change AKS cannot make in place (VM size, zones, subnet) goes to a new pool under a new name", async function () {
        this.timeout(180_000);
        const base = (await userPool(DEV_POOL, "dev")).pool.inputs.agentPoolName;
        // Fixed for a pool's life: AKS resizes a pool only by creating another (azure-aks-docs resize-node-pool.md).
        const resized = (await userPool(RESIZED_AND_NONE, "dev")).pool.inputs.agentPoolName;
        assert.notEqual(resized, base);
        assert.match(resized, /^[a-z][a-z0-9]{0,11}$/);
        const identity = {
            vmSize: "Standard_D4s_v5",
            zones: ["1", "2", "3"],
            subnetId: "/x/subnets/snet-user",
            osType: "Linux",
            osSku: "AzureLinux",
        };
        // The OS disk is fixed too (concepts-storage.md: "You can't change the OS disk size after ... node
        // pool creation"; the type is a property of the scale set's OS disk).
        const ephemeral = { osDiskType: "Ephemeral" as const, osDiskSizeGb: 128 };
        for (const change of [
            { zones: ["1", "2"] },
            { subnetId: "/x/subnets/snet-other" },
            { osSku: "Ubuntu" },
            ephemeral,
            { osDiskType: "Managed" as const, osDiskSizeGb: 256 },
        ]) {
            assert.notEqual(userPoolName({ ...identity, ...change }), userPoolName(identity), JSON.stringify(change));
        }
        assert.notEqual(userPoolName({ ...identity, ...ephemeral, osDiskSizeGb: 100 }), userPoolName({ ...identity, ...ephemeral }));
        assert.equal(userPoolName({ ...identity, zones: ["3", "1", "2"] }), userPoolName(identity), "zone order is no change");
        // A managed disk of AKS's default size is what every pool had before the OS disk was configurable:
        // such a pool keeps its name, so an existing stack's pool is not replaced by this change.
        assert.equal(userPoolName({ ...identity, osDiskType: "Managed" }), userPoolName(identity));
    });

    it("counts and autoscaler bounds change in place: same pool name", async function () {
        this.timeout(180_000);
        const base = (await userPool(DEV_POOL, "dev")).pool.inputs.agentPoolName;
        assert.equal((await userPool(COUNTS_AND_NODE_IMAGE, "dev")).pool.inputs.agentPoolName, base);
    });

    it("a legacy inline pool named user is never taken for the new pool: the move creates the new pool, then the old one goes", async () => {
        // Stacks from before this change have an inline pool "user" that the cluster PUT no longer lists and
        // AKS does not delete (docs/operations.md, "Move an existing cluster's user pool").
        const { pool } = await userPool();
        assert.notEqual(pool.inputs.agentPoolName, "user");
    });
});

describe("node pools with per-zone NAT egress (issue 22 item 6)", () => {
    it("one pool per pool and zone: the system pool's first zone inline, its other zones and the user zones as AgentPools, named and tainted like the pools they split", async function () {
        this.timeout(180_000);
        const run = await evaluateStack("prod", { "network.egressType": "natGateway", "network.perZoneNodePools": true });
        const cluster = run.get(T.cluster, "aks");
        // Still only the system pool in the cluster's PUT (AKS refuses to add pools through it).
        assert.deepEqual(
            cluster.inputs.agentPoolProfiles.map((p: { name: string }) => p.name),
            ["system"],
        );
        const inline = cluster.inputs.agentPoolProfiles[0];
        const agentPools = run.ofType(T.pool);
        const names = agentPools.map((p) => p.inputs.agentPoolName);
        for (const name of names) assert.match(name, /^[a-z][a-z0-9]{0,11}$/, "AKS Linux pool names");
        assert.equal(new Set([...names, "system"]).size, names.length + 1, "distinct names");
        const system = agentPools.filter((p) => p.inputs.mode === "System");
        assert.ok(system.length > 0);
        for (const pool of system) {
            // With a user pool, every system node keeps workloads off (the inline pool's taint).
            assert.deepEqual(pool.inputs.nodeTaints, inline.nodeTaints);
            assert.deepEqual(pool.inputs.nodeTaints, ["CriticalAddonsOnly=true:NoSchedule"]);
            assert.equal(pool.inputs.vmSize, inline.vmSize);
            assert.ok(run.dependsOn(pool.urn, cluster.urn));
        }
        const user = agentPools.filter((p) => p.inputs.mode === "User");
        assert.ok(user.length > 0);
        // The user pools carry no taint: the workloads' pods schedule there.
        for (const pool of user) assert.equal(pool.inputs.nodeTaints, undefined, pool.inputs.agentPoolName);
        // Every zone's pool rolls and drains under timeouts longer than its drains and the provider's two hours.
        for (const pool of agentPools) {
            assert.ok(minutes(pool.customTimeouts.update) > drainMinutes(pool.inputs), `${pool.name}: update`);
            assert.ok(minutes(pool.customTimeouts.delete) > drainMinutes(pool.inputs), `${pool.name}: delete`);
            assert.ok(minutes(pool.customTimeouts.update) > 120, `${pool.name}: the provider's default would cut the roll short`);
        }
        // The cluster's DELETE takes every attached pool with it: its timeout grows with their number.
        const firewall = (await evaluateStack("prod")).get(T.cluster, "aks");
        assert.ok(minutes(cluster.customTimeouts.delete) > minutes(firewall.customTimeouts.delete));
    });
});

describe("the legacy pool's move runbook (docs/operations.md)", () => {
    it("imports the legacy pool unprotected, since the next up is to delete it", () => {
        const doc = fs.readFileSync(path.join(ROOT, "docs/operations.md"), "utf8");
        const start = doc.indexOf("### Move an existing cluster's user pool");
        assert.ok(start >= 0, "the section exists");
        const section = doc.slice(start, doc.indexOf("\n## ", start)).replace(/\s+/g, " ");
        const imports = [...section.matchAll(/`(pulumi import [^`]*)`/g)].map((m) => m[1]);
        assert.ok(imports.length > 0, "the runbook imports the legacy pool");
        // `pulumi import` protects what it imports unless given --protect=false (pulumi/docs
        // content/docs/cli/commands/pulumi_import.md: "The resources are protected from deletion by
        // default"), and the engine refuses to delete a protected resource, so the up would fail.
        for (const command of imports) assert.match(command, /(^| )--protect=false( |$)/, command);
    });
});

describe("Kubernetes versions AKS serves (issue 18 item 5)", () => {
    // Upstream end of life (kubernetes.io/releases), read independently of the program's own table.
    const UPSTREAM_EOL: Record<number, string> = { 33: "2026-06-28", 34: "2026-10-27", 35: "2027-02-28", 36: "2027-06-28" };
    const TODAY = "2026-12-03";

    it("a stack without cluster.kubernetesVersion gets a minor still supported upstream, and the committed stacks use it", () => {
        const raw = withOverrides(stackRaw("dev"), { "cluster.kubernetesVersion": undefined });
        const cfg = parseConfig(raw, PROJECT, "dev");
        const minor = Number(cfg.cluster.kubernetesVersion.split(".")[1]);
        assert.ok(UPSTREAM_EOL[minor] > TODAY, `default 1.${minor} reached end of life ${UPSTREAM_EOL[minor]}`);
        assert.equal(cfg.cluster.kubernetesVersion, "1.36");
        for (const stack of ["dev", "prod"]) assert.equal(rawMember(stackRaw(stack), "cluster.kubernetesVersion"), "1.36", stack);
    });

    it("stable and rapid own the version after creation: the cluster and the pool stop sending it; patch keeps it", async () => {
        for (const channel of ["stable", "rapid"]) {
            const { cluster, pool } = await userPool({ ...DEV_POOL, "cluster.autoUpgradeChannel": channel }, "dev");
            for (const path of ["kubernetesVersion", "agentPoolProfiles[0].orchestratorVersion"])
                assert.ok(cluster.ignoreChanges.includes(path), `${channel}: cluster ignores ${path}`);
            assert.ok(pool.ignoreChanges.includes("orchestratorVersion"), `${channel}: pool ignores its version`);
        }
        const { cluster, pool } = await userPool(DEV_POOL, "dev");
        assert.ok(!cluster.ignoreChanges.some((p) => /ersion/.test(p)), "patch: a version bump reaches AKS");
        assert.ok(!pool.ignoreChanges.some((p) => /ersion/.test(p)));
    });

    it("under stable and rapid a new user pool sends no version (the channel may have moved the control plane past it); patch, node-image and none pin it", async () => {
        // The configured minor is what the cluster is created with; AKS refuses a pool newer than the
        // control plane and allows one only two minors behind (azure-native 3.28.0 AgentPool
        // orchestratorVersion). Under stable/rapid the channel moves the control plane on its own, so a pool
        // created later (userPool.enabled turned on, a new pool for a new VM size) must take AKS's version.
        for (const channel of ["stable", "rapid"]) {
            const { cluster, pool } = await userPool({ ...DEV_POOL, "cluster.autoUpgradeChannel": channel }, "dev");
            assert.equal(cluster.inputs.kubernetesVersion, "1.36", `${channel}: the cluster is created at the configured minor`);
            assert.equal(pool.inputs.orchestratorVersion, undefined, `${channel}: the pool pins no version`);
            assert.ok(pool.ignoreChanges.includes("orchestratorVersion"), `${channel}: nor does a pool created before`);
        }
        for (const [channel, overrides] of [
            ["patch", DEV_POOL],
            ["node-image", COUNTS_AND_NODE_IMAGE],
            ["none", RESIZED_AND_NONE],
        ] as const) {
            const { cluster, pool } = await userPool(overrides, "dev");
            assert.equal(
                pool.inputs.orchestratorVersion,
                cluster.inputs.kubernetesVersion,
                `${channel}: the pool follows the configured version`,
            );
            assert.equal(pool.inputs.orchestratorVersion, "1.36");
        }
    });

    it("upgrades get timeouts longer than the drains AKS may spend, beyond azure-native's two-hour default", async () => {
        const { cluster, pool } = await userPool();
        const userDrains = drainMinutes(pool.inputs);
        assert.equal(pool.inputs.upgradeSettings.drainTimeoutInMinutes, 30);
        assert.ok(minutes(pool.customTimeouts.update) > userDrains, `${pool.customTimeouts.update} vs ${userDrains}m of drains`);
        assert.ok(minutes(pool.customTimeouts.update) > 120, "the provider's default would cut the roll short");
        assert.ok(minutes(pool.customTimeouts.delete) > userDrains, "deleting an old pool drains it too");
        const system = cluster.inputs.agentPoolProfiles[0];
        assert.ok(minutes(cluster.customTimeouts.update) > drainMinutes(system), "control plane, then the system pool");
    });
});
