// Pure validators. Each returns an error message naming the key (the member's path, which the caller
// passes), the value and what is allowed, or undefined when the value is fine. Tested with tables of
// good and bad input (tests/config.test.ts).
import { AZURE_REGIONS } from "./azureRegions";
import { CronExpressionParser } from "cron-parser";
import { createPrivateKey, type KeyObject, X509Certificate } from "crypto";
import { distance } from "fastest-levenshtein";
import * as ipaddr from "ipaddr.js";
import { rootCertificates } from "tls";
import {
    AKS_KUBERNETES_MINORS,
    AVAILABILITY_ZONES,
    AZURE_RESERVED_SUBNET_ADDRESSES,
    LOCAL_TEMP_DISK_GIB,
    MIN_KUBERNETES_MINOR,
    POOL_MAX_SURGE_PERCENT,
} from "./constants";
import { configSetCommand, P, type MemberPath } from "./paths";
import type { NodePoolConfig } from "./types";

export const show = (value: unknown): string => JSON.stringify(value);

export function checkOneOf<T>(key: string, value: T, allowed: readonly T[]): string | undefined {
    return allowed.includes(value) ? undefined : `${key}: ${show(value)} is not allowed; use one of ${allowed.join(", ")}`;
}

export function checkIntRange(key: string, value: number, min: number, max: number): string | undefined {
    return Number.isInteger(value) && value >= min && value <= max
        ? undefined
        : `${key}: ${show(value)} is not allowed; use a whole number from ${min} to ${max}`;
}

/** The candidate nearest to `value` (case-insensitively), if it is close enough to be a typo. */
export function nearest<T extends string>(value: string, candidates: readonly T[]): T | undefined {
    const scored = candidates.map((candidate) => ({ candidate, d: distance(value.toLowerCase(), candidate.toLowerCase()) }));
    const best = scored.reduce((a, b) => (b.d < a.d ? b : a));
    return best.d <= Math.max(2, Math.floor(value.length / 3)) ? best.candidate : undefined;
}

/** An Azure public-cloud region by its programmatic name (the list in azureRegions.ts, with its source). */
export function checkRegion(key: string, value: string): string | undefined {
    if ((AZURE_REGIONS as readonly string[]).includes(value)) return undefined;
    // "East US 2" or "EastUS2" is a display spelling of a real name: say which.
    const squashed = value.toLowerCase().replace(/[\s_-]/g, "");
    const near = (AZURE_REGIONS as readonly string[]).includes(squashed) ? squashed : nearest(value, AZURE_REGIONS);
    return `${key}: ${show(value)} is not an Azure region${near ? ` (did you mean ${near}?)` : ""}; use the lowercase programmatic name of a public-cloud region (az account list-locations), e.g. eastus or westeurope`;
}

/** A name prefix of 2 up to `max` lowercase letters and digits, starting with a letter. */
export function checkNamePrefix(key: string, value: string, max: number, why: string): string | undefined {
    return /^[a-z][a-z0-9]*$/.test(value) && value.length >= 2 && value.length <= max
        ? undefined
        : `${key}: ${show(value)} is not allowed; use 2-${max} lowercase letters and digits, starting with a letter (${why})`;
}

/**
 * A Kubernetes version within the minors AKS serves (AKS_KUBERNETES_MINORS): older ones AKS no longer
 * creates clusters on, newer ones it does not offer yet (a PUT with either fails only minutes into the
 * first up, or on a day-2 update).
 */
export function checkKubernetesVersion(key: string, value: string): string | undefined {
    const match = /^1\.(\d+)(\.\d+)?$/.exec(value);
    const minor = match ? Number(match[1]) : undefined;
    if (minor !== undefined && minor >= MIN_KUBERNETES_MINOR && minor <= AKS_KUBERNETES_MINORS.newest) return undefined;
    const range = `1.${AKS_KUBERNETES_MINORS.oldest} to 1.${AKS_KUBERNETES_MINORS.newest}`;
    const calendar = `(as of ${AKS_KUBERNETES_MINORS.asOf}, AKS release calendar; \`az aks get-versions --location <region>\` lists them)`;
    if (minor === undefined)
        return `${key}: ${show(value)} is not allowed; use a Kubernetes version AKS supports (${range}), as major.minor or major.minor.patch`;
    return minor < MIN_KUBERNETES_MINOR
        ? `${key}: ${show(value)} is a minor AKS no longer supports; AKS supports ${range} ${calendar}, so use 1.${MIN_KUBERNETES_MINOR} or newer`
        : `${key}: ${show(value)} is newer than any minor AKS serves; AKS supports ${range} ${calendar}, so use 1.${AKS_KUBERNETES_MINORS.newest} or older (once AKS offers a newer minor, move AKS_KUBERNETES_MINORS in components/config/constants.ts forward)`;
}

