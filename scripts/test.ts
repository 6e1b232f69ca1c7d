/**
 * `npm test` / `bun run test`: the whole suite on Bun, then the end-to-end, interoperability and hostile-client tests
 * again with the server started under Deno and as the compiled binary (see test/helpers/runtime.ts).
 * `POSTERN_TEST_ONLY=bun` (or deno, binary) runs one leg.
 */
const only = process.env.POSTERN_TEST_ONLY;
/** What starts `postern serve` (or runs the CLI) and so runs again under Deno and as the binary. */
const SERVER_TESTS = [
  "test/e2e",
  "test/interop",
  "test/hostile",
  // Regression tests of issue 18 that live beside their unit tests.
  "test/net/tls-ciphers.test.ts",
  "test/net/dns-faults.test.ts",
  "test/deliver/role-addresses.test.ts",
  "test/cli/domain-name.test.ts",
  // Issue 20: setup's config served, certificates reloaded and ordered from Pebble.
  "test/cli/setup.test.ts",
  "test/net/cert-reload.test.ts",
  "test/net/acme.test.ts",
  // Issue 20: the HTTPS listener (MTA-STS and autoconfig over TLS, certificate reload).
  "test/net/https.test.ts",
  // Issue 20, part 1: the queue command beside a running server; the newcomer's traps (busy port, certificate names).
  "test/cli/queue.test.ts",
  "test/cli/newcomer.test.ts",
  // Issue 22: the webmail's later features in Chromium.
  "test/web/mail-folders.test.ts",
  "test/web/mail-attached.test.ts",
  "test/web/mail-aliases.test.ts",
  "test/web/mail-large.test.ts",
  "test/web/mail-search.test.ts",
  "test/web/mail-trash.test.ts",
  "test/web/admin-verdicts.test.ts",
];
const extra = process.argv.slice(2);

function run(title: string, cmd: string[], env: Record<string, string> = {}): void {
  console.log(`\n=== ${title}: ${cmd.join(" ")}`);
  const result = Bun.spawnSync(cmd, { stdout: "inherit", stderr: "inherit", env: { ...process.env, ...env } });
  if (result.exitCode !== 0) {
    console.error(`\n${title} failed (exit ${result.exitCode})`);
    process.exit(result.exitCode ?? 1);
  }
}

run("embedded migrations are current", ["bun", "scripts/embed-migrations.ts", "--check"]);
if (!only || only === "bun") {
  run("suite on Bun", ["bun", "test", "--timeout", "30000", ...extra], { POSTERN_TEST_RUNTIME: "bun" });
}
if (!only || only === "deno") {
  run("e2e on Deno", ["bun", "test", "--timeout", "30000", ...SERVER_TESTS], {
    POSTERN_TEST_RUNTIME: "deno",
  });
}
if (!only || only === "binary") {
  run("build the binary", ["bun", "scripts/build.ts"]);
  run("e2e on the binary", ["bun", "test", "--timeout", "30000", ...SERVER_TESTS], {
    POSTERN_TEST_RUNTIME: "binary",
  });
}
console.log("\nall test legs passed");
