/**
 * Single-key shortcuts in the Gmail/Thunderbird style: j/k next and previous message, c compose, / search, and on an
 * open message r reply, a reply all, f forward, s flag, u unread, # delete, ! spam. Ignored while typing in a field
 * or with a modifier key.
 */
import { useEffect, useRef } from "preact/hooks";

export const SHORTCUTS =
  "j/k next/previous · r reply · a reply all · f forward · s flag · u unread · # delete · ! spam · c compose · / search";

/** Runs the binding of a key; the bindings of the latest render apply, so they may change on every render. */
export function useKeys(bindings: () => Record<string, () => void>): void {
  const latest = useRef(bindings);
  latest.current = bindings;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const target = e.target as HTMLElement | null;
      if (target?.closest?.("input, textarea, select, [contenteditable]")) return;
      const action = latest.current()[e.key];
      if (!action) return;
      e.preventDefault();
      action();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);
}