export function checkVmSize(key: string, value: string): string | undefined {
    return /^Standard_[A-Za-z0-9_]+$/.test(value)
        ? undefined
        : `${key}: ${show(value)} is not an Azure VM size; use a name like Standard_D4s_v5`;
}

export function checkZones(key: string, value: readonly string[]): string | undefined {
    const ok = value.every((z) => (AVAILABILITY_ZONES as readonly string[]).includes(z)) && new Set(value).size === value.length;
    return ok
        ? undefined
        : `${key}: ${show(value)} is not allowed; use distinct zones from ${AVAILABILITY_ZONES.map((z) => show(z)).join(", ")}, or none`;
}

export function checkCidr(key: string, value: string): string | undefined {
    // Dotted four-part decimal only (no "10.1", no hex or octal forms), as ARM and Kubernetes write them.
    const ok = value.includes("/") ? ipaddr.IPv4.isValidCIDRFourPartDecimal(value) : ipaddr.IPv4.isValidFourPartDecimal(value);
    return ok ? undefined : `${key}: ${show(value)} is not an IPv4 address or CIDR range, e.g. 10.0.0.0/16`;
}

export function checkGuid(key: string, value: string): string | undefined {
    return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)
        ? undefined
        : `${key}: ${show(value)} is not an object ID; use a GUID like 00000000-0000-0000-0000-000000000000`;
}

/** Key Vault names: 3-24 characters, letters, digits and hyphens, start with a letter, end with a letter or digit, no "--". */
export function checkKeyVaultName(key: string, value: string): string | undefined {
    const ok = /^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/.test(value) && !value.includes("--");
    return ok
        ? undefined
        : `${key}: makes the Key Vault name ${show(value)} (${value.length} characters); Key Vault names are 3-24 letters, digits and single hyphens, starting with a letter`;
}

export function checkTag(key: string, value: string): string | undefined {
    const match = /^([^=<>%&\\?/]{1,512})=(.{0,256})$/.exec(value);
    return match
        ? undefined
        : `${key}: ${show(value)} is not a tag; use key=value, a key of 1-512 characters without < > % & \\ ? / and a value of at most 256`;
}

/** The five fields of a cron schedule and the values each takes (Kubernetes CronJob, standard syntax). */
const CRON_FIELDS = [
    { name: "minute", min: 0, max: 59 },
    { name: "hour", min: 0, max: 23 },
    { name: "day of month", min: 1, max: 31 },
    { name: "month", min: 1, max: 12 },
    { name: "day of week", min: 0, max: 6 },
] as const;

/** The characters of a numeric cron field: numbers, `*`, ranges, steps and lists (no names, `?`, L, W, #, H). */
const CRON_FIELD_SYNTAX = /^[0-9*,/-]+$/;

/**
 * A cron schedule parsed by cron-parser, or undefined when it is not one of five numeric fields within
 * their ranges. cron-parser accepts more than the CronJob's parser (robfig/cron v3, parser.go:
 * standardParser, dow bounds 0-6): names, `?`, L, #, H, a seconds field and 7 for Sunday; those stay
 * rejected here, so a schedule that passes is one Kubernetes takes as written.
 */
function parseCron(value: string): ReturnType<typeof CronExpressionParser.parse> | undefined {
    const fields = value.trim().split(/\s+/);
    if (fields.length !== CRON_FIELDS.length || !fields.every((f) => CRON_FIELD_SYNTAX.test(f))) return undefined;
    const dowMax = CRON_FIELDS[4].max;
    if (
        fields[4].split(",").some((part) =>
            part
                .split("/")[0]
                .split("-")
                .some((n) => Number(n) > dowMax),
        )
    )
        return undefined;
    try {
        return CronExpressionParser.parse(fields.join(" "), { tz: "UTC" });
    } catch {
        return undefined;
    }
}

/** A cron schedule of five numeric fields (no names, no @daily, no TZ= prefix: the CronJob sets the zone). */
export function checkCronSchedule(key: string, value: string): string | undefined {
    return parseCron(value)
        ? undefined
        : `${key}: ${show(value)} is not a cron schedule; use five fields, ${CRON_FIELDS.map((f) => `${f.name} ${f.min}-${f.max}`).join(", ")} (each *, n, n-m or a comma list, optionally /step), e.g. "0 3 * * *"`;
}

