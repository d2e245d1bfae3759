// The services' one Dockerfile (services/Dockerfile): the service is its SERVICE build argument, and the
// recipe matches the chart's security context. Expectations come from the chart's values and the
// workspace manifests, not from the Dockerfile itself.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { DEFAULT_PORT } from "@aksplatform/service-common";

const SERVICES = path.join(__dirname, "../..");
const NAMES = ["product-service", "order-service"];
const text = fs.readFileSync(path.join(SERVICES, "Dockerfile"), "utf8");
const stages = text.split(/^FROM /m).slice(1);

describe("Service Dockerfile", () => {
    const workspaces: string[] = JSON.parse(fs.readFileSync(path.join(SERVICES, "../package.json"), "utf8")).workspaces;
    const manifestCopy = /^COPY (services\/[a-z-]+)\/package\.json \1\/$/;
    const values = parse(fs.readFileSync(path.join(SERVICES, "../charts/microservice/values.yaml"), "utf8"));

    it("is the only one: no service keeps a Dockerfile of its own", () => {
        for (const name of NAMES) assert.ok(!fs.existsSync(path.join(SERVICES, name, "Dockerfile")), name);
    });

    it("names no service: each stage takes it from the SERVICE build argument", () => {
        for (const name of NAMES) assert.ok(!text.includes(`services/${name} `) && !text.includes(`services/${name}/dist`), name);
        for (const stage of stages) {
            assert.match(stage, /^ARG SERVICE$/m, "ARG before FROM is not visible inside a stage; each stage redeclares it");
            assert.match(stage, /services\/(\$\{SERVICE\}|\$SERVICE)/);
        }
        // An empty or unknown SERVICE stops the build, before npm ci.
        const build = stages[0];
        assert.ok(build.indexOf('test -n "$SERVICE"') >= 0 && build.indexOf('test -n "$SERVICE"') < build.indexOf("npm ci"));
    });

    it("builds with the TypeScript and Node types the root pins", () => {
        const root = JSON.parse(fs.readFileSync(path.join(SERVICES, "../package.json"), "utf8"));
        const common = JSON.parse(fs.readFileSync(path.join(SERVICES, "common/package.json"), "utf8"));
        for (const dep of Object.keys(common.devDependencies)) assert.equal(common.devDependencies[dep], root.devDependencies[dep], dep);
    });

    it("copies every workspace's manifest before npm ci, which reads them all", () => {
        for (const stage of stages.slice(0, 2)) {
            const copied = stage
                .split("\n")
                .flatMap((line) => manifestCopy.exec(line)?.[1] ?? [])
                .sort();
            assert.deepEqual(copied, [...workspaces].sort());
        }
    });

    it("pins its Node 22 base image by full version", () => {
        assert.match(text, /^ARG NODE_IMAGE=node:22\.\d+\.\d+-[a-z0-9-]+$/m);
        assert.ok(stages.length >= 3, "multi-stage");
        for (const stage of stages) assert.match(stage, /^\$\{NODE_IMAGE\}/);
    });

    it("ships only the service's production dependencies and the compiled output", () => {
        const final = stages[stages.length - 1];
        assert.doesNotMatch(final, /npm (ci|install)/);
        const deps = stages.find((s) => s.includes(" AS deps")) ?? "";
        assert.match(
            deps,
            /npm pkg delete devDependencies --workspaces --include-workspace-root \\\n\s+&& npm ci --workspace "services\/\$SERVICE" --omit=dev/,
        );
        assert.match(final, /COPY --from=deps \/app \.\//);
        assert.match(final, /COPY --from=build \/app\/services\/\$\{SERVICE\}\/dist services\/\$\{SERVICE\}\/dist/);
        assert.match(final, /^WORKDIR \/app\/services\/\$\{SERVICE\}$/m);
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
