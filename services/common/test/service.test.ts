// The process around the routes: settings, liveness and readiness, seeding, telemetry, shutdown, and
// the contract with the chart (port and probe paths).
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import {
    DEFAULT_PORT,
    InMemoryStorage,
    LIVENESS_PATH,
    Logger,
    READINESS_PATH,
    settingsFrom,
    signalHandler,
    startTelemetry,
    type AzureMonitorDistro,
    type ServiceDefinition,
} from "@aksplatform/service-common";
import { PROBE_PATHS } from "../../../components/workloads/microservice";
import { call, start, stopAll, unclosable } from "./support";

const REPO = path.join(__dirname, "../../..");

function seeding(counter: { calls: number }, gate?: Promise<void>): ServiceDefinition {
    return {
        name: "seeding-service",
        routes: () => [],
        seed: async (storage) => {
            counter.calls++;
            await gate;
            await storage.store("things").seed([{ name: "one" }]);
        },
    };
}

describe("Service process", () => {
    afterEach(stopAll);

    it("reads PORT, SEED_DATA, MONGODB_SECRET_FILE and MONGODB_CONNECTION_STRING, and rejects bad values by name", () => {
        assert.deepEqual(settingsFrom({}), {
            port: 8080,
            host: "0.0.0.0",
            storage: "mongodb",
            seedData: false,
            secretFile: "/vault/secrets/mongodb",
            fallbackConnectionString: undefined,
            logLevel: undefined,
        });
        const s = settingsFrom({ PORT: "9000", SEED_DATA: "True", MONGODB_SECRET_FILE: "/x", MONGODB_CONNECTION_STRING: "mongodb://h" });
        assert.equal(s.port, 9000);
        assert.equal(s.seedData, true);
        assert.equal(s.secretFile, "/x");
        assert.equal(s.fallbackConnectionString, "mongodb://h");
        assert.throws(() => settingsFrom({ PORT: "http" }), /PORT/);
        assert.throws(() => settingsFrom({ SEED_DATA: "yes" }), /SEED_DATA/);
    });

    it("listens on the chart's containerPort by default, and serves the chart's probe paths", () => {
        const values = parse(fs.readFileSync(path.join(REPO, "charts/microservice/values.yaml"), "utf8"));
        assert.equal(values.containerPort, DEFAULT_PORT);
        assert.equal(values.probes.path, LIVENESS_PATH);
        assert.equal(values.probes.readinessPath, READINESS_PATH);
        assert.deepEqual(PROBE_PATHS, { liveness: LIVENESS_PATH, readiness: READINESS_PATH });
    });

    it("is live while the database is down, and ready only while it answers", async () => {
        const storage = new InMemoryStorage();
        const { base } = await start(seeding({ calls: 0 }), { storage });
        assert.equal((await call(base, "GET", LIVENESS_PATH)).status, 200);
        assert.equal((await call(base, "GET", READINESS_PATH)).status, 200);
        storage.unavailable = true;
        assert.equal((await call(base, "GET", LIVENESS_PATH)).status, 200);
        const ready = await call(base, "GET", READINESS_PATH);
        assert.equal(ready.status, 503);
        assert.equal(ready.body.reason, "database unreachable");
        storage.unavailable = false;
        assert.equal((await call(base, "GET", READINESS_PATH)).status, 200);
    });

    it("is not ready while no connection string exists yet, and still live", async () => {
        const { base } = await start(seeding({ calls: 0 }), { env: { MONGODB_SECRET_FILE: path.join(REPO, "no-such-file") } });
        assert.equal((await call(base, "GET", LIVENESS_PATH)).status, 200);
        assert.equal((await call(base, "GET", READINESS_PATH)).status, 503);
    });

    it("seeds with SEED_DATA=true, is not ready until seeded, and seeds nothing twice across restarts", async () => {
        const shared = new InMemoryStorage();
        // One database outliving two processes: closing a process does not close the database.
        const database = unclosable(shared);
        const counter = { calls: 0 };
        let open: () => void = () => undefined;
        const gate = new Promise<void>((resolve) => (open = resolve));
        const first = await start(seeding(counter, gate), { storage: database, env: { SEED_DATA: "true" } });
        const waiting = await call(first.base, "GET", READINESS_PATH);
        assert.equal(waiting.status, 503);
        assert.equal(waiting.body.reason, "seeding");
        open();
        await new Promise((r) => setTimeout(r, 20));
        assert.equal((await call(first.base, "GET", READINESS_PATH)).status, 200);
        await first.service.shutdown();

        const second = await start(seeding(counter), { storage: database, env: { SEED_DATA: "true" } });
        await new Promise((r) => setTimeout(r, 20));
        assert.equal((await call(second.base, "GET", READINESS_PATH)).status, 200);
        assert.equal(counter.calls, 2);
        assert.equal((await shared.store("things").list()).length, 1);
        assert.equal(shared.counter("things"), 1);
    });

    it("does not seed without SEED_DATA=true", async () => {
        const counter = { calls: 0 };
        const storage = new InMemoryStorage();
        await start(seeding(counter), { storage, env: { SEED_DATA: "false" } });
        await new Promise((r) => setTimeout(r, 20));
        assert.equal(counter.calls, 0);
        assert.deepEqual(await storage.store("things").list(), []);
    });

    it("on SIGTERM fails readiness, closes the server and the storage, then exits 0", async () => {
        const storage = new InMemoryStorage();
        const { service, base } = await start(seeding({ calls: 0 }), { storage });
        assert.equal((await call(base, "GET", READINESS_PATH)).status, 200);
        const exited = new Promise<number>((resolve) => signalHandler(service, resolve)());
        assert.equal(await exited, 0);
        assert.equal(service.server.listening, false);
        assert.equal(storage.isClosed, true);
        assert.equal(await service.notReadyReason(), "shutting down");
        await assert.rejects(call(base, "GET", LIVENESS_PATH));
    });

    it("lets a request in flight finish during shutdown", async () => {
        let release: () => void = () => undefined;
        let entered: () => void = () => undefined;
        const inHandler = new Promise<void>((r) => (entered = r));
        const slow: ServiceDefinition = {
            name: "slow-service",
            seed: async () => undefined,
            routes: () => [
                {
                    method: "GET",
                    path: "/slow",
                    handler: async () => {
                        const released = new Promise<void>((r) => (release = r));
                        entered();
                        await released;
                        return { status: 200, body: "done" };
                    },
                },
            ],
        };
        const { service, base } = await start(slow, { storage: new InMemoryStorage() });
        const pending = call(base, "GET", "/slow");
        // In flight: the handler is running (a request that only arrives after shutdown began gets a
        // 503 from Fastify, return503OnClosing, which is right: readiness has failed by then).
        await inHandler;
        const stopping = service.shutdown();
        release();
        assert.equal((await pending).body, "done");
        await stopping;
    });

    it("starts Application Insights only with APPLICATIONINSIGHTS_CONNECTION_STRING, and masks it in logs", async () => {
        const calls: unknown[] = [];
        let shutdowns = 0;
        const distro: AzureMonitorDistro = {
            useAzureMonitor: (options) => void calls.push(options),
            shutdownAzureMonitor: async () => void shutdowns++,
        };
        const lines: string[] = [];
        const logger = new Logger({}, "debug", (l) => lines.push(l));
        const off = startTelemetry({}, "x", logger, () => assert.fail("the distro must not load"));
        assert.equal(off.enabled, false);

        const cs = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://example.invalid/";
        const { service, logs } = await start(seeding({ calls: 0 }), {
            storage: new InMemoryStorage(),
            env: { APPLICATIONINSIGHTS_CONNECTION_STRING: cs },
            loadTelemetry: () => distro,
        });
        assert.equal(calls.length, 1);
        assert.equal(
            (calls[0] as { azureMonitorExporterOptions: { connectionString: string } }).azureMonitorExporterOptions.connectionString,
            cs,
        );
        service.logger.info("echo", { value: cs });
        assert.ok(!logs.join("\n").includes(cs));
        await service.shutdown();
        assert.equal(shutdowns, 1);
    });

    it("loads neither the MongoDB driver nor the telemetry distro when the shared package is imported", () => {
        // A fresh process: what this one has loaded already says nothing.
        const script = [
            'require("@aksplatform/service-common");',
            "const loaded = Object.keys(require.cache).filter((f) => /node_modules[\\\\/](mongodb|@azure[\\\\/]monitor-opentelemetry)[\\\\/]/.test(f));",
            "process.stdout.write(JSON.stringify(loaded));",
        ].join("\n");
        const out = execFileSync(
            process.execPath,
            ["--conditions=aksplatform-source", "-r", "ts-node/register/transpile-only", "-e", script],
            {
                cwd: REPO,
                encoding: "utf8",
            },
        );
        assert.deepEqual(JSON.parse(out), []);
    });
});
