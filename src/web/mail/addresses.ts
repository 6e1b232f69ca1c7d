/**
 * Address completion from recent correspondents: the senders and recipients of the account's latest messages
 * (newest first, the account's own address left out), offered under a To or Cc field for the address being typed.
 */
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import type { Jmap } from "./jmap.ts";
import { type EmailAddress, formatAddress } from "./types.ts";

/** How many recent messages the completion looks at, and how many suggestions it shows. */
const RECENT = 200;
const SHOWN = 6;

export async function recentCorrespondents(jmap: Jmap): Promise<EmailAddress[]> {
  const [, got] = await jmap.request([
    ["Email/query", { sort: [{ property: "receivedAt", isAscending: false }], limit: RECENT }, "q"],
    ["Email/get", {
      "#ids": { resultOf: "q", name: "Email/query", path: "/ids" },
      properties: ["from", "to", "cc"],
    }, "g"],
  ]);
  const seen = new Map<string, EmailAddress>();
  const self = jmap.user.address.toLowerCase();
  for (const e of (got![1] as { list: Array<Record<string, EmailAddress[] | null>> }).list) {
    for (const a of [...(e.from ?? []), ...(e.to ?? []), ...(e.cc ?? [])]) {
      const key = a.email.toLowerCase();
      if (key === self) continue;
      const known = seen.get(key);
      if (!known) seen.set(key, a);
      else if (!known.name && a.name) known.name = a.name;
    }
  }
  return [...seen.values()];
}

/** The address being typed: what follows the last comma or semicolon. */
const lastToken = (value: string) => value.slice(Math.max(value.lastIndexOf(","), value.lastIndexOf(";")) + 1);

export function AddressInput(props: {
  name: string;
  label: string;
  value: string;
  known: EmailAddress[];
  required?: boolean;
  onInput: (value: string) => void;
}) {
  const [focused, setFocused] = useState(false);
  const typed = lastToken(props.value).trim().toLowerCase();
  const matches = focused && typed
    ? props.known.filter((a) => a.email.toLowerCase().includes(typed) || (a.name ?? "").toLowerCase().includes(typed))
      .slice(0, SHOWN)
    : [];
  const choose = (a: EmailAddress) => {
    const head = props.value.slice(0, props.value.length - lastToken(props.value).length);
    props.onInput(`${head}${head ? " " : ""}${formatAddress(a)}, `);
    document.querySelector<HTMLInputElement>(`.compose input[name=${props.name}]`)?.focus();
  };
  return html`
    <div class="address-field">
      <label>${props.label} <input name=${props.name} type="text" autocomplete="off" value=${props.value}
        required=${props.required} aria-autocomplete="list"
        onInput=${(e: Event) => props.onInput((e.target as HTMLInputElement).value)}
        onFocus=${() => setFocused(true)}
        onBlur=${() => setTimeout(() => setFocused(false), 200)} /></label>
      ${matches.length
        ? html`<ul class="suggestions" role="listbox" aria-label=${`${props.label} suggestions`}>
          ${
          matches.map((a) =>
            html`<li role="option"><button type="button" onMouseDown=${(e: Event) => e.preventDefault()}
              onClick=${() => choose(a)}>${formatAddress(a)}</button></li>`
          )
        }
        </ul>`
        : null}
    </div>
  `;
}

/** Loads the correspondents once per compose form. */
export function useCorrespondents(jmap: Jmap): EmailAddress[] {
  const [known, setKnown] = useState<EmailAddress[]>([]);
  useEffect(() => {
    recentCorrespondents(jmap).then(setKnown, () => setKnown([]));
  }, []);
  return known;
}
