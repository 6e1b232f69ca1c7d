import { defineConfig } from "drizzle-kit";

// `bun run db:generate` writes SQL migrations here; scripts/embed-migrations.ts then embeds them.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/store/schema.ts",
  out: "./migrations",
});