/**
 * The longest time, in minutes, between two consecutive runs of a valid cron schedule (UTC), over 62
 * days; Infinity when it runs fewer than twice in that span. The field values are cron-parser's; the
 * day rule is Kubernetes': CronJobs use robfig/cron v3, where day of month and day of week are ANDed
 * when either starts with `*`, ORed otherwise (spec.go, dayMatches), which is not cron-parser's rule
 * (it ORs whenever neither field covers its whole range), so the runs are counted here.
 */
export function cronMaxGapMinutes(schedule: string): number {
    const parsed = parseCron(schedule);
    if (!parsed) throw new Error(`cronMaxGapMinutes: ${show(schedule)} is not a cron schedule`);
    const { minute, hour, dayOfMonth, month, dayOfWeek } = parsed.fields;
    const has = (field: { values: readonly (number | string)[] }, n: number) => field.values.includes(n);
    const [, , domText, , dowText] = schedule.trim().split(/\s+/);
    const star = domText.startsWith("*") || dowText.startsWith("*");
    const start = Date.UTC(2027, 0, 1);
    let previous: number | undefined;
    let longest = 0;
    let runs = 0;
    for (let m = 0; m < 62 * 24 * 60; m++) {
        const t = new Date(start + m * 60_000);
        if (!has(minute, t.getUTCMinutes()) || !has(hour, t.getUTCHours()) || !has(month, t.getUTCMonth() + 1)) continue;
        const domOk = has(dayOfMonth, t.getUTCDate());
        const dowOk = has(dayOfWeek, t.getUTCDay());
        if (!(star ? domOk && dowOk : domOk || dowOk)) continue;
        if (previous !== undefined) longest = Math.max(longest, m - previous);
        previous = m;
        runs++;
    }
    return runs < 2 ? Infinity : longest;
}

/**
 * The raft snapshot schedule: a cron schedule that runs at least once a day, because the staleness
 * alert (twice the longest gap) can look back at most two days (Azure Monitor log alerts: windowSize up
 * to 48 hours).
 */
export function checkSnapshotSchedule(key: string, value: string): string | undefined {
    const bad = checkCronSchedule(key, value);
    if (bad) return bad;
    const gap = cronMaxGapMinutes(value);
    return gap <= 24 * 60
        ? undefined
        : `${key}: ${show(value)} leaves ${gap === Infinity ? "more than a month" : `${Math.round(gap / 60)} hours`} between snapshots; the schedule must run at least once every 24 hours (the staleness alert looks back twice that, at most 48 hours), e.g. "0 */6 * * *"`;
}

/** The CSI driver's rotation poll interval: a whole number of seconds, minutes or hours, e.g. 2m. */
export function checkPollInterval(key: string, value: string): string | undefined {
    return /^[1-9]\d*[smh]$/.test(value)
        ? undefined
        : `${key}: ${show(value)} is not allowed; use a whole number followed by s, m or h, e.g. 2m`;
}

/** A DNS host name: two or more lowercase labels of letters, digits and inner hyphens. */
export function checkHostName(key: string, value: string): string | undefined {
    const label = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";
    return value.length <= 253 && new RegExp(`^${label}(\\.${label})+$`).test(value)
        ? undefined
        : `${key}: ${show(value)} is not a host name; use lowercase DNS labels separated by dots, e.g. shop.example.com`;
}

/**
 * A PEM certificate and its private key for `host`: both parse, the key belongs to the certificate,
 * the certificate covers the host and has not expired. Messages never quote the PEM text (a secret).
 */
export function checkTlsPair(certificate: string, privateKey: string, host: string, now: Date = new Date()): string[] {
    const errors: string[] = [];
    const fromFile = (key: MemberPath, file: string) => `set it from the file with ${configSetCommand(key, { secret: true })} < ${file}`;
    const { tlsCertificate, tlsPrivateKey } = P.ingress;
    let cert: X509Certificate | undefined;
    let key: KeyObject | undefined;
    try {
        cert = new X509Certificate(certificate);
    } catch {
        errors.push(`${tlsCertificate}: (value not shown) is not a PEM X.509 certificate; ${fromFile(tlsCertificate, "cert.pem")}`);
    }
    try {
        key = createPrivateKey(privateKey);
    } catch {
        errors.push(`${tlsPrivateKey}: (value not shown) is not an unencrypted PEM private key; ${fromFile(tlsPrivateKey, "key.pem")}`);
    }
    if (cert) {
        const names = cert.subjectAltName ?? cert.subject.replace(/\n/g, ", ");
        if (new Date(cert.validTo) <= now)
            errors.push(`${tlsCertificate}: (${names}) expired on ${cert.validTo}; use a current certificate`);
        if (!cert.checkHost(host)) {
            errors.push(
                `${tlsCertificate}: (${names}) does not cover ${P.ingress.host} ${show(host)}; use a certificate for that host or set ${P.ingress.host} to a name it covers`,
            );
        }
        // The server's own certificate must be an end entity: NSS (Firefox) refuses a CA's as a server's
        // (mozilla::pkix pkixcheck.cpp CheckBasicConstraints, ERROR_CA_CERT_USED_AS_END_ENTITY).
        if (cert.ca)
            errors.push(
                `${tlsCertificate}: (${names}) is a CA certificate (basic constraints CA:TRUE), which Firefox and other NSS clients refuse as a server's own; use a server certificate (CA:FALSE) signed by that CA, followed by the CA's chain`,
            );
        if (key && !cert.checkPrivateKey(key)) {
            errors.push(`${tlsPrivateKey}: (value not shown) is not the key of ${tlsCertificate}; set the matching private key`);
        }
    }
    return errors;
}

