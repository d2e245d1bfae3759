// scripts/vault-snapshot.sh against stand-ins for `vault` and `az`: it fails loudly (non-zero, with the
// reason) when login, snapshot or upload fails, never uploads a failed save, and never deletes.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { VAULT_SNAPSHOT_SCRIPT } from "../components/platform/vaultSnapshot";

// vault: login prints a token unless $FAKE/login-fails; `snapshot save FILE` writes bytes unless
// $FAKE/save-fails (or $FAKE/save-empty: an empty file). az: records calls; an upload copies the file
// into $FAKE/blobs/<name> unless $FAKE/upload-fails; `blob show` prints the stored size.
const FAKE_VAULT = `#!/bin/sh
echo "\${VAULT_TOKEN:-none} $*" >>"$FAKE/vault.log"
case "$1 $2" in
  "write -field=token") [ -e "$FAKE/login-fails" ] && { echo "permission denied" >&2; exit 2; }; echo hvs.SNAPSHOT-TOKEN ;;
  "operator raft")
    [ -e "$FAKE/save-fails" ] && { echo "Error taking the snapshot: 403 permission denied" >&2; exit 2; }
    if [ -e "$FAKE/save-empty" ]; then : >"$5"; else printf 'raft-snapshot-bytes' >"$5"; fi ;;
esac
exit 0
`;
const FAKE_AZ = `#!/bin/sh
echo "$*" >>"$FAKE/az.log"
name=""; file=""
case "$1 $2 $3" in
  "login --service-principal --username") exit 0 ;;
  "storage blob upload")
    [ -e "$FAKE/upload-fails" ] && { echo "AuthorizationPermissionMismatch" >&2; exit 1; }
    while [ $# -gt 0 ]; do case "$1" in --name) name=$2; shift ;; --file) file=$2; shift ;; esac; shift; done
    cp "$file" "$FAKE/blobs/$name" ;;
  "storage blob show")
    while [ $# -gt 0 ]; do case "$1" in --name) name=$2; shift ;; esac; shift; done
    wc -c <"$FAKE/blobs/$name" | tr -d ' ' ;;
  "storage blob metadata")
    while [ $# -gt 0 ]; do case "$1" in --name) name=$2; shift ;; esac; shift; done
    : >"$FAKE/meta/$name" ;;
  "storage blob list")
    for f in "$FAKE"/blobs/vault-*; do
      n=\${f##*/}; [ -f "$f" ] || continue
      if [ -e "$FAKE/meta/$n" ]; then printf '%s\ttrue\n' "$n"; else printf '%s\tNone\n' "$n"; fi
    done ;;
  "storage blob delete")
    while [ $# -gt 0 ]; do case "$1" in --name) name=$2; shift ;; esac; shift; done
    rm "$FAKE/blobs/$name" ;;
  *) exit 3 ;;
esac
exit 0
`;

