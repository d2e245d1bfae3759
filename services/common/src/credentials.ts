// The MongoDB connection string: the Vault agent's file, or MONGODB_CONNECTION_STRING for local
// development. The agent re-renders the file when it gets new dynamic credentials; this notices and
// hands the new string on, so the process reconnects without a restart.
import * as fs from "fs";
import type { Logger } from "./logger";
import { errorFields } from "./logger";

/** Where the Vault agent injector writes the rendered template `mongodb` (vault.hashicorp.com/agent-inject-secret-mongodb). */
export const VAULT_SECRET_PATH = "/vault/secrets/mongodb";

export interface CredentialSourceOptions {
    /** The agent's file. Default: /vault/secrets/mongodb. */
    readonly file?: string;
    /** Used while the file does not exist: MONGODB_CONNECTION_STRING. */
    readonly fallback?: string;
    readonly logger: Logger;
    /** How often the file is read again, in milliseconds. Default: 1000. */
    readonly intervalMs?: number;
}

/**
 * Reads the connection string and reports each new value to its listeners.
 *
 * The agent (consul-template's renderer) writes a new file next to the old one and renames it over the
 * destination, and only when the content changed (hashicorp/consul-template renderer/renderer.go,
 * Render and AtomicWrite). An inotify watch on the file would follow the replaced inode and miss every
 * later change, and a stat poll (fs.watchFile) misses a change made before its first stat. The file is
 * a few hundred bytes, so it is simply read again every interval and compared.
 */
export class CredentialSource {
    readonly file: string;
    private readonly fallback: string | undefined;
    private readonly logger: Logger;
    private readonly intervalMs: number;
    private readonly listeners: ((value: string) => void)[] = [];
    private current: string | undefined;
    private timer: NodeJS.Timeout | undefined;

    constructor(options: CredentialSourceOptions) {
        this.file = options.file ?? VAULT_SECRET_PATH;
        this.fallback = options.fallback?.trim() || undefined;
        this.logger = options.logger;
        this.intervalMs = options.intervalMs ?? 1000;
    }

    /** The connection string now, from the file or else the fallback; undefined when neither exists. */
    read(): string | undefined {
        let value: string | undefined;
        try {
            value = fs.readFileSync(this.file, "utf8").trim() || undefined;
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
                this.logger.warn("cannot read the credentials file", { file: this.file, ...errorFields(error) });
            }
        }
        const result = value ?? this.fallback;
        // Whatever the source, the value and its password are masked in every later log line.
        if (result) for (const secret of secretsOf(result)) this.logger.addSecret(secret);
        return result;
    }

    /** Where the current value came from, for logs (never the value). */
    describe(): string {
        return fs.existsSync(this.file) ? `file ${this.file}` : this.fallback ? "MONGODB_CONNECTION_STRING" : "nowhere yet";
    }

    /** Calls `listener` with the current value (if any) and with every new one. */
    subscribe(listener: (value: string) => void): void {
        this.listeners.push(listener);
        if (this.current === undefined) this.current = this.read();
        if (this.current !== undefined) listener(this.current);
    }

    /** Starts polling the file. */
    start(): void {
        if (this.timer) return;
        this.timer = setInterval(() => this.refresh(), this.intervalMs);
        // The poll alone never keeps the process alive (the HTTP server does).
        this.timer.unref();
    }

    /**
     * Re-reads the source now and notifies the listeners when the value changed. Also called on an
     * authentication failure, in case the agent wrote new credentials between two polls.
     */
    refresh(): boolean {
        const value = this.read();
        if (value === undefined || value === this.current) return false;
        this.current = value;
        this.logger.info("MongoDB credentials changed", { source: this.describe() });
        for (const listener of this.listeners) listener(value);
        return true;
    }

    stop(): void {
        clearInterval(this.timer);
        this.timer = undefined;
    }
}

/** The connection string itself and the user-info's password (decoded too), the parts no log may show. */
export function secretsOf(connectionString: string): string[] {
    const secrets = [connectionString];
    const userInfo = /^[a-z][a-z0-9+.-]*:\/\/([^@/]*)@/i.exec(connectionString)?.[1];
    const password = userInfo?.includes(":") ? userInfo.slice(userInfo.indexOf(":") + 1) : undefined;
    if (password) {
        secrets.push(password);
        try {
            secrets.push(decodeURIComponent(password));
        } catch {
            // not percent-encoded: the raw form is already masked
        }
    }
    return secrets;
}