/**
 * A kubeconfig context name as kubectl lists it (kind-kind, k3d-dev, minikube, microk8s, an EKS ARN):
 * anything printable, but not empty and without surrounding whitespace, which no tool writes.
 */
export function checkKubeconfigContext(key: string, value: string): string | undefined {
    const ok = value.length > 0 && value.length <= 253 && value.trim() === value && !/[\x00-\x1f\x7f]/.test(value);
    return ok
        ? undefined
        : `${key}: ${show(value)} is not a context name; use one from kubectl config get-contexts, e.g. kind-kind, or unset it for the current context`;
}

/** A container image repository, e.g. ghcr.io/org/product-service (no tag: that is a member of its own). */
export function checkImageRepository(key: string, value: string): string | undefined {
    const part = "[a-z0-9]+(?:[._-][a-z0-9]+)*";
    return new RegExp(`^(?:[a-z0-9.-]+(?::\\d+)?/)?${part}(?:/${part})*$`).test(value)
        ? undefined
        : `${key}: ${show(value)} is not an image repository; use a lowercase reference without a tag, e.g. ghcr.io/my-org/product-service`;
}

/** An image tag that pins a build (not "latest", which would change under a running deployment), or a digest sha256:<hex>. */
export function checkImageTag(key: string, value: string): string | undefined {
    if (value === "latest") return `${key}: "latest" is not allowed; pin a build tag such as v1.0.0 or dev-<sha>`;
    // A digest pins the image itself (the chart renders repository@sha256:<hex>).
    if (/^sha256:[0-9a-f]{64}$/.test(value)) return undefined;
    return /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(value)
        ? undefined
        : `${key}: ${show(value)} is not an image tag; use up to 128 letters, digits, '.', '_' or '-', e.g. v1.0.0, or a digest sha256:<64 hex>`;
}

/** A Git repository URL Argo CD can clone: https:// or ssh (git@host:org/repo.git). */
/** A GitHub repository as owner/name (GitHub's allowed characters). */
export function checkGithubRepository(key: string, value: string): string | undefined {
    if (/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/.test(value)) return undefined;
    return `${key}: ${show(value)} is not a GitHub repository; use owner/name`;
}

export function checkGitUrl(key: string, value: string): string | undefined {
    return /^(https:\/\/[^\s/]+\/\S+|git@[^\s:]+:\S+|ssh:\/\/\S+)$/.test(value)
        ? undefined
        : `${key}: ${show(value)} is not a Git URL; use https://github.com/<org>/<repo>.git or git@github.com:<org>/<repo>.git`;
}

/** A folder inside a Git repository: relative, never climbing out of it. */
export function checkRelativePath(key: string, value: string): string | undefined {
    return value.length > 0 && !value.startsWith("/") && !value.split("/").includes("..")
        ? undefined
        : `${key}: ${show(value)} is not allowed; use a path relative to the repository root, e.g. argocd/apps/dev`;
}

/** Vault's recovery key split: 1 of 1, or a threshold from 2 up to the number of shares (at most 10). */
export function checkRecoverySplit(shares: number, threshold: number): string | undefined {
    const { recoveryShares, recoveryThreshold } = P.vault;
    const bad = checkIntRange(recoveryShares, shares, 1, 10);
    if (bad) return bad;
    if (shares === 1)
        return threshold === 1 ? undefined : `${recoveryThreshold}: ${show(threshold)} is not allowed with ${recoveryShares} 1; use 1`;
    return checkIntRange(recoveryThreshold, threshold, 2, shares)
        ? `${recoveryThreshold}: ${show(threshold)} is not allowed with ${recoveryShares} ${shares}; use a whole number from 2 to ${shares}`
        : undefined;
}

