// Issue 21 item 2 and 4: what the program gives the services. order-service gets product-service's
// in-cluster URL (by its Service name, from the one SERVICE_CALLS entry); product-service gets none;
// and no deployment ever sets STORAGE (the in-memory store is for local trials only).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { SERVICE_CALLS } from "../components/workloads/serviceCalls";
import { PRODUCT_SERVICE_URL_ENV, productServiceUrl } from "../services/order-service/src/productCatalog";
import { evaluateStack, type Registration, type StackRun } from "./harness";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const REPO = path.join(__dirname, "..");
const release = (run: StackRun, name: string): Registration => {
    const found = run.ofType(RELEASE).find((r) => r.inputs.name === name);
    assert.ok(found, `no release ${name}`);
    return found;
};
const plainEnv = (r: Registration): Record<string, string> =>
    Object.fromEntries(
        (r.inputs.values.extraEnv as { name: string; value?: string }[])
            .filter((e) => e.value !== undefined)
            .map((e) => [e.name, e.value as string]),
    );

describe("service calls: what the program gives the services", () => {
    it("names the variable order-service reads", () => {
        assert.deepEqual(
            SERVICE_CALLS.map((c) => [c.from, c.to, c.env]),
            [["order-service", "product-service", PRODUCT_SERVICE_URL_ENV]],
        );
    });

    for (const stack of ["dev", "prod", "local"] as const) {
        it(`${stack}: order-service gets product-service's Service URL in the app namespace; product-service gets nothing new`, async () => {
            const run = await evaluateStack(stack);
            const orders = plainEnv(release(run, "order-service"));
            // The Service's cluster DNS name (Kubernetes DNS spec: <service>.<namespace>.svc.cluster.local) and its port 80
            // (charts/microservice values.yaml service.port).
            assert.deepEqual(orders, { PRODUCT_SERVICE_URL: `http://product-service.microservices-${stack}.svc.cluster.local:80` });
            assert.equal(productServiceUrl(orders), orders.PRODUCT_SERVICE_URL, "a URL the service accepts");
            assert.deepEqual(plainEnv(release(run, "product-service")), {});
        });
    }

    it("never sets STORAGE: not in the chart, the generated Argo CD values nor any release's values", async () => {
        const files = [
            ...fs
                .readdirSync(path.join(REPO, "charts/microservice"), { recursive: true, encoding: "utf8" })
                .map((f) => `charts/microservice/${f}`),
            ...fs.readdirSync(path.join(REPO, "argocd"), { recursive: true, encoding: "utf8" }).map((f) => `argocd/${f}`),
        ].filter((f) => fs.statSync(path.join(REPO, f)).isFile());
        assert.ok(files.length > 5, files.join(", "));
        for (const f of files) assert.ok(!/\bSTORAGE\b/.test(fs.readFileSync(path.join(REPO, f), "utf8")), `${f} mentions STORAGE`);
        for (const stack of ["dev", "prod", "local"] as const) {
            const run = await evaluateStack(stack);
            for (const r of run.ofType(RELEASE).filter((x) => /-service$/.test(x.inputs.name))) {
                assert.ok(!/"STORAGE"/.test(JSON.stringify(r.inputs.values)), `${stack} ${r.inputs.name} sets STORAGE`);
            }
        }
    });
});
