// Loaded by mocha (see .mocharc.json) after ts-node, and by the benchmark and `npm run urns`. Pulumi's SDK
// captures a stack trace for every internal promise and resource registration (debugging bookkeeping it
// rarely prints). Through ts-node's source-map support each of those costs a source-map lookup per frame,
// which doubled the time of one evaluation of a stack. Stacks of errors created inside the SDK are
// therefore left unmapped; every other stack, such as a failing assertion's or an error thrown by the
// program, is mapped as before.
//
// Two of those captures are never thrown and read by nobody under the mocks, so they are not taken at
// all (formatting them was a fifth of an evaluation's time, and taking them, at an unlimited depth for
// the first, another tenth), @pulumi/pulumi 3.270.0:
// - resource.js Resource.callsites: every resource's stack, at an unlimited depth, parsed for the source
//   position sent with its registration (Resource.stackTrace); the mock monitor (runtime/mocks.js)
//   ignores it, and a resource without one is registered the same. It returns no frames here.
// - runtime/debuggable.js debuggablePromise: every SDK promise's stack, printed only in the report of
//   promises still pending when the process exits (which still names each one's context). It is taken
//   with no frames here. The SDK calls both through their module objects (`debuggable_1.debuggablePromise(`,
//   `Resource.callsites()`), so replacing the property is what it calls.
import * as path from "path";
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
