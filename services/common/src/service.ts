// One service process: configuration from the environment, telemetry first, the connection string and
// its reloads, MongoDB storage, seeding, the HTTP server with liveness and readiness, and a graceful
// stop on SIGTERM.
import type * as http from "http";
import type { AddressInfo } from "net";
import { CredentialSource, VAULT_SECRET_PATH } from "./credentials";
import { createServer, type Route } from "./http";
import { errorFields, Logger, logLevelFrom, type LogSink } from "./logger";
import { MongoConnection, MongoStorage, mongoClientFactory, type MongoClientFactory } from "./mongoStorage";
import type { FastifyInstance } from "fastify";
import { InMemoryStorage, type Storage } from "./storage";
import { startTelemetry, type AzureMonitorDistro, type Telemetry } from "./telemetry";

/** The port the chart's containerPort names (charts/microservice values.yaml). */
export const DEFAULT_PORT = 8080;
/** Liveness (and startup): 200 while the process serves HTTP. The lab's health endpoint. */
export const LIVENESS_PATH = "/health";
/** Readiness: 200 only while MongoDB answers and seeding is done. */
export const READINESS_PATH = "/health/ready";

/** What a service's routes may read besides storage: its environment and logger. */
export interface ServiceContext {
    readonly env: NodeJS.ProcessEnv;
    readonly logger: Logger;
}

/** What makes product-service product-service. */
export interface ServiceDefinition {
    /** e.g. product-service: the log field `service` and the telemetry role name. */
    readonly name: string;
    /** One line on what the API is, for the OpenAPI document. */
    readonly description?: string;
    /**
     * The API routes, served from `storage`. Called once at start-up, before the server listens: an
     * error here (a missing setting, named) stops the process.
     */
    routes(storage: Storage, context: ServiceContext): Route[];
    /** Seeds the service's collections when they are empty (SEED_DATA=true). */
    seed(storage: Storage): Promise<void>;
    /** What the collections need before the service is ready, at every start (indexes); idempotent. */
    prepare?(storage: Storage): Promise<void>;
}

/** Where records live: MongoDB (the default, and the only thing the chart runs), or process memory. */
export type StorageMode = "mongodb" | "memory";
export const STORAGE_MODES: readonly StorageMode[] = ["mongodb", "memory"];

/** The environment variables a service reads (the chart and the lab's local set-up give these). */
export interface ServiceSettings {
    readonly port: number;
    /** HOST: the address to listen on. Default 0.0.0.0 (every IPv4 interface: the pod's address). */
    readonly host: string;
    /** STORAGE: mongodb (default) or memory (nothing kept; local trials and the benchmark). */
    readonly storage: StorageMode;
    readonly seedData: boolean;
    readonly secretFile: string;
    readonly fallbackConnectionString: string | undefined;
    readonly logLevel: string | undefined;
}

/** Parses the environment; an invalid PORT or SEED_DATA is an error naming the variable. */
export function settingsFrom(env: NodeJS.ProcessEnv): ServiceSettings {
    const port = env.PORT === undefined || env.PORT === "" ? DEFAULT_PORT : Number(env.PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT: ${env.PORT} is not a port number`);
    const storage = (env.STORAGE ?? "").trim().toLowerCase() || "mongodb";
    if (!(STORAGE_MODES as readonly string[]).includes(storage)) {
        throw new Error(`STORAGE: ${env.STORAGE} is not one of ${STORAGE_MODES.join(", ")}`);
    }
    // An in-memory store starts empty every time: it is seeded unless SEED_DATA=false says otherwise.
    const seed = (env.SEED_DATA ?? "").trim().toLowerCase() || (storage === "memory" ? "true" : "false");
    if (seed !== "true" && seed !== "false") throw new Error(`SEED_DATA: ${env.SEED_DATA} is not true or false`);
    return {
        port,
        host: env.HOST?.trim() || "0.0.0.0",
        storage: storage as StorageMode,
        seedData: seed === "true",
        secretFile: env.MONGODB_SECRET_FILE || VAULT_SECRET_PATH,
        fallbackConnectionString: env.MONGODB_CONNECTION_STRING,
        logLevel: env.LOG_LEVEL,
    };
}

export interface StartOptions {
    readonly env?: NodeJS.ProcessEnv;
    /** Address to listen on. Default: every IPv4 interface, 0.0.0.0 (the Istio sidecar forwards to the pod's address). */
    readonly host?: string;
    /** Storage to serve from instead of STORAGE's (tests); no connection string is read then. */
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
    readonly app: FastifyInstance;
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
    } else if (settings.storage === "memory") {
        storage = new InMemoryStorage();
        logger.warn(
            "STORAGE=memory: records live in this process only and NOTHING IS KEPT; every change is lost when it stops. For trying the API locally, never for a deployment",
            { storage: "memory" },
        );
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
    let prepared = !definition.prepare;
    let seeded = !settings.seedData;
    const seed = async () => {
        await reachable;
        let delay = retryMs;
        for (let attempt = 1; !(prepared && seeded) && !stopping; attempt++) {
            try {
                if (!prepared) {
                    await definition.prepare?.(storage);
                    prepared = true;
                    logger.info("collections prepared (indexes in place)");
                }
                if (!seeded) {
                    await definition.seed(storage);
                    seeded = true;
                    logger.info("seed data in place");
                }
            } catch (error) {
                logger.warn(prepared ? "seeding failed; retrying" : "preparing the collections failed; retrying", {
                    attempt,
                    retryInMs: delay,
                    ...errorFields(error),
                });
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
        return !prepared ? "creating indexes" : seeded ? undefined : "seeding";
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
        ...definition.routes(storage, { env, logger }),
    ];
    const app = await createServer(routes, logger, { title: definition.name, description: definition.description });
    await app.listen({ port: settings.port, host: options.host ?? settings.host });
    const server = app.server;
    const port = (server.address() as AddressInfo).port;
    logger.info("listening", {
        port,
        storage: options.storage ? "injected" : settings.storage,
        seedData: settings.seedData,
        telemetry: telemetry.enabled,
    });

    let stopped: Promise<void> | undefined;
    const shutdown = () =>
        (stopped ??= (async () => {
            stopping = true;
            logger.info("shutting down");
            // Fastify stops accepting, answers new requests on open connections with 503 and closes idle
            // keep-alive connections (forceCloseConnections "idle"); requests in flight finish. Keep-alive
            // connections go as soon as their request is answered; whatever is still open at the deadline is cut.
            const closed = app.close();
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

    return { server, app, port, storage, logger, notReadyReason, shutdown };
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
