// The two Dockerfiles are one recipe with the service's name filled in (the issue asks for one per
// service; this keeps them from drifting), and that recipe matches the chart's security context.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { DEFAULT_PORT } from "@aksplatform/service-common";

const SERVICES = path.join(__dirname, "../..");
const NAMES = ["product-service", "order-service"];
const dockerfile = (name: string) => fs.readFileSync(path.join(SERVICES, name, "Dockerfile"), "utf8");

describe("Service Dockerfiles", () => {
    const workspaces: string[] = JSON.parse(fs.readFileSync(path.join(SERVICES, "../package.json"), "utf8")).workspaces;
    const manifestCopy = /^COPY (services\/[a-z-]+)\/package\.json \1\/$/;

    it("are the same recipe apart from the service's name", () => {
        const recipe = (name: string) =>
            dockerfile(name)
                .split("\n")
                .filter((line) => !manifestCopy.test(line))
                .join("\n")
                .split(name)
                .join("<service>");
        const [first, ...rest] = NAMES.map(recipe);
        for (const other of rest) assert.equal(other, first);
    });

    it("build with the TypeScript and Node types the root pins", () => {
        const root = JSON.parse(fs.readFileSync(path.join(SERVICES, "../package.json"), "utf8"));
        const common = JSON.parse(fs.readFileSync(path.join(SERVICES, "common/package.json"), "utf8"));
        for (const dep of Object.keys(common.devDependencies)) assert.equal(common.devDependencies[dep], root.devDependencies[dep], dep);
    });

    it("copy every workspace's manifest before npm ci, which reads them all", () => {
        for (const name of NAMES) {
            const copied = dockerfile(name)
                .split(/^FROM /m)
                .slice(1, 3)
                .map((stage) =>
                    stage
                        .split("\n")
                        .flatMap((line) => manifestCopy.exec(line)?.[1] ?? [])
                        .sort(),
                );
            for (const stage of copied) assert.deepEqual(stage, [...workspaces].sort(), name);
        }
    });

    for (const name of NAMES) {
        describe(name, () => {
            const text = dockerfile(name);
            const stages = text.split(/^FROM /m).slice(1);
            const values = parse(fs.readFileSync(path.join(SERVICES, "../charts/microservice/values.yaml"), "utf8"));

            it("pins its Node 22 base image by full version", () => {
                assert.match(text, /^ARG NODE_IMAGE=node:22\.\d+\.\d+-[a-z0-9-]+$/m);
                assert.ok(stages.length >= 3, "multi-stage");
                for (const stage of stages) assert.match(stage, /^\$\{NODE_IMAGE\}/);
            });

            it("ships only production dependencies and the compiled output", () => {
                const final = stages[stages.length - 1];
                assert.doesNotMatch(final, /npm (ci|install)/);
                const deps = stages.find((s) => s.includes(" AS deps")) ?? "";
                assert.match(
                    deps,
                    new RegExp(
                        `npm pkg delete devDependencies --workspaces --include-workspace-root \\\\\n\\s+&& npm ci --workspace services/${name} --omit=dev`,
                    ),
                );
                assert.match(final, /COPY --from=deps \/app \.\//);
                assert.match(final, new RegExp(`COPY --from=build /app/services/${name}/dist`));
                assert.match(final, /CMD \["node", "dist\/index\.js"\]/);
            });

            it("runs as the chart's numeric non-root user and exposes the chart's containerPort", () => {
                const user = /^USER (\d+):(\d+)$/m.exec(text);
                assert.ok(user, "a numeric USER");
                assert.equal(Number(user[1]), values.securityContext.runAsUser);
                assert.equal(Number(user[2]), values.securityContext.runAsGroup);
                assert.ok(Number(user[1]) > 0);
                assert.match(text, new RegExp(`^EXPOSE ${values.containerPort}$`, "m"));
                assert.equal(values.containerPort, DEFAULT_PORT);
            });
        });
    }
});
