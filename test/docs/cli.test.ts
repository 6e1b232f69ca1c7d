/**
 * docs/cli.md documents every command and subcommand the CLI's usage texts name (issue 20: the README, through the
 * pages it links, tells every CLI command).
 */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "../..");

/** `alias add`, `dns check`, `serve`…: the first words after `postern` on each usage line in src/cli/. */
function usageCommands(): Set<string> {
  const out = new Set<string>();
  for (const file of readdirSync(join(root, "src/cli")).filter((f) => f.endsWith(".ts"))) {
    const text = readFileSync(join(root, "src/cli", file), "utf8");
    for (
      const [, command = "", sub] of text.matchAll(
        /^\s*(?:export const \w+ = [`"])?(?:Usage: )?postern ([a-z]+)(?: ([a-z]+)\b)?/gm,
      )
    ) {
      out.add(sub ? `${command} ${sub}` : command);
    }
  }
  return out;
}

test("every command in the CLI's usage texts has a row in docs/cli.md", () => {
  const commands = usageCommands();
  expect(commands.size).toBeGreaterThan(25);
  const rows = readFileSync(join(root, "docs/cli.md"), "utf8").split("\n").filter((l) => l.startsWith("| `postern "))
    .map((l) => l.split(" | ")[0]!);
  const documented = (command: string) => {
    const [name, sub] = command.split(" ");
    return rows.some((cell) =>
      sub === undefined
        // `postern restore` shares the row of `postern backup <file>` / `restore <file>`.
        ? cell.includes(`\`postern ${name}`) || cell.includes(`/ \`${name} `)
        : cell.includes(`\`postern ${name}`) &&
          [`postern ${name} ${sub}`, `\`${sub} `, `\`${sub}\``, `\`${sub}\\|`].some((s) => cell.includes(s))
    );
  };
  expect([...commands].filter((c) => !documented(c))).toEqual([]);
});