describe("scripts/vault-snapshot.sh", () => {
    let fake: string;
    beforeEach(() => {
        fake = fs.mkdtempSync(path.join(os.tmpdir(), "vault-snapshot-"));
        for (const dir of ["bin", "work", "blobs", "meta"]) fs.mkdirSync(path.join(fake, dir));
        for (const [name, body] of Object.entries({ vault: FAKE_VAULT, az: FAKE_AZ, sleep: "#!/bin/sh\nexit 0\n" }))
            fs.writeFileSync(path.join(fake, "bin", name), body, { mode: 0o755 });
        fs.writeFileSync(path.join(fake, "jwt"), "projected-token");
        fs.mkdirSync(path.join(fake, "blobs", "vault-20250101T000000Z.snap.older"), { recursive: true });
    });
    afterEach(() => fs.rmSync(fake, { recursive: true, force: true }));

    function phase(name: string) {
        const r = spawnSync("sh", [VAULT_SNAPSHOT_SCRIPT, name], {
            encoding: "utf8",
            env: {
                PATH: `${path.join(fake, "bin")}:${process.env.PATH}`,
                FAKE: fake,
                WORK_DIR: path.join(fake, "work"),
                VAULT_ADDR: "https://vault-active.vault.svc.cluster.local:8200",
                VAULT_AUTH_ROLE: "vault-snapshot",
                VAULT_AUTH_JWT_FILE: path.join(fake, "jwt"),
                STORAGE_ACCOUNT: "gitopsprodbackup",
                STORAGE_CONTAINER: "vault-snapshots",
                AZURE_CLIENT_ID: "client",
                AZURE_TENANT_ID: "tenant",
                AZURE_FEDERATED_TOKEN_FILE: path.join(fake, "jwt"),
                RETENTION_DAYS: "30",
                KEEP_LAST: "3",
            },
        });
        return { status: r.status, output: `${r.stdout}${r.stderr}` };
    }
    const log = (file: string) =>
        fs.existsSync(path.join(fake, file)) ? fs.readFileSync(path.join(fake, file), "utf8").trim().split("\n") : [];
    const blobs = () => fs.readdirSync(path.join(fake, "blobs")).sort();

    it("saves with the login's token and uploads under a new timestamped name, checking its size", () => {
        const save = phase("save");
        assert.equal(save.status, 0, save.output);
        const calls = log("vault.log");
        assert.equal(calls[0], `none write -field=token auth/kubernetes/login role=vault-snapshot jwt=@${path.join(fake, "jwt")}`);
        assert.match(calls[1], /^hvs\.SNAPSHOT-TOKEN operator raft snapshot save \S+vault\.snap\.partial$/);
        const upload = phase("upload");
        assert.equal(upload.status, 0, upload.output);
        const uploaded = blobs().filter((b) => /^vault-\d{8}T\d{6}Z\.snap$/.test(b));
        assert.equal(uploaded.length, 1, blobs().join(", "));
        assert.equal(fs.readFileSync(path.join(fake, "blobs", uploaded[0]), "utf8"), "raft-snapshot-bytes");
        const az = log("az.log");
        assert.ok(
            az.some((l) =>
                l.startsWith("storage blob upload --auth-mode login --account-name gitopsprodbackup --container-name vault-snapshots"),
            ),
        );
        assert.ok(!az.some((l) => /--overwrite|blob delete|--account-key|--sas-token/.test(l)), "never overwrites, deletes or uses a key");
        assert.ok(az.some((l) => l.startsWith(`storage blob metadata update --auth-mode login`) && l.includes("--metadata verified=true")));
        assert.ok(blobs().includes("vault-20250101T000000Z.snap.older"), "the older snapshot is untouched");
        assert.ok(!`${save.output}${upload.output}`.includes("hvs.SNAPSHOT-TOKEN"), "the token is never printed");
    });

    const failures: [string, string, RegExp][] = [
        ["login-fails", "save", /FAILED: cannot log in to Vault at \S+ as Kubernetes-auth role vault-snapshot/],
        ["save-fails", "save", /FAILED: vault operator raft snapshot save/],
        ["save-empty", "save", /FAILED: the snapshot is empty/],
    ];
    for (const [flag, phaseName, message] of failures) {
        it(`fails loudly and uploads nothing when ${flag.replace("-", " ")}`, () => {
            fs.writeFileSync(path.join(fake, flag), "");
            const r = phase(phaseName);
            assert.notEqual(r.status, 0);
            assert.match(r.output, message);
            const upload = phase("upload");
            assert.notEqual(upload.status, 0, "the upload refuses without a snapshot");
            assert.match(upload.output, /FAILED: no snapshot to upload/);
            assert.deepEqual(blobs(), ["vault-20250101T000000Z.snap.older"]);
        });
    }

    it("retention: deletes snapshots past RETENTION_DAYS, but never the newest KEEP_LAST verified ones, however old", () => {
        // A long outage: every earlier snapshot is months old; two runs left unverified blobs.
        const old = ["20250101T000000Z", "20250102T000000Z", "20250103T000000Z", "20250104T000000Z", "20250105T000000Z"];
        for (const t of old) {
            fs.writeFileSync(path.join(fake, "blobs", `vault-${t}.snap`), "x");
            fs.writeFileSync(path.join(fake, "meta", `vault-${t}.snap`), "");
        }
        for (const t of ["20250106T000000Z", "20250107T000000Z"]) fs.writeFileSync(path.join(fake, "blobs", `vault-${t}.snap`), "partial");
        assert.equal(phase("save").status, 0);
        const r = phase("upload");
        assert.equal(r.status, 0, r.output);
        const left = blobs().filter((b) => b.endsWith(".snap"));
        // The new one and the two newest verified old ones (3 in all); unverified and older verified ones go.
        assert.equal(left.length, 3, left.join(", "));
        assert.ok(left.includes("vault-20250105T000000Z.snap") && left.includes("vault-20250104T000000Z.snap"), left.join(", "));
        assert.match(r.output, /kept the newest 3 verified snapshots/);
        // Nothing within RETENTION_DAYS is ever deleted, however many there are.
        const recent = new Date(Date.now() - 86_400_000)
            .toISOString()
            .replace(/[-:]/g, "")
            .replace(/\.\d+Z$/, "Z");
        fs.writeFileSync(path.join(fake, "blobs", `vault-${recent}.snap`), "x");
        assert.equal(phase("save").status, 0);
        assert.equal(phase("upload").status, 0);
        assert.ok(blobs().includes(`vault-${recent}.snap`), "a recent unverified snapshot stays until it ages out");
    });

    it("fails loudly when the upload fails, leaving the older snapshots as they are", () => {
        assert.equal(phase("save").status, 0);
        fs.writeFileSync(path.join(fake, "upload-fails"), "");
        const r = phase("upload");
        assert.notEqual(r.status, 0);
        assert.match(r.output, /FAILED: upload of vault-\S+ to gitopsprodbackup\/vault-snapshots/);
        assert.deepEqual(blobs(), ["vault-20250101T000000Z.snap.older"]);
    });
});

