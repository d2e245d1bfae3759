// The URNs each committed stack registers, as the Pulumi engine names them, and what an `up` over a
// stack's existing state does with them (same, aliased, create, delete). `npm run urns` evaluates dev,
// prod and local under the mocks and writes tests/fixtures/urns/<stack>.json; tests/urns.test.ts fails
// when the program's URNs differ from the committed ones, so every rename is deliberate and aliased.
import * as fs from "fs";
import * as path from "path";
import { evaluateStack, ROOT, STAND_IN_SECRETS, type AliasSpec, type Registration, type StackRun } from "./mocks";

/** The stacks whose URNs are committed. */
export const URN_STACKS = ["dev", "prod", "local"] as const;

/** The command that rewrites the snapshots (quoted by the test's failure message). */
export const URNS_COMMAND = "npm run urns";

export function urnSnapshotPath(stack: string, variant = ""): string {
    return path.join(ROOT, "tests", "fixtures", "urns", `${stack}${variant ? `.${variant}` : ""}.json`);
}

export function readUrnSnapshot(stack: string, variant = ""): string[] {
    return JSON.parse(fs.readFileSync(urnSnapshotPath(stack, variant), "utf8"));
}

// The engine's resource type root: a child of the stack resource has no parent type in its URN.
const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/** `urn:pulumi:<stack>::<project>::<qualified type>::<name>` split into its parts. */
function parts(urn: string): { stack: string; project: string; qualifiedType: string; type: string; name: string } {
    const [head, project, qualifiedType, ...name] = urn.split("::");
    return {
        stack: head.slice("urn:pulumi:".length),
        project,
        qualifiedType,
        type: qualifiedType.split("$").pop() ?? qualifiedType,
        name: name.join("::"),
    };
}

/**
 * A URN as the engine makes it: the parent's whole qualified type (a$b$c), then the resource's type
 * and name; a resource of the stack itself (or of none) has no parent type. pulumi/pulumi
 * pkg/resource/deploy/deployment.go (Deployment.generateURN, "use the full qualified type") and
 * sdk/go/common/resource/urn.go (NewURN). The SDK's mock monitor keeps only the parent's last type
 * (sdk/nodejs/runtime/mocks.ts, MockMonitor.newUrn), so the mocks' URNs of grandchildren are not the
 * engine's: everything here recomputes them from the registrations' parent chain.
 */
function newUrn(stack: string, project: string, parentUrn: string, type: string, name: string): string {
    const parentType = parentUrn && parts(parentUrn).type !== ROOT_STACK_TYPE ? parts(parentUrn).qualifiedType : "";
    return `urn:pulumi:${stack}::${project}::${parentType ? `${parentType}$` : ""}${type}::${name}`;
}

/** A registration with its engine URN and its parent's. */
export interface EngineResource {
    readonly registration: Registration;
    readonly urn: string;
    /** The parent's engine URN, or "" for a resource of the stack. */
    readonly parent: string;
}

/** The run's registrations in registration order (a parent before its children), with engine URNs. */
export function engineResources(run: StackRun): EngineResource[] {
    const byMockUrn = new Map<string, string>();
    return run.resources.map((registration) => {
        const { stack, project } = parts(registration.urn);
        const parent = registration.parent ? (byMockUrn.get(registration.parent) ?? "") : "";
        const urn = newUrn(stack, project, parent, registration.type, registration.name);
        byMockUrn.set(registration.urn, urn);
        return { registration, urn, parent };
    });
}

/** The stack's URNs as the engine names them, sorted: what the committed snapshot holds. */
export function stackUrns(run: StackRun): string[] {
    return engineResources(run)
        .map((r) => r.urn)
        .sort();
}

/** What an `up` over state holding `oldUrns` does with each URN, by the engine's alias rules. */
export interface UrnPlan {
    /** Registered under the same URN as before. */
    readonly same: readonly string[];
    /** [old URN, new URN]: the state is moved to the new URN, nothing is replaced. */
    readonly aliased: readonly (readonly [string, string])[];
    /** New URNs no alias ties to state: created. */
    readonly created: readonly string[];
    /** Old URNs nothing registered claims: deleted. */
    readonly deleted: readonly string[];
}

