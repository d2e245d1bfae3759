// Every URN a committed stack registers is in its snapshot (tests/fixtures/urns/<stack>.json) and the
// other way round. A URN is a resource's identity in the stack's state: a changed one is a delete and a
// create to the engine, unless an alias ties the new URN to the old. So a rename, a new parent or a
// changed type fails here until it is made deliberately: alias what was renamed, then regenerate.
import { strict as assert } from "assert";
import { evaluateStack } from "./harness";
import { readUrnSnapshot, stackUrns, URN_STACKS, URNS_COMMAND } from "../tools/urns";

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
