// SecuLite's own ESLint configuration for scanning JavaScript. It is passed with `-c`, so the
// scanned repository's eslint.config.* (which could run code) is never loaded.
import security from "eslint-plugin-security";

const securityRules = Object.fromEntries(
  Object.keys(security.rules).map((name) => [`security/${name}`, "warn"]),
);

export default [
  {
    ignores: ["**/node_modules/**", "**/*.min.js", "**/dist/**", "**/build/**", "**/vendor/**"],
  },
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs", "**/*.jsx"],
    plugins: { security },
    linterOptions: { reportUnusedDisableDirectives: "off" },
    languageOptions: {
      ecmaVersion: "latest",
      sourceType: "module",
      parserOptions: { ecmaFeatures: { jsx: true } },
    },
    rules: {
      ...securityRules,
      // eval itself is covered by security/detect-eval-with-expression.
      "no-implied-eval": "warn",
      "no-new-func": "warn",
      "no-script-url": "warn",
    },
  },
];
