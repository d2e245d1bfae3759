import { strict as assert } from "assert";
import { Logger, errorFields, logLevelFrom, redact, secretsOf } from "@aksplatform/service-common";

describe("Logger", () => {
    it("writes one JSON object per line with time, level, its fields and the message", () => {
        const lines: string[] = [];
        new Logger({ service: "s" }, "info", (l) => lines.push(l)).child({ part: "p" }).info("hello", { n: 1 });
        const line = JSON.parse(lines[0]);
        assert.deepEqual({ ...line, time: undefined }, { time: undefined, level: "info", service: "s", part: "p", msg: "hello", n: 1 });
    });

    it("drops lines below its level; LOG_LEVEL picks it, info by default", () => {
        const lines: string[] = [];
        const logger = new Logger({}, logLevelFrom("WARN"), (l) => lines.push(l));
        logger.info("no");
        logger.warn("yes");
        assert.deepEqual(
            lines.map((l) => JSON.parse(l).msg),
            ["yes"],
        );
        assert.equal(logLevelFrom(undefined), "info");
        assert.equal(logLevelFrom("verbose"), "info");
    });

    it("masks registered secrets anywhere in a line, in children and parents alike, and JSON-escaped", () => {
        const lines: string[] = [];
        const parent = new Logger({}, "debug", (l) => lines.push(l));
        const child = parent.child({ c: 1 });
        child.addSecret('pa"ss');
        parent.error("failed", { nested: { detail: 'login with pa"ss refused' }, ...errorFields(new Error('bad pa"ss')) });
        assert.ok(!lines[0].includes('pa\\"ss') && !lines[0].includes('pa"ss'), lines[0]);
        assert.match(lines[0], /\*\*\*/);
    });

    it("masks the credentials of any URL, registered or not", () => {
        assert.equal(
            redact("mongodb://v-token-product-abc:A1b2-C3d4@mongodb:27017/microservices?authSource=admin"),
            "mongodb://***@mongodb:27017/microservices?authSource=admin",
        );
        assert.equal(redact("no url here"), "no url here");
    });
});

describe("Logger on pino: the current MongoDB credentials never reach a line", () => {
    it("masks the connection string and its password (raw, decoded, JSON-escaped) in messages, fields, stacks and Fastify's child loggers", () => {
        const lines: string[] = [];
        const logger = new Logger({ service: "s" }, "debug", (l) => lines.push(l));
        const connection = "mongodb://v-token-order-xyz:p%40ss%22w0rd@mongodb:27017/microservices?authSource=admin";
        for (const secret of secretsOf(connection)) logger.addSecret(secret);
        logger.error("connect failed", errorFields(new Error(`auth failed for p@ss"w0rd at ${connection}`)));
        logger.pino.child({ reqId: "r1" }).warn({ detail: 'p@ss"w0rd' }, 'password p@ss"w0rd in a message');
        logger.child({ part: "x" }).info("nested", { deep: { deeper: ["p%40ss%22w0rd"] } });
        assert.equal(lines.length, 3);
        for (const line of lines) {
            assert.ok(!line.includes("w0rd"), line);
            assert.match(line, /\*\*\*/);
            assert.doesNotThrow(() => JSON.parse(line), line);
        }
        assert.equal(JSON.parse(lines[1]).reqId, "r1");
    });

    it("masks a rotated password from the moment it is known, and keeps the old one masked", () => {
        const lines: string[] = [];
        const logger = new Logger({}, "info", (l) => lines.push(l));
        for (const secret of secretsOf("mongodb://u1:first-secret@h/db")) logger.addSecret(secret);
        for (const secret of secretsOf("mongodb://u2:second-secret@h/db")) logger.addSecret(secret);
        logger.info("both", { a: "first-secret", b: "second-secret" });
        assert.ok(!/first-secret|second-secret/.test(lines[0]), lines[0]);
    });
});