/**
 * An ephemeral OS disk fits the VM size's local storage (MicrosoftDocs/azure-aks-docs
 * articles/aks/concepts-storage.md, "Ephemeral OS disk": a request that does not fit gets "a validation
 * error" from AKS). Stated from the docs, so checked here before anything is registered:
 * - a size in LOCAL_TEMP_DISK_GIB: the OS disk must be at most its temporary disk;
 * - a v5 or later size without the "d" feature letter: no local disk at all (Azure's naming convention,
 *   MicrosoftDocs/azure-compute-docs articles/virtual-machines/vm-naming-conventions.md: "d = diskful
 *   (that is, a local temp disk is present)"; and since v5 there is no cache disk either);
 * - any other size (older series with a cache disk, other families): left to AKS's own check at create.
 */
export function checkOsDisk(key: PoolGroup, pool: NodePoolConfig): string[] {
    if (pool.osDiskType !== "Ephemeral") return [];
    const { osDiskSizeGb, osDiskType, vmSize } = P[key];
    const size = pool.osDiskSizeGb;
    const local = LOCAL_TEMP_DISK_GIB[pool.vmSize];
    if (local !== undefined) {
        return size !== undefined && size > local
            ? [
                  `${osDiskSizeGb}: ${size} does not fit the ${local} GiB temporary disk of ${vmSize} ${pool.vmSize}, which an Ephemeral OS disk lives on; use at most ${local}, a larger size, or ${osDiskType} Managed`,
              ]
            : [];
    }
    const name = /^Standard_[A-Z]+\d+([a-z]*)(?:_v(\d+))?$/.exec(pool.vmSize);
    if (name && Number(name[2] ?? 0) >= 5 && !name[1].includes("d")) {
        return [
            `${osDiskType}: "Ephemeral" needs a local disk, but ${vmSize} ${pool.vmSize} has none (no "d" in its name: no temporary disk, and v5 sizes have no cache disk); use a size with one, e.g. ${pool.vmSize.replace(/^(Standard_[A-Z]+\d+)([a-z]*)/, (_, base: string, features: string) => `${base}d${features}`)}, or ${osDiskType} Managed`,
        ];
    }
    return [];
}

/** A node pool's group: its members are the same for both pools. */
export type PoolGroup = "systemPool" | "userPool";

/** A pool's autoscaler bounds and initial count agree (each number's own range is the key table's). */
export function checkPool(key: PoolGroup, pool: NodePoolConfig): string[] {
    if (!pool.autoscaling) return [];
    const { minCount, maxCount, nodeCount } = P[key];
    if (pool.minCount > pool.maxCount) {
        return [`${minCount}: ${pool.minCount} is greater than ${maxCount} ${pool.maxCount}; the minimum must be at most the maximum`];
    }
    if (pool.nodeCount < pool.minCount || pool.nodeCount > pool.maxCount) {
        return [
            `${nodeCount}: ${pool.nodeCount} is outside ${minCount}..${maxCount} (${pool.minCount}..${pool.maxCount}); the initial count must lie within the autoscaler bounds`,
        ];
    }
    return [];
}

/** An IPv4 address or CIDR as ipaddr.js's [address, prefix length] (a lone address is a /32). */
function ipv4Range(cidr: string): [ipaddr.IPv4, number] {
    return cidr.includes("/") ? ipaddr.IPv4.parseCIDR(cidr) : [ipaddr.IPv4.parse(cidr), 32];
}

/** The first address of a CIDR plus `offset`, e.g. the cluster DNS service IP (base + 10). */
export function addressInCidr(cidr: string, offset: number): string {
    const [address, bits] = ipv4Range(cidr);
    const size = 2 ** (32 - bits);
    if (!Number.isInteger(offset) || offset < 0 || offset >= size)
        throw new Error(`addressInCidr: ${offset} is outside ${cidr} (${size} addresses)`);
    const first = Buffer.from(ipaddr.IPv4.networkAddressFromCIDR(`${address}/${bits}`).toByteArray());
    const result = Buffer.alloc(4);
    result.writeUInt32BE(first.readUInt32BE(0) + offset);
    return ipaddr.fromByteArray([...result]).toString();
}

/** Whether two IPv4 CIDRs share an address: one holds the other's first address at the shorter prefix. */
export function cidrsOverlap(a: string, b: string): boolean {
    const [addressA, bitsA] = ipv4Range(a);
    const [addressB, bitsB] = ipv4Range(b);
    return addressA.match(addressB, Math.min(bitsA, bitsB));
}

