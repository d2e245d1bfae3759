// docs/platform.md's flow table is the flow table in code (tools/flowDocs.ts renders it).
import { strict as assert } from "assert";
import * as fs from "fs";
import { NETWORK_FLOWS } from "../components/workloads/networkPolicies";
import { PLATFORM_DOC, renderFlowTable, withFlowTable } from "../tools/flowDocs";

describe("docs/platform.md flow table", () => {
    it("is the one NETWORK_FLOWS renders (npm run flows:docs)", () => {
        const doc = fs.readFileSync(PLATFORM_DOC, "utf8");
        assert.equal(doc, withFlowTable(doc), "docs/platform.md's flow table is stale: run npm run flows:docs");
    });
    it("has a row per flow, named as its policies are", () => {
        const table = renderFlowTable();
        for (const f of NETWORK_FLOWS) assert.ok(table.includes(`| \`allow-${f.name}\` |`), f.name);
        assert.equal(new Set(NETWORK_FLOWS.map((f) => f.name)).size, NETWORK_FLOWS.length, "flow names are unique");
    });
});
