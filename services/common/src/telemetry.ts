// Application Insights through the Azure Monitor OpenTelemetry distro, when
// APPLICATIONINSIGHTS_CONNECTION_STRING is set (the keyvault-secrets key the chart maps to env);
// nothing is loaded or sent when it is not.
import * as os from "os";
import * as path from "path";
import type { AzureMonitorOpenTelemetryOptions } from "@azure/monitor-opentelemetry";
import type { Logger } from "./logger";

/** The two functions of the distro the services call. */
export interface AzureMonitorDistro {
    useAzureMonitor(options?: AzureMonitorOpenTelemetryOptions): void;
    shutdownAzureMonitor(): Promise<void>;
}

export interface Telemetry {
    readonly enabled: boolean;
    /** Flushes and stops the exporters. */
    shutdown(): Promise<void>;
}

/**
 * Starts the distro for service `name` when the environment has a connection string. Call it before
 * anything loads `mongodb`: its instrumentation patches modules as they are first required.
 */
export function startTelemetry(
    env: NodeJS.ProcessEnv,
    name: string,
    logger: Logger,
    load: () => AzureMonitorDistro = loadDistro,
): Telemetry {
    const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING?.trim();
    if (!connectionString) {
        logger.info("Application Insights off: APPLICATIONINSIGHTS_CONNECTION_STRING is not set");
        return { enabled: false, shutdown: async () => undefined };
    }
    logger.addSecret(connectionString);
    // The cloud role name in Application Insights; the OpenTelemetry SDK reads it from the environment.
    process.env.OTEL_SERVICE_NAME ??= name;
    const distro = load();
    distro.useAzureMonitor({
        azureMonitorExporterOptions: {
            connectionString,
            // Retries are buffered on disk (at most 50 MB): under /tmp, the only writable path.
            storageDirectory: path.join(os.tmpdir(), "azure-monitor"),
        },
        instrumentationOptions: { http: { enabled: true }, mongoDb: { enabled: true } },
    });
    logger.info("Application Insights on");
    return { enabled: true, shutdown: () => distro.shutdownAzureMonitor() };
}

function loadDistro(): AzureMonitorDistro {
    // Synchronous on purpose: the distro must be running before the caller goes on to load the driver.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("@azure/monitor-opentelemetry") as AzureMonitorDistro;
}
