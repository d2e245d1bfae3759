// Reading what the docs state, for the tests that compare it with the program: sections under a
// heading, the rows of their Markdown tables, the `names` in a cell, and the relative links.
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../tools/mocks";

/** A file of the repository (README.md, docs/x.md) as text. */
export function docText(file: string): string {
    return fs.readFileSync(path.join(ROOT, file), "utf8");
}

/**
 * The text under the heading `heading` (any level, e.g. "## Namespaces") up to the next heading of
 * the same or a higher level. Headings inside fenced code blocks do not count.
 */
export function docSection(file: string, heading: string): string {
    const level = /^#+/.exec(heading)?.[0].length;
    if (!level) throw new Error(`"${heading}" is not a Markdown heading`);
    const lines = docText(file).split("\n");
    let inFence = false;
    let start = -1;
    const out: string[] = [];
    for (const line of lines) {
        if (line.startsWith("```")) inFence = !inFence;
        const h = inFence ? null : /^(#+) /.exec(line);
        if (start < 0) {
            if (!inFence && line.trim() === heading) start = out.length;
            continue;
        }
        if (h && h[1].length <= level) break;
        out.push(line);
    }
    if (start < 0) throw new Error(`${file} has no heading "${heading}"`);
    return out.join("\n");
}

/** Splits a Markdown table row into trimmed cells (an escaped \| stays in its cell). */
function cells(row: string): string[] {
    return row
        .trim()
        .replace(/^\||\|$/g, "")
        .split(/(?<!\\)\|/)
        .map((c) => c.trim());
}

/**
 * The body rows of every Markdown table in `text` whose header's first cell is `firstHeader` (every
 * table when omitted), as cells.
 */
export function tableRows(text: string, firstHeader?: string): string[][] {
    const rows: string[][] = [];
    const lines = text.split("\n");
    for (let i = 0; i + 1 < lines.length; i++) {
        if (!lines[i].startsWith("|") || !/^\|[-| :]+\|$/.test(lines[i + 1].trim())) continue;
        const header = cells(lines[i]);
        let j = i + 2;
        for (; j < lines.length && lines[j].startsWith("|"); j++) {
            if (firstHeader === undefined || header[0] === firstHeader) rows.push(cells(lines[j]));
        }
        i = j;
    }
    return rows;
}

/** The `code spans` of a cell, in order. */
export function codeNames(cell: string): string[] {
    return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
}

/** The `names` in the first column of the tables under `heading` of `file`. */
export function documentedNames(file: string, heading: string): string[] {
    return tableRows(docSection(file, heading)).map((row) => {
        const [name] = codeNames(row[0]);
        if (name === undefined) throw new Error(`${file}, ${heading}: a row without a \`name\` in its first cell: ${row.join(" | ")}`);
        return name;
    });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function anchorOf(heading: string): string {
    return heading
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\- _]/gu, "")
        .replace(/ /g, "-");
}

/** The anchors of every heading of a Markdown file (outside fenced code). */
export function anchorsOf(file: string): Set<string> {
    const anchors = new Set<string>();
    let inFence = false;
    for (const line of docText(file).split("\n")) {
        if (line.startsWith("```")) inFence = !inFence;
        const h = inFence ? null : /^#+ (.*)$/.exec(line);
        if (h) anchors.add(anchorOf(h[1]));
    }
    return anchors;
}

/** The relative Markdown links of a file (`[text](target)`, not http(s) or mailto), as written. */
export function relativeLinks(file: string): string[] {
    const text = docText(file).replace(/```[\s\S]*?```/g, "");
    return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((t) => !/^[a-z]+:/i.test(t));
}
