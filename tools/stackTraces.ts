// Loaded by mocha (see .mocharc.json) after ts-node, and by the benchmark and `npm run urns`. Pulumi's SDK
// captures a stack trace for every internal promise and resource registration (debugging bookkeeping it
// rarely prints). Through ts-node's source-map support each of those costs a source-map lookup per frame,
// which doubled the time of one evaluation of a stack. Stacks of errors created inside the SDK are
// therefore left unmapped; every other stack, such as a failing assertion's or an error thrown by the
// program, is mapped as before.
//
// Two of those captures are never thrown and read by nobody under the mocks, so they get no frames at
// all (a fifth of an evaluation's time went to formatting them), @pulumi/pulumi 3.270.0:
// - resource.js Resource.callsites: every resource's stack, at an unlimited depth, parsed for the source
//   position sent with its registration; the mock monitor (runtime/mocks.js) ignores it, and a resource
//   without one is registered the same.
// - runtime/debuggable.js debuggablePromise: every SDK promise's stack, printed only in the report of
//   promises still pending when the process exits (which still names each one's context).
import * as path from "path";

const sdk = `${path.sep}@pulumi${path.sep}pulumi${path.sep}`;
const mapped = Error.prepareStackTrace;
const BOOKKEEPING = new Set(["callsites", "debuggablePromise"]);

Error.prepareStackTrace = (error, frames) => {
    const top = frames[0];
    const inSdk = (top?.getFileName() ?? "").includes(sdk);
    if (inSdk && BOOKKEEPING.has(top.getFunctionName() ?? "")) return `${error}`;
    if (mapped && !inSdk) return mapped(error, frames);
    return `${error}\n${frames.map((frame) => `    at ${frame}`).join("\n")}`;
};
