// One service process: configuration from the environment, telemetry first, the connection string and
// its reloads, MongoDB storage, seeding, the HTTP server with liveness and readiness, and a graceful
// stop on SIGTERM.
import * as http from "http";
import type { AddressInfo } from "net";
import { CredentialSource, VAULT_SECRET_PATH } from "./credentials";
import { createRouter, type Route } from "./http";
import { errorFields, Logger, logLevelFrom, type LogSink } from "./logger";
import { MongoConnection, MongoStorage, mongoClientFactory, type MongoClientFactory } from "./mongoStorage";
import type { Storage } from "./storage";
import { startTelemetry, type AzureMonitorDistro, type Telemetry } from "./telemetry";

/** The port the chart's containerPort names (charts/microservice values.yaml). */
export const DEFAULT_PORT = 8080;
/** Liveness (and startup): 200 while the process serves HTTP. The lab's health endpoint. */
export const LIVENESS_PATH = "/health";
/** Readiness: 200 only while MongoDB answers and seeding is done. */
export const READINESS_PATH = "/health/ready";

/** What makes product-service product-service. */
export interface ServiceDefinition {
    /** e.g. product-service: the log field `service` and the telemetry role name. */
    readonly name: string;
    /** The API routes, served from `storage`. */
    routes(storage: Storage): Route[];
    /** Seeds the service's collections when they are empty (SEED_DATA=true). */
    seed(storage: Storage): Promise<void>;
}

/** The environment variables a service reads (the chart and the lab's local set-up give these). */
export interface ServiceSettings {
    readonly port: number;
    readonly seedData: boolean;
    readonly secretFile: string;
    readonly fallbackConnectionString: string | undefined;
    readonly logLevel: string | undefined;
}

