// Shipshape lints itself with the gate it gives users: `dagger call lint` (zero warnings).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    // Fixtures are other projects (some deliberately broken) and captured tool output; the
    // dagger/ modules are typechecked against SDK code the engine generates.
    ignores: ["node_modules/", "test/fixtures/", "test/parsers/fixtures-*/", "dagger/", "sdk/", "schema/", "coverage/", ".shipshape/"],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      // `_`-prefixed names are deliberately unused (destructuring to omit a key).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
    },
  },
);