// The volume target (the local stack's ha mode, issue 20 item 8): the same save, then `keep` onto a
// directory (the claim's mount) with the same retention rule, run by `sh` on a real directory.
describe("scripts/vault-snapshot.sh keep (volume target)", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "vault-snapshot-keep-"));
        for (const sub of ["work", "snapshots"]) fs.mkdirSync(path.join(dir, sub));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const keep = (keepLast: number) =>
        spawnSync("sh", [VAULT_SNAPSHOT_SCRIPT, "keep"], {
            encoding: "utf8",
            env: {
                PATH: process.env.PATH,
                WORK_DIR: path.join(dir, "work"),
                SNAPSHOT_DIR: path.join(dir, "snapshots"),
                RETENTION_DAYS: "30",
                KEEP_LAST: String(keepLast),
            },
        });
    const kept = () => fs.readdirSync(path.join(dir, "snapshots")).sort();

    it("keeps the save's file under a new timestamped name, whole, and prunes old ones but never the newest KEEP_LAST", () => {
        fs.writeFileSync(path.join(dir, "work", "vault.snap"), "raft-snapshot-bytes");
        const old = ["vault-20200101T000000Z.snap", "vault-20200102T000000Z.snap", "vault-20200103T000000Z.snap"];
        for (const name of old) fs.writeFileSync(path.join(dir, "snapshots", name), "x");
        fs.writeFileSync(path.join(dir, "snapshots", "vault-20200104T000000Z.snap.partial"), "half");
        const r = keep(2);
        assert.equal(r.status, 0, r.stderr);
        const fresh = kept().filter((n) => !old.includes(n));
        assert.equal(fresh.length, 1, kept().join(", "));
        assert.match(fresh[0], /^vault-\d{8}T\d{6}Z\.snap$/);
        assert.equal(fs.readFileSync(path.join(dir, "snapshots", fresh[0]), "utf8"), "raft-snapshot-bytes");
        // KEEP_LAST 2: the new one and the newest old one stay, however old; the two older go; no partial stays.
        assert.deepEqual(kept(), ["vault-20200103T000000Z.snap", fresh[0]].sort());
        assert.match(r.stderr, new RegExp(`kept ${fresh[0]} \\(19 bytes\\)`));
    });

    it("fails loudly, keeping nothing, when the save produced no snapshot", () => {
        const r = keep(2);
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /FAILED: no snapshot to keep/);
        assert.deepEqual(kept(), []);
    });
});