/** Parses the environment; an invalid PORT or SEED_DATA is an error naming the variable. */
export function settingsFrom(env: NodeJS.ProcessEnv): ServiceSettings {
    const port = env.PORT === undefined || env.PORT === "" ? DEFAULT_PORT : Number(env.PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT: ${env.PORT} is not a port number`);
    const seed = (env.SEED_DATA ?? "false").trim().toLowerCase();
    if (seed !== "true" && seed !== "false" && seed !== "") throw new Error(`SEED_DATA: ${env.SEED_DATA} is not true or false`);
    return {
        port,
        seedData: seed === "true",
        secretFile: env.MONGODB_SECRET_FILE || VAULT_SECRET_PATH,
        fallbackConnectionString: env.MONGODB_CONNECTION_STRING,
        logLevel: env.LOG_LEVEL,
    };
}

export interface StartOptions {
    readonly env?: NodeJS.ProcessEnv;
    /** Address to listen on. Default: every interface (the Istio sidecar forwards to the pod's address). */
    readonly host?: string;
    /** Storage to serve from instead of MongoDB (tests); no connection string is read then. */
    readonly storage?: Storage;
    /** Makes MongoDB clients. Default: the driver's MongoClient. */
    readonly clientFactory?: MongoClientFactory;
    readonly logSink?: LogSink;
    /** Credentials file poll interval. Default: 1000 ms. */
    readonly watchIntervalMs?: number;
    /** Delay before retrying a failed connect or seed. Default: 1000 ms. */
    readonly retryMs?: number;
    /** Loads the Application Insights distro (tests). */
    readonly loadTelemetry?: () => AzureMonitorDistro;
}

export interface RunningService {
    readonly server: http.Server;
    readonly port: number;
    readonly storage: Storage;
    readonly logger: Logger;
    /** Readiness now: undefined when ready, else why not. */
    notReadyReason(): Promise<string | undefined>;
    /** Stops: readiness fails, the server stops accepting and finishes open requests, then storage and telemetry close. */
    shutdown(): Promise<void>;
}

/** Longest wait for open requests on shutdown before their connections are cut. */
const SHUTDOWN_TIMEOUT_MS = 10_000;
/** Readiness fails when MongoDB has not answered a ping in this long. */
const PING_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Starts `definition` and resolves once it listens. */
export async function startService(definition: ServiceDefinition, options: StartOptions = {}): Promise<RunningService> {
    const env = options.env ?? process.env;
    const settings = settingsFrom(env);
    const logger = new Logger({ service: definition.name }, logLevelFrom(settings.logLevel), options.logSink);
    const telemetry: Telemetry = startTelemetry(env, definition.name, logger, options.loadTelemetry);
    const retryMs = options.retryMs ?? 1000;

    let credentials: CredentialSource | undefined;
    let storage: Storage;
    // Seeding starts once the database is there, rather than failing every second until it is.
    let reachable: Promise<void> = Promise.resolve();
    if (options.storage) {
        storage = options.storage;
    } else {
        const source = new CredentialSource({
            file: settings.secretFile,
            fallback: settings.fallbackConnectionString,
            logger,
            intervalMs: options.watchIntervalMs,
        });
        credentials = source;
        if (source.read()) logger.info(`MongoDB connection string from ${source.describe()}`);
        else logger.error("no MongoDB connection string yet: waiting for the credentials file", { file: source.file });
        const connection = new MongoConnection({ factory: options.clientFactory ?? mongoClientFactory(definition.name), logger, retryMs });
        storage = new MongoStorage(connection, { onCredentialError: () => source.refresh() });
        reachable = connection.whenConnected();
        source.subscribe((connectionString) => void connection.use(connectionString));
        source.start();
    }

    let stopping = false;
    let seeded = !settings.seedData;
    const seed = async () => {
        await reachable;
        let delay = retryMs;
        for (let attempt = 1; !seeded && !stopping; attempt++) {
            try {
                await definition.seed(storage);
                seeded = true;
                logger.info("seed data in place");
            } catch (error) {
                logger.warn("seeding failed; retrying", { attempt, retryInMs: delay, ...errorFields(error) });
                await new Promise((resolve) => setTimeout(resolve, delay).unref());
                delay = Math.min(delay * 2, 30_000);
            }
        }
    };
    void seed();

    const notReadyReason = async (): Promise<string | undefined> => {
        if (stopping) return "shutting down";
        try {
            await withTimeout(storage.ping(), PING_TIMEOUT_MS, "ping timed out");
        } catch {
            return "database unreachable";
        }
        return seeded ? undefined : "seeding";
    };

    const routes: Route[] = [
        { method: "GET", path: LIVENESS_PATH, quiet: true, handler: () => ({ status: 200, body: { status: "Healthy" } }) },
        {
            method: "GET",
            path: READINESS_PATH,
            quiet: true,
            handler: async () => {
                const reason = await notReadyReason();
                return reason ? { status: 503, body: { status: "Unhealthy", reason } } : { status: 200, body: { status: "Healthy" } };
            },
        },
        ...definition.routes(storage),
    ];
    const server = http.createServer(createRouter(routes, logger));
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(settings.port, options.host, () => {
            server.off("error", reject);
            resolve();
        });
    });
    const port = (server.address() as AddressInfo).port;
    logger.info("listening", { port, seedData: settings.seedData, telemetry: telemetry.enabled });

    let stopped: Promise<void> | undefined;
    const shutdown = () =>
        (stopped ??= (async () => {
            stopping = true;
            logger.info("shutting down");
            const closed = new Promise<void>((resolve) => server.close(() => resolve()));
            // Keep-alive connections go as soon as their request is answered; whatever is still open at
            // the deadline is cut.
            const idle = setInterval(() => server.closeIdleConnections(), 50);
            const timer = setTimeout(() => server.closeAllConnections(), SHUTDOWN_TIMEOUT_MS).unref();
            await closed;
            clearInterval(idle);
            clearTimeout(timer);
            credentials?.stop();
            await storage.close().catch((error: unknown) => logger.warn("closing storage failed", errorFields(error)));
            await telemetry.shutdown().catch((error: unknown) => logger.warn("stopping telemetry failed", errorFields(error)));
            logger.info("stopped");
        })());

    return { server, port, storage, logger, notReadyReason, shutdown };
}

/** The SIGTERM/SIGINT handler: shuts `service` down once, then exits (1 when shutdown failed). */
export function signalHandler(service: RunningService, exit: (code: number) => void = (code) => process.exit(code)): () => void {
    return () => {
        service
            .shutdown()
            .then(() => exit(0))
            .catch((error: unknown) => {
                service.logger.error("shutdown failed", errorFields(error));
                exit(1);
            });
    };
}

/** The process entry point: starts `definition` from process.env and stops it on SIGTERM or SIGINT. */
export function runService(definition: ServiceDefinition): void {
    startService(definition)
        .then((service) => {
            const handler = signalHandler(service);
            process.once("SIGTERM", handler);
            process.once("SIGINT", handler);
        })
        .catch((error: unknown) => {
            // The logger may not exist yet (a bad PORT): a plain structured line, redacted all the same.
            new Logger({ service: definition.name }).error("could not start", errorFields(error));
            process.exit(1);
        });
}
