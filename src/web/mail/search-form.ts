/**
 * The webmail's search (issue 22): the box takes words and `from:` `to:` `subject:` `after:` `before:`
 * `has:attachment` prefixes; the advanced form under it has a field for each. Both build a JMAP Email/query
 * FilterCondition (RFC 8621 §4.4.1) that the list combines with `inMailbox`.
 */
import { html } from "htm/preact";
import { useState } from "preact/hooks";

export interface Search {
  /** What the list's title shows. */
  label: string;
  condition: Record<string, unknown>;
}

/** A day (YYYY-MM-DD) at the browser's local midnight, as a UTCDate (RFC 8621 §1.4: "Z", no zero fraction). */
export function utcDate(day: string, plusDays = 0): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return null;
  const at = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + plusDays);
  return Number.isNaN(at.getTime()) ? null : at.toISOString().replace(/\.000Z$/, "Z");
}

const FIELDS = ["from", "to", "subject"] as const;

/** The fields of the advanced form (or the box's prefixes) as a FilterCondition; days are inclusive. */
export function conditionOf(fields: Record<string, string | boolean>): Record<string, unknown> {
  const condition: Record<string, unknown> = {};
  for (const name of [...FIELDS, "text"] as const) {
    const value = String(fields[name] ?? "").trim();
    if (value) condition[name] = value;
  }
  // "after" is inclusive (receivedAt >= after), "before" exclusive: the day after the last day asked for.
  const since = utcDate(String(fields.since ?? ""));
  if (since) condition.after = since;
  const until = utcDate(String(fields.until ?? ""), 1);
  if (until) condition.before = until;
  if (fields.hasAttachment === true) condition.hasAttachment = true;
  return condition;
}

/** The box's text: `from:lee subject:"big news" has:attachment after:2026-01-01 words…` into form fields. */
export function parseQuery(query: string): Record<string, string | boolean> {
  const fields: Record<string, string | boolean> = {};
  const words: string[] = [];
  for (const [, token] of query.matchAll(/((?:[^\s"]+:)?(?:"[^"]*"|[^\s"]+))/g)) {
    const m = /^([a-z]+):(.*)$/i.exec(token!);
    const value = m ? m[2]!.replace(/^"(.*)"$/, "$1") : "";
    const key = m ? m[1]!.toLowerCase() : "";
    if (key === "from" || key === "to" || key === "subject") fields[key] = value;
    else if (key === "after" || key === "since") fields.since = value;
    else if (key === "before" || key === "until") fields.until = value;
    else if (key === "has" && value.toLowerCase() === "attachment") fields.hasAttachment = true;
    else words.push(token!.replace(/^"(.*)"$/, "$1"));
  }
  if (words.length) fields.text = words.join(" ");
  return fields;
}

export function SearchForm(props: { onSearch: (search: Search | null) => void }) {
  const [open, setOpen] = useState(false);
  const done = (condition: Record<string, unknown>, label: string) =>
    props.onSearch(Object.keys(condition).length ? { label, condition } : null);
  const submitBox = (e: Event) => {
    e.preventDefault();
    const query = String(new FormData(e.target as HTMLFormElement).get("q") ?? "").trim();
    done(conditionOf(parseQuery(query)), query);
  };
  const submitAdvanced = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const fields: Record<string, string | boolean> = {};
    for (const name of [...FIELDS, "text", "since", "until"]) fields[name] = String(form.get(name) ?? "");
    fields.hasAttachment = form.get("hasAttachment") === "on";
    const label = Object.entries(fields).filter(([, v]) => v).map(([k, v]) =>
      v === true ? "has:attachment" : `${k}:${v}`
    )
      .join(" ");
    done(conditionOf(fields), label);
  };
  return html`
    <div class="search-area">
      <form class="search" role="search" onSubmit=${submitBox}>
        <input name="q" type="search" placeholder="Search mail" aria-label="Search mail" />
      </form>
      <details class="advanced-search" open=${open} onToggle=${(e: Event) =>
        setOpen((e.target as HTMLDetailsElement).open)}>
        <summary>Advanced search</summary>
        <form onSubmit=${submitAdvanced} aria-label="Advanced search">
          <label>From <input name="from" type="text" /></label>
          <label>To <input name="to" type="text" /></label>
          <label>Subject <input name="subject" type="text" /></label>
          <label>Has the words <input name="text" type="text" /></label>
          <label>Received on or after <input name="since" type="date" /></label>
          <label>Received on or before <input name="until" type="date" /></label>
          <label><input name="hasAttachment" type="checkbox" /> Has attachment</label>
          <button type="submit" class="primary">Search</button>
          <button type="reset" onClick=${() => props.onSearch(null)}>Clear</button>
        </form>
      </details>
    </div>
  `;
}