/** A CIDR range with its prefix length (an address space or a subnet), e.g. 10.240.0.0/16. */
export function checkCidrRange(key: string, value: string): string | undefined {
    return value.includes("/") && checkCidr(key, value) === undefined
        ? undefined
        : `${key}: ${show(value)} is not a CIDR range; use an IPv4 range with its prefix length, e.g. 10.240.0.0/16`;
}

/** Whether CIDR `inner` lies wholly inside CIDR `outer`. */
export function cidrWithin(inner: string, outer: string): boolean {
    const [address, bits] = ipv4Range(inner);
    const range = ipv4Range(outer);
    return bits >= range[1] && address.match(range);
}

/**
 * How many equal parts a node subnet is cut into with network.perZoneNodePools: zone N (AVAILABILITY_ZONES) takes
 * part N-1, so a zone's subnet stays where it is when another zone is added or removed. Four parts of a
 * range are its quarters (two more prefix bits); the fourth is left free.
 */
export const ZONAL_SUBNET_PARTS = 4;

/** Zone N's part of a node subnet range with per-zone egress (ZONAL_SUBNET_PARTS), e.g. 10.240.4.0/22, "2" -> 10.240.5.0/24. */
export function zonalSubnetRange(range: string, zone: string): string {
    const [address, bits = "32"] = range.split("/");
    const prefix = Number(bits) + Math.log2(ZONAL_SUBNET_PARTS);
    const index = Number(zone) - 1;
    if (!Number.isInteger(index) || index < 0 || index >= ZONAL_SUBNET_PARTS || prefix > 32)
        throw new Error(`zone ${show(zone)} has no part of ${show(range)}`);
    return `${addressInCidr(`${address}/${bits}`, (index * 2 ** (32 - Number(bits))) / ZONAL_SUBNET_PARTS)}/${prefix}`;
}

/**
 * The zones that get a zonal NAT gateway: with network.egressType natGateway and network.perZoneNodePools, every zone of
 * AVAILABILITY_ZONES, whether a pool uses it or not, as every zone has its node subnets ("zonal stacks":
 * components/azure/network.ts, which also says why not one zone-redundant NAT gateway). A gateway per
 * pool zone only would make a pool's zone change re-wire the subnets' NAT associations in the VNet's
 * update, which runs before the cluster's update AKS may refuse (the inline pool's zone) and before the
 * removed zone's pools are drained and deleted (Pulumi runs deletes last: pulumi/pulumi
 * pkg/resource/deploy/deployment_executor.go); with every zone's gateway there, a pool's zone change
 * touches no subnet's egress and no egress IP. None otherwise: the firewall and the load balancer are
 * zone-redundant, and without per-zone pools one NAT gateway without zones serves the whole-role subnets.
 */
export function natGatewayZones(egressType: string, perZoneNodePools: boolean): readonly string[] {
    return egressType === "natGateway" && perZoneNodePools ? AVAILABILITY_ZONES : [];
}

/** The nodes an upgrade adds on top of a pool of `nodes` (POOL_MAX_SURGE_PERCENT, fractional nodes rounded up). */
export function surgeNodes(nodes: number): number {
    return Math.ceil((nodes * POOL_MAX_SURGE_PERCENT) / 100);
}

/**
 * One zone's share of a pool split by zone (network.perZoneNodePools). The count and the minimum are the pool's
 * across its zones, divided by the zones and rounded up: together at least the configured ones, each zone
 * at least one node. The maximum is divided by one zone fewer (rounded up), so that after a zone's loss
 * the surviving zones' pools can together still reach the configured maximum, as a pool spanning the
 * zones could; the cost is a higher ceiling while every zone is up (zones x ceil(max / (zones - 1)), e.g.
 * 15 for a maximum of 10 over 3 zones), which the autoscaler reaches only if pods need it. One zone:
 * the configured values.
 */
export function zonalPoolCounts(pool: Pick<NodePoolConfig, "nodeCount" | "minCount" | "maxCount" | "zones">): {
    readonly nodeCount: number;
    readonly minCount: number;
    readonly maxCount: number;
} {
    const zones = pool.zones.length;
    const share = (n: number) => Math.ceil(n / zones);
    return {
        nodeCount: share(pool.nodeCount),
        minCount: share(pool.minCount),
        maxCount: zones > 1 ? Math.ceil(pool.maxCount / (zones - 1)) : pool.maxCount,
    };
}

