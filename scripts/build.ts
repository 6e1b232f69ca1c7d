/**
 * `bun run build`: compiles Postern into one executable, dist/postern.
 *
 * libSQL's `libsql` package picks its native addon with a computed require
 * (`require(\`@libsql/${target}\`)`), which the bundler cannot follow, so the compiled binary would
 * fail with "Cannot find module '@libsql/linux-x64-gnu'". The plugin below replaces that require
 * with a literal one for the build's target, so Bun embeds the .node file.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { renderWebAssets, WEB_ASSETS_FILE } from "./build-web.ts";

const target = process.env.POSTERN_BUILD_LIBSQL_TARGET ?? `${process.platform}-${process.arch}-gnu`;

// The webmail and admin console (src/web/) are embedded through the module the server imports; build them first.
writeFileSync(WEB_ASSETS_FILE, await renderWebAssets());

const result = await Bun.build({
  // The checkpoint thread (src/store/checkpointer.ts) is a worker: Bun embeds its module when it is an entrypoint.
  entrypoints: ["./src/main.ts", "./src/store/checkpoint-worker.ts"],
  compile: { outfile: "./dist/postern" },
  minify: true,
  sourcemap: "linked",
  plugins: [
    {
      name: "libsql-native",
      setup(build) {
        build.onLoad({ filter: /node_modules\/libsql\/index\.js$/ }, (args) => {
          const source = readFileSync(args.path, "utf8");
          const patched = source.replace(
            "return require(`@libsql/${target}`);",
            `return require("@libsql/${target}");`,
          );
          if (patched === source) throw new Error("libsql/index.js changed: update scripts/build.ts");
          return { contents: patched, loader: "js" };
        });
      },
    },
  ],
});

if (!result.success) {
  for (const message of result.logs) console.error(message);
  process.exit(1);
}
console.log(`built dist/postern for ${target}`);
