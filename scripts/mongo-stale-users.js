// Drops the MongoDB users that dev's Vault created before it lost its memory (a dev-mode restart):
// users of the admin database whose name matches USERNAME_PATTERN (the database engine's
// username_template, or the plugin's default one it used before, components/workloads/vaultDatabase.ts;
// the group that matched holds the unix time the user was created) and were created before CUTOFF. Vault holds no lease for any of them, so nothing else
// will ever revoke them. Run by mongosh (scripts/mongo-stale-users.sh); the root credentials come from
// the environment, never the command line.
/* global Mongo, print */
(function dropStaleUsers(env) {
    const pattern = new RegExp(env.USERNAME_PATTERN);
    const cutoff = Number(env.CUTOFF);
    if (!Number.isInteger(cutoff) || cutoff <= 0) throw new Error(`CUTOFF must be a unix time, got ${env.CUTOFF}`);
    const admin = new Mongo(`mongodb://${env.MONGO_HOST}:${env.MONGO_PORT}/admin`).getDB("admin");
    admin.auth(env.MONGO_USERNAME, env.MONGO_PASSWORD);
    // mongosh returns the usersInfo reply ({ users: [...] }); the legacy shell returned the array.
    const reply = admin.getUsers();
    const users = Array.isArray(reply) ? reply : reply.users;
    let dropped = 0;
    let kept = 0;
    for (const { user } of users) {
        const match = pattern.exec(user);
        if (!match) continue;
        const created = match.slice(1).find((group) => group !== undefined);
        if (Number(created) < cutoff) {
            admin.dropUser(user);
            print(`dropped stale user ${user}`);
            dropped++;
        } else kept++;
    }
    print(`dropped ${dropped} stale user(s) created before ${cutoff}; kept ${kept} the running Vault created`);
})(process.env);