/**
 * The smallest subnet (as a prefix length) that holds `nodes` nodes and their upgrade surge: with Azure
 * CNI Overlay a node takes one subnet address and pods none (azure-native 3.28.0 containerservice
 * NetworkPluginMode.Overlay: "pods are given IPs from the PodCIDR address space"; the nodes' NICs are in
 * vnetSubnetID), and Azure keeps AZURE_RESERVED_SUBNET_ADDRESSES of every subnet; plus `other`
 * addresses something else takes there (the private API server's endpoint, in the system subnet of a
 * private cluster without VNet integration). Never below a /29, Azure's smallest subnet.
 */
export function nodeSubnetPrefixFor(nodes: number, other = 0): number {
    const addresses = nodes + surgeNodes(nodes) + other + AZURE_RESERVED_SUBNET_ADDRESSES;
    return Math.min(29, 32 - Math.ceil(Math.log2(addresses)));
}

/** An ARM resource ID of one resource type, e.g. Microsoft.ContainerRegistry/registries. */
export function checkArmId(key: string, value: string, type: string): string | undefined {
    const pattern = new RegExp(
        `^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[^/]+/providers/${type.replace(/[./]/g, "\\$&")}/[^/]+$`,
        "i",
    );
    return pattern.test(value)
        ? undefined
        : `${key}: ${show(value)} is not a ${type} resource ID; use /subscriptions/<id>/resourceGroups/<group>/providers/${type}/<name>`;
}

/** An e-mail address an action group can send to. */
export function checkEmail(key: string, value: string): string | undefined {
    return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)
        ? undefined
        : `${key}: ${show(value)} is not an e-mail address; use e.g. platform-team@example.com`;
}

