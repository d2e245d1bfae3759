// Resource names derived from the name prefix, and the longest prefix those names allow.
import { KEY_VAULT_NAME_MAX, NAME_SUFFIX_LENGTH, type Environment } from "./constants";
import type { Names } from "./types";

/** Resource names of a stack; Key Vault names get a random suffix in the Azure layer. */
export function namesFor(namePrefix: string, environment: Environment): Names {
    const stem = `${namePrefix}-${environment}`;
    return {
        resourceGroup: `${stem}-rg`,
        cluster: `${stem}-aks`,
        dnsPrefix: stem,
        logAnalytics: `${stem}-logs`,
        appInsights: `${stem}-appi`,
        appVaultStem: `${stem}-app`,
        unsealVaultStem: `${stem}-seal`,
        unsealKey: "vault-unseal",
        // Storage account names allow no hyphens: 3-24 lowercase letters and digits.
        backupStorageStem: `${namePrefix}${environment}bk`,
    };
}

/** The longest azure.namePrefix whose Key Vault names, suffix included, still fit Azure's limit. */
export function maxNamePrefixLength(environment: Environment): number {
    const names = namesFor("", environment);
    const longestStem = Math.max(names.appVaultStem.length, names.unsealVaultStem.length);
    return KEY_VAULT_NAME_MAX - longestStem - 1 - NAME_SUFFIX_LENGTH;
}
