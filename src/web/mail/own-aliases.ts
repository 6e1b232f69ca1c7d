/**
 * Settings: the account's own aliases through JMAP `urn:postern:aliases` (docs/outbound.md): list with their
 * counters, create (delivering to this account only), disable or enable, delete. Only at a domain whose admin lets
 * owners manage aliases (`postern alias owners <domain> on`); elsewhere the server refuses as `forbidden` and its
 * reason is shown.
 */
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import type { Jmap } from "./jmap.ts";

type SetError = { type: string; description?: string };

interface Alias {
  id: string;
  address: string;
  disabled: boolean;
  forwarded: number;
  refused: number;
  lastUsedAt: string | null;
}

export function OwnAliases(props: { jmap: Jmap; onError: (m: string) => void }) {
  const { jmap } = props;
  const [aliases, setAliases] = useState<Alias[] | null>(null);
  const load = () =>
    jmap.call<{ list: Alias[] }>("Alias/get", {}).then(
      ({ list }) => setAliases([...list].sort((a, b) => a.address.localeCompare(b.address))),
      (e) => props.onError(String(e.message)),
    );
  useEffect(() => void load(), []);

  /** One Alias/set; the first SetError's reason is shown. */
  const set = async (args: Record<string, unknown>): Promise<boolean> => {
    try {
      const result = await jmap.call<Record<string, Record<string, SetError> | null | undefined>>("Alias/set", args);
      const refused = [result.notCreated, result.notUpdated, result.notDestroyed]
        .flatMap((m) => Object.values(m ?? {}))[0];
      if (refused) props.onError(refused.description ?? refused.type);
      return !refused;
    } catch (e) {
      props.onError(String((e as Error).message));
      return false;
    } finally {
      await load();
    }
  };
  const create = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const address = String(new FormData(form).get("address")).trim();
    if (await set({ create: { alias: { address } } })) form.reset();
  };
  const remove = (a: Alias) => {
    if (confirm(`Delete the alias ${a.address}? Mail to it will be refused.`)) void set({ destroy: [a.id] });
  };

  return html`
    <section class="own-aliases" aria-label="Aliases">
      <h3>Aliases</h3>
      <p class="hint">
        Other addresses that deliver to ${jmap.user.address}, at domains where the administrator lets you make them.
        A disabled alias refuses mail.
      </p>
      ${aliases === null ? html`<p>Loading…</p>` : aliases.length === 0 ? html`<p class="empty">No aliases.</p>` : html`
        <ul>
          ${aliases.map((a) =>
            html`
              <li key=${a.id} class=${a.disabled ? "alias disabled" : "alias"}>
                <span class="alias-address">${a.address}</span>
                <span class="hint">${a.forwarded} delivered${a.refused ? `, ${a.refused} refused` : ""}</span>
                <label class="check"><input type="checkbox" checked=${!a.disabled} aria-label=${`${a.address} enabled`}
                  onChange=${(e: Event) =>
                    set({
                      update: { [a.id]: { disabled: !(e.target as HTMLInputElement).checked } },
                    })} /> Enabled</label>
                <button class="delete-alias" onClick=${() => remove(a)}>Delete</button>
              </li>
            `
          )}
        </ul>
      `}
      <form aria-label="New alias" onSubmit=${create}>
        <label>Address <input name="address" type="email" required placeholder="news@example.com" /></label>
        <button type="submit">Add alias</button>
      </form>
    </section>
  `;
}