/** An https webhook URL. The value is a secret (it often carries a token), so the message never quotes it. */
export function checkWebhookUrl(key: string, value: string): string | undefined {
    return /^https:\/\/[^\s/]+(\/\S*)?$/.test(value) ? undefined : `${key}: the value given is not an https URL; use https://<host>/<path>`;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of a PEM chain, in order (leaf first). */
export function pemCertificates(certificatePem: string): X509Certificate[] {
    return (certificatePem.match(PEM_CERTIFICATE) ?? []).map((block) => new X509Certificate(block));
}

/**
 * Self-issued (subject = issuer) and signed by its own key: X.509's self-signed certificate. Not
 * checkIssued(itself), which (OpenSSL's X509_check_issued) also wants certificate signing in the key
 * usage, which a self-signed end entity lacks.
 */
function isSelfSigned(cert: X509Certificate): boolean {
    return cert.subject === cert.issuer && cert.verify(cert.publicKey);
}

/**
 * The root (PEM) Application Gateway must be given as its trusted root certificate: the self-signed CA
 * the chain ends with. None when the chain has none, and none when the chain reaches a public root
 * through a cross-signed copy of it before that last certificate: a public bundle that ends with the
 * cross-sign's old issuer (Sectigo's ... USERTrust RSA Certification Authority, cross-signed by, then
 * AAA Certificate Services; GoDaddy's G2 root cross-signed by Go Daddy Class 2) would otherwise upload
 * the old root, the gateway's only path to which ends with the cross-sign (2028-12-31 for
 * USERTrust-by-AAA), while the public root needs no upload (v2 trusts well-known CAs: MicrosoftDocs
 * azure-docs articles/application-gateway/ssl-overview.md, "End-to-end TLS with the v2 SKU"). Decided
 * by the certificates before the last only, so that whether the running Node still carries the old root
 * (older stores had AAA Certificate Services) never changes what is uploaded.
 */
export function selfSignedRootPem(certificatePem: string, roots: readonly X509Certificate[] = mozillaRoots()): string | undefined {
    const chain = pemCertificates(certificatePem);
    const top = chain[chain.length - 1];
    if (!top || !top.ca || !isSelfSigned(top)) return undefined;
    if (chain.slice(0, -1).some((cert) => isPublicRoot(cert, roots))) return undefined;
    return top.toString();
}

let publicRoots: readonly X509Certificate[] | undefined;
/**
 * The publicly trusted roots: Mozilla's root program, as Node carries it (tls.rootCertificates).
 * Application Gateway v2 trusts "well-known CA authorities" without a trusted root certificate
 * (MicrosoftDocs azure-docs articles/application-gateway/ssl-overview.md, "End-to-end TLS with the v2
 * SKU") and publishes no list of its own; a public CA missing here is still served: its root, appended
 * to the chain, becomes the gateway's trusted root certificate.
 */
function mozillaRoots(): readonly X509Certificate[] {
    publicRoots ??= rootCertificates.map((pem) => new X509Certificate(pem));
    return publicRoots;
}

/**
 * A public root's stand-in in the chain: the root itself, or a cross-signed copy of it, i.e. the same
 * subject and public key under another issuer (Sectigo's "USERTrust RSA Certification Authority"
 * cross-signed by "AAA Certificate Services", GoDaddy's "Go Daddy Root Certificate Authority - G2" by
 * "Go Daddy Class 2 Certification Authority"). A verifier that holds the root ends the path there:
 * the certificate below verifies under the root's key and names the root's subject as its issuer, so
 * the cross-sign's own issuer is never needed (RFC 4158 section 2.3, cross-certification; OpenSSL's
 * X509_verify_cert looks the issuer up in the trust store first).
 */
function isPublicRoot(cert: X509Certificate, roots: readonly X509Certificate[]): boolean {
    return roots.some((root) => cert.subject === root.subject && cert.publicKey.equals(root.publicKey));
}

/**
 * Why Application Gateway (`ingress.waf`) cannot trust the ingress chain for its re-encrypted hop to
 * the Istio gateway, if it cannot. v2 trusts a backend whose chain leads to a well-known CA's root or
 * to one of its trusted root certificates (the program uploads the root a chain ends with); "If the
 * backend server certificate is self-signed, or signed by unknown CA/intermediaries, then ... a trusted
 * root certificate must be uploaded" (MicrosoftDocs azure-docs articles/application-gateway/
 * ssl-overview.md). So:
 * - each certificate must be issued by the next (issuer name, key usage and authority key ID, then the
 *   signature under the next one's key): a chain out of order or with a stranger in it is no path;
 * - the chain is public when any certificate in it is a public root or a cross-signed copy of one
 *   (isPublicRoot), or was issued by a public root. Not only the last: public bundles end with a
 *   cross-sign whose issuer Node (Mozilla) no longer carries (AAA Certificate Services, Go Daddy Class
 *   2), which the root of the same subject and key below it makes unnecessary;
 * - otherwise it must end with its root, a self-signed CA. A self-signed certificate that is not a CA
 *   v2 takes for a leaf and looks for its issuer ("A self-signed certificate which is NOT a Certificate
 *   Authority will also result in the same error", application-gateway-backend-health-troubleshooting.md).
 * `roots` are the publicly trusted ones.
 */
export function checkWafBackendChain(certificatePem: string, roots: readonly X509Certificate[] = mozillaRoots()): string | undefined {
    const chain = pemCertificates(certificatePem);
    const top = chain[chain.length - 1];
    if (!top) return undefined;
    const names = (cert: X509Certificate) => cert.subject.replace(/\n/g, ", ");
    const { tlsCertificate, waf } = P.ingress;
    const rebuild = `put the server certificate first and each issuer after the certificate it signed, e.g. cat server.crt intermediate.crt root.crt > chain.pem, then ${configSetCommand(tlsCertificate, { secret: true })} < chain.pem`;
    for (let i = 0; i + 1 < chain.length; i++) {
        const [cert, next] = [chain[i], chain[i + 1]];
        // A cross-signed copy of a public root has another serial number than the root, so an
        // intermediate whose authority key ID names the root's issuer and serial fails checkIssued
        // (OpenSSL's X509_check_issued) against the copy although a verifier holding the root accepts
        // it: for such a copy the issuer name and the signature decide.
        const issued = cert.checkIssued(next) || (isPublicRoot(next, roots) && next.ca && cert.issuer === next.subject);
        if (!(issued && cert.verify(next.publicKey))) {
            return `${tlsCertificate}: certificate ${i + 1} of the chain (${names(cert)}) is not issued by certificate ${i + 2} (${names(next)}), so the chain is no path Application Gateway (${waf}) can verify; ${rebuild}`;
        }
    }
    const issuedByPublicRoot = (cert: X509Certificate) => roots.some((root) => cert.checkIssued(root) && cert.verify(root.publicKey));
    if (chain.some((cert) => isPublicRoot(cert, roots) || issuedByPublicRoot(cert))) return undefined;
    if (isSelfSigned(top)) {
        return top.ca
            ? undefined
            : `${tlsCertificate}: (${names(top)}) is self-signed but not a CA (basic constraints CA:FALSE), which Application Gateway (${waf}) cannot trust for its hop to the ingress gateway; use a certificate from a CA, ending the chain with the root when the CA is private`;
    }
    return `${tlsCertificate}: the chain ends with (${names(top)}), issued by (${top.issuer.replace(/\n/g, ", ")}), which is neither in the chain nor a publicly trusted root (nor issued by one), so Application Gateway (${waf}) cannot trust the ingress gateway behind it; append the certificates up to that CA's self-signed root (CA:TRUE), or, for a public CA, the intermediates up to one of its roots its bundle lists; ${rebuild}`;
}
