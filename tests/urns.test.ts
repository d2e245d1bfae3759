// Every URN a committed stack registers is in its snapshot (tests/fixtures/urns/<stack>.json) and the
// other way round. A URN is a resource's identity in the stack's state: a changed one is a delete and a
// create to the engine, unless an alias ties the new URN to the old. So a rename, a new parent or a
// changed type fails here until it is made deliberately: alias what was renamed, then regenerate.
import { strict as assert } from "assert";
import { evaluateStack } from "./harness";
import { planUrns, readUrnSnapshot, stackUrns, URN_STACKS, URNS_COMMAND, type UrnPlan } from "../tools/urns";

describe("URN snapshots", () => {
    for (const stack of URN_STACKS) {
        it(`${stack} registers exactly the URNs of tests/fixtures/urns/${stack}.json`, async () => {
            const registered = stackUrns(await evaluateStack(stack));
            const committed = readUrnSnapshot(stack);
            const added = registered.filter((urn) => !committed.includes(urn));
            const removed = committed.filter((urn) => !registered.includes(urn));
            assert.ok(
                added.length === 0 && removed.length === 0,
                [
                    `${stack}'s URNs differ from tests/fixtures/urns/${stack}.json.`,
                    `A URN that disappears is a delete (and its replacement a create) on an existing stack: if a`,
                    `resource was renamed, moved to another parent or changed type, give it \`aliases\` with its old`,
                    `name/parent/type first (conventions: renames go with aliases). Then regenerate the snapshots with`,
                    `one command, \`${URNS_COMMAND}\`, and commit them.`,
                    ...(removed.length ? ["No longer registered:", ...removed.map((u) => `  - ${u}`)] : []),
                    ...(added.length ? ["Not in the snapshot:", ...added.map((u) => `  + ${u}`)] : []),
                ].join("\n"),
            );
        });
    }
});

/** The layers' own URNs: components, nothing in the cloud or the cluster. */
const LAYER = /aksplatform:(azure|local|platform|workloads):Layer/;

describe("the layers are the stack's only resources of its own", () => {
    for (const stack of URN_STACKS) {
        it(`${stack}: everything else is a child of a layer (or of a child of one)`, async () => {
            const run = await evaluateStack(stack);
            const own = run.resources.filter((r) => r.parent === "").map((r) => `${r.type} ${r.name}`);
            const foundation = stack === "local" ? "aksplatform:local:Layer local" : "aksplatform:azure:Layer azure";
            assert.deepEqual(
                own.sort(),
                [foundation, "aksplatform:platform:Layer platform", "aksplatform:workloads:Layer workloads"].sort(),
                "a resource a layer creates takes the layer's child options (components/layer.ts layerChildOptions)",
            );
        });
    }
});

describe("the layers' move under ComponentResources keeps every resource's state", () => {
    for (const stack of URN_STACKS) {
        describe(stack, () => {
            // What an existing stack's state holds: the URNs from before the layers were components
            // (tests/fixtures/urns/<stack>.before-layers.json), and what an `up` over it does by the
            // engine's alias rules (tools/urns.ts planUrns).
            let plan: UrnPlan;
            before(async () => {
                plan = planUrns(readUrnSnapshot(stack, "before-layers"), await evaluateStack(stack));
            });

            it("deletes nothing: every URN of the state is still registered or an alias of a registered resource", () => {
                assert.deepEqual(
                    plan.deleted,
                    [],
                    [
                        `an \`up\` over ${stack}'s state from before the layers would delete (and re-create under another URN):`,
                        ...plan.deleted.map((u) => `  - ${u}`),
                        "Give the moved resource an alias to its old parent (components/layer.ts layerChildOptions). If a resource",
                        `was removed on purpose, take its URN out of tests/fixtures/urns/${stack}.before-layers.json.`,
                    ].join("\n"),
                );
            });

            it("moves each resource's state under its layer, with no other change to its URN", () => {
                assert.ok(plan.aliased.length > 0, "nothing moved");
                for (const [old, now] of plan.aliased) {
                    const [, layer] = now.split("::")[2].split("$", 1)[0].match(LAYER) ?? [];
                    assert.ok(layer, `${old} moved to ${now}, not under a layer`);
                    assert.equal(now.replace(`aksplatform:${layer}:Layer$`, ""), old, "only the layer's type was added");
                }
            });

            it("creates the three layer components; anything else it creates is new since the snapshot", () => {
                const layers = plan.created.filter((u) => LAYER.test(u.split("::")[2]) && !u.split("::")[2].includes("$"));
                const foundation = stack === "local" ? "local" : "azure";
                assert.deepEqual(layers.map((u) => u.split("::").pop()).sort(), [foundation, "platform", "workloads"].sort());
                const before = new Set(readUrnSnapshot(stack, "before-layers").map((u) => u.replace(/aksplatform:\w+:Layer\$/, "")));
                for (const urn of plan.created)
                    assert.ok(!before.has(urn.replace(/aksplatform:\w+:Layer\$/, "")), `${urn} is created though it was in the state`);
            });
        });
    }
});
