// Bookkeeping of the Pulumi SDKs that nothing reads under the mocks, left out where the tests evaluate
// stacks: loaded by mocha (see .mocharc.json) after ts-node, and by the benchmark and `npm run urns`.
// What a registration sends the (mock) monitor is unchanged, except that it names none of
// azure-native's API-version aliases (3 below).
//
// 1. Stack traces. Pulumi's SDK captures a stack trace for every internal promise and resource
// registration (debugging bookkeeping it rarely prints). Through ts-node's source-map support each of
// those costs a source-map lookup per frame, which doubled the time of one evaluation of a stack. Stacks
// of errors created inside the SDK are therefore left unmapped; every other stack, such as a failing
// assertion's or an error thrown by the program, is mapped as before.
//
// 2. Two of those captures are never thrown and read by nobody under the mocks, so they are not taken at
// all (formatting them was a fifth of an evaluation's time, and taking them, at an unlimited depth for
// the first, another tenth), @pulumi/pulumi 3.270.0:
// - resource.js Resource.callsites: every resource's stack, at an unlimited depth, parsed for the source
//   position sent with its registration (Resource.stackTrace); the mock monitor (runtime/mocks.js)
//   ignores it, and a resource without one is registered the same. It returns no frames here.
// - runtime/debuggable.js debuggablePromise: every SDK promise's stack, printed only in the report of
//   promises still pending when the process exits (which still names each one's context). It is taken
//   with no frames here. The SDK calls both through their module objects (`debuggable_1.debuggablePromise(`,
//   `Resource.callsites()`), so replacing the property is what it calls.
//
// 3. API-version aliases. Every resource class of @pulumi/azure-native 3.28.0 that has them merges into
// its options one alias for each API version its type had, in a list that may also name a type it moved
// from (`azure-native:insights:ActionGroup` for monitor's, `network:InterfaceEndpoint` for
// network:PrivateEndpoint): containerservice/managedCluster.js `const aliasOpts = { aliases: [{ type:
// "azure-native:containerservice/v20170831:ManagedCluster" }, ...] }; opts = pulumi.mergeOptions(opts,
// aliasOpts);`, 113 of them for a ManagedCluster. They let the engine find state written under a
// versioned type (the explicit-version modules of azure-native 1.x and 2.x, or a local SDK generated
// for one API version under 3.x). The SDK collapses each into a URN output in the resource's constructor
// (@pulumi/pulumi resource.js collapseAliasToUrn, createUrn) and resolves each field of each again for
// the request (runtime/resource.js mapAliasesForRequest): prod registers about 2,900 of them, more than
// half of the time of an evaluation. Under the mocks only the mocks read them, and this program never
// used a versioned type (azure-native 3.28.0 since its first commit; tests/mocks.test.ts fails if its
// source names one). So here `pulumi.mergeOptions`, given an options object of aliases only (the shape
// of those lists), leaves out the aliases of API versions and keeps the others in it. Every other merge
// is the SDK's own. One limit: a resource's own options that were nothing but API-version aliases
// would lose them too (azure-native also merges the caller's options with `mergeOptions`), which is why
// the program may not name a versioned type. tests/mocks.test.ts checks every azure-native registration
// of prod against its class.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Resource } from "@pulumi/pulumi";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const debuggable = require("@pulumi/pulumi/runtime/debuggable") as {
    debuggablePromise: (p: Promise<unknown>, ctx: unknown) => Promise<unknown>;
};

(Resource as unknown as { callsites: () => unknown[] }).callsites = () => [];
const debuggablePromise = debuggable.debuggablePromise;
// Kept whole when the leak report is asked for (runtime/debuggable.js prints each pending promise's stack).
if (!process.env.PULUMI_DEBUG_PROMISE_LEAKS)
    debuggable.debuggablePromise = (p, ctx) => {
        const limit = Error.stackTraceLimit;
        Error.stackTraceLimit = 0;
        try {
            return debuggablePromise(p, ctx);
        } finally {
            Error.stackTraceLimit = limit;
        }
    };

const sdk = `${path.sep}@pulumi${path.sep}pulumi${path.sep}`;
const mapped = Error.prepareStackTrace;

Error.prepareStackTrace = (error, frames) => {
    const inSdk = (frames[0]?.getFileName() ?? "").includes(sdk);
    if (mapped && !inSdk) return mapped(error, frames);
    return `${error}\n${frames.map((frame) => `    at ${frame}`).join("\n")}`;
};

/** An azure-native type at an API version: `azure-native:containerservice/v20170831:ManagedCluster`. */
const API_VERSION_TYPE = /^azure-native:[a-z0-9]+\/v\d{8}[a-z0-9]*:[A-Za-z0-9]+$/;

/** An alias given by nothing but an azure-native type at an API version. */
export function isApiVersionAlias(alias: unknown): boolean {
    if (typeof alias !== "object" || alias === null || Object.keys(alias).length !== 1) return false;
    const type = (alias as pulumi.Alias).type;
    return typeof type === "string" && API_VERSION_TYPE.test(type);
}

/**
 * What azure-native merges into a resource's options (an object of aliases only), without the aliases
 * of API versions; any other options, as they are.
 */
export function withoutApiVersionAliases(opts: pulumi.ResourceOptions): pulumi.ResourceOptions {
    if (Object.keys(opts ?? {}).length !== 1 || !Array.isArray(opts.aliases)) return opts;
    const aliases = opts.aliases.filter((alias) => !isApiVersionAlias(alias));
    return aliases.length > 0 ? { aliases } : {};
}

// azure-native calls the SDK index's `pulumi.mergeOptions`, a property of its own (index.js `__export`
// copies each export of resource.js), looked up at each call: that is what is replaced.
const sdkMergeOptions = pulumi.mergeOptions;
(pulumi as { mergeOptions: typeof pulumi.mergeOptions }).mergeOptions = ((opts1: pulumi.ResourceOptions, opts2: pulumi.ResourceOptions) =>
    sdkMergeOptions(opts1, withoutApiVersionAliases(opts2))) as typeof pulumi.mergeOptions;
