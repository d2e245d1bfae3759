// Registry credentials for the program's own image push, from the deployer's Entra ID login: the stack's
// registry has its admin user off, so there is no password to read. ACR trades an Entra ID access token
// for a registry refresh token at POST https://<login server>/oauth2/exchange (form fields grant_type=
// access_token, service, tenant, access_token), which `docker login` then accepts as the password of the
// fixed user 00000000-0000-0000-0000-000000000000 (Azure/acr docs/AAD-OAuth.md, "Authenticating to a
// registry with Azure AD"; the same exchange `az acr login` and dotnet/aspire
// src/Aspire.Hosting.Azure/AcrLoginService.cs do). The token is scoped to the deployer's own rights:
// pushing needs AcrPush (or Owner/Contributor) on the registry.
import * as authorization from "@pulumi/azure-native/authorization";
import * as pulumi from "@pulumi/pulumi";

/** The user name ACR expects with a refresh token (Azure/acr docs/AAD-OAuth.md). */
const ACR_TOKEN_USER = "00000000-0000-0000-0000-000000000000";

/** Trades an Entra ID access token (audience Azure Resource Manager) for a refresh token of `loginServer`. */
async function exchangeAcrRefreshToken(loginServer: string, tenantId: string, accessToken: string): Promise<string> {
    const body = new URLSearchParams({ grant_type: "access_token", service: loginServer, tenant: tenantId, access_token: accessToken });
    const response = await fetch(`https://${loginServer}/oauth2/exchange`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: body.toString(),
    });
    if (!response.ok) {
        // The body names the reason (e.g. the registry does not know the tenant); it never echoes the token.
        throw new Error(`${loginServer}: the registry refused the Entra ID token exchange (${response.status}): ${await response.text()}`);
    }
    const answer = (await response.json()) as { refresh_token?: string };
    if (!answer.refresh_token) throw new Error(`${loginServer}: the token exchange answered without a refresh_token`);
    return answer.refresh_token;
}

/**
 * The push credentials of a registry for docker-build's `registries`, as a secret. During a preview
 * nothing is pushed (buildOnPreview is off), so no token is fetched then. docker-build ignores a changed
 * password when it diffs (pulumi/pulumi-docker-build provider/internal/image.go, Diff: "we ignore
 * \"password\" changes"), so a fresh token at every `up` is no change.
 */
export function acrPushCredentials(loginServer: pulumi.Input<string>, tenantId: pulumi.Input<string>, opts?: pulumi.InvokeOutputOptions) {
    const token = authorization.getClientTokenOutput({}, opts).token;
    const password = pulumi
        .all([loginServer, tenantId, token])
        .apply(([server, tenant, armToken]) => (pulumi.runtime.isDryRun() ? "" : exchangeAcrRefreshToken(server, tenant, armToken)));
    return { address: pulumi.output(loginServer), username: ACR_TOKEN_USER, password: pulumi.secret(password) };
}
