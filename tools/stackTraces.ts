// Loaded by mocha (see .mocharc.json) after ts-node, and by the benchmark. Pulumi's SDK captures a stack trace for every
// internal promise and resource registration (debugging bookkeeping it rarely prints). Through ts-node's
// source-map support each of those costs a source-map lookup per frame, which doubled the time of one
// evaluation of a stack. Stacks of errors created inside the SDK are therefore left unmapped; every
// other stack, such as a failing assertion's or an error thrown by the program, is mapped as before.
import * as path from "path";

const sdk = `${path.sep}@pulumi${path.sep}pulumi${path.sep}`;
const mapped = Error.prepareStackTrace;

Error.prepareStackTrace = (error, frames) => {
    if (mapped && !(frames[0]?.getFileName() ?? "").includes(sdk)) return mapped(error, frames);
    return `${error}\n${frames.map((frame) => `    at ${frame}`).join("\n")}`;
};