/**
 * The engine's step generator, for URNs only: a resource is looked up in the old state by its URN, then
 * by each alias in order; an alias spec is collapsed with the resource's own name, type and parent
 * filling its empty fields (noParent, or a parent of the stack's type, leaves no parent); a resource
 * whose parent was found through an alias also gets the alias under that old parent (children follow a
 * moved component). pulumi/pulumi pkg/resource/deploy/step_generator.go (collapseAliasToUrn,
 * inheritedChildAlias, generateAliases, and generateSteps' lookup "Check the URN first, then aliases").
 * The SDK sends `{ parent: pulumi.rootStackResource }` as a spec with noParent (sdk/nodejs/runtime/
 * resource.ts, mapAliasesForRequest: `a.parent === undefined` → setNoparent(true)).
 */
export function planUrns(oldUrns: Iterable<string>, run: StackRun): UrnPlan {
    const olds = new Set(oldUrns);
    const resources = engineResources(run);
    const engineUrnOf = new Map(resources.map((r) => [r.registration.urn, r.urn]));
    // New URN -> the old URN its state was found under (step_generator.go's sg.aliases).
    const foundUnder = new Map<string, string>();
    const claimed = new Set<string>();
    const same: string[] = [];
    const aliased: [string, string][] = [];
    const created: string[] = [];

    for (const { registration: goal, urn, parent } of resources) {
        const { stack, project } = parts(urn);
        const collapse = (alias: AliasSpec): string => {
            if ("urn" in alias) return alias.urn;
            let aliasParent = alias.parentUrn ? (engineUrnOf.get(alias.parentUrn) ?? alias.parentUrn) : "";
            if (!aliasParent) aliasParent = parent;
            else aliasParent = foundUnder.get(aliasParent) ?? aliasParent;
            if (alias.noParent || (aliasParent && parts(aliasParent).type === ROOT_STACK_TYPE)) aliasParent = "";
            return newUrn(alias.stack || stack, alias.project || project, aliasParent, alias.type || goal.type, alias.name || goal.name);
        };
        const aliases: string[] = goal.aliases.map(collapse);
        const parentAlias = parent ? foundUnder.get(parent) : undefined;
        if (parent && parentAlias) {
            const inherited = (type: string, name: string) => {
                const parentName = parts(parent).name;
                const aliasName = name.startsWith(parentName) ? parts(parentAlias).name + name.slice(parentName.length) : name;
                return newUrn(stack, project, parentAlias, type, aliasName);
            };
            aliases.push(inherited(goal.type, goal.name));
            for (const alias of goal.aliases) {
                const child = parts(collapse(alias));
                aliases.push(inherited(child.type, child.name));
            }
        }
        if (olds.has(urn)) {
            same.push(urn);
            claimed.add(urn);
            continue;
        }
        const found = aliases.find((a) => olds.has(a));
        if (found) {
            foundUnder.set(urn, found);
            aliased.push([found, urn]);
            claimed.add(found);
        } else created.push(urn);
    }
    const deleted = [...olds].filter((urn) => !claimed.has(urn)).sort();
    return { same, aliased, created, deleted };
}

async function main(): Promise<void> {
    const stacks = process.argv.length > 2 ? process.argv.slice(2) : [...URN_STACKS];
    for (const stack of stacks) {
        const run = await evaluateStack(stack, {}, STAND_IN_SECRETS[stack] ?? {});
        const urns = stackUrns(run);
        const file = urnSnapshotPath(stack);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, `${JSON.stringify(urns, null, 2)}\n`);
        console.log(`${path.relative(ROOT, file)}: ${urns.length} URNs`);
    }
}

if (require.main === module) {
    main().catch((error) => {
        console.error(error);
        process.exit(1);
    });
}
