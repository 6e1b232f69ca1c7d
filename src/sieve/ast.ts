/** The tree the parser builds from a script (RFC 5228 §8.2), before validation. */
import type { Position } from "./errors.ts";

export type Argument =
  | { type: "tag"; name: string; pos: Position }
  | { type: "number"; value: number; pos: Position }
  /** A string or a string list; `list` tells which was written (some arguments require a single string). */
  | { type: "strings"; values: string[]; list: boolean; pos: Position };

export interface TestNode {
  name: string;
  args: Argument[];
  tests: TestNode[];
  /** True when the tests were written as a parenthesized test-list. */
  testList: boolean;
  pos: Position;
}

export interface CommandNode extends TestNode {
  /** The commands between braces, or null when the command ended with ";". */
  block: CommandNode[] | null;
}
