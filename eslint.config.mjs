// ESLint (flat config): typescript-eslint's recommended rules, type-aware, plus Pulumi's rules that
// catch an Output used in a template literal (it needs pulumi.interpolate). Formatting is Prettier's.
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["node_modules/", "**/node_modules/", "charts/", "services/*/dist/"] },
    ...tseslint.configs.recommended,
    {
        files: ["**/*.ts"],
        languageOptions: {
            parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
        },
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
            // Floating promises are lost errors in a Pulumi program.
            "@typescript-eslint/no-floating-promises": "error",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
        },
    },
    {
        // Tests and the mocks read mock inputs and JSON answers, which are untyped by nature.
        files: ["tests/**/*.ts", "tools/mocks.ts", "services/*/test/**/*.ts"],
        rules: { "@typescript-eslint/no-explicit-any": "off" },
    },
);
