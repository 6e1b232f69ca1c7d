/**
 * A table of the admin console: a header row, then the rows the caller gives, in a region of its own that scrolls
 * sideways on a narrow screen (a phone) instead of widening the page; the region is focusable so the keyboard can
 * scroll it too (WCAG 2.1.1).
 */
import { html } from "htm/preact";
import type { ComponentChildren } from "preact";

/**
 * `columns` are the header cells; an empty one (a column of buttons) is named "Actions" for screen readers only.
 * `label` names the region.
 */
export function Table(props: { label: string; columns: string[]; class?: string; children: ComponentChildren }) {
  return html`
    <div class="table-scroll" role="region" aria-label=${props.label} tabindex="0">
      <table class=${props.class}>
        <thead>
          <tr>${props.columns.map((c) =>
            html`<th scope="col">${c || html`<span class="visually-hidden">Actions</span>`}</th>`
          )}</tr>
        </thead>
        <tbody>${props.children}</tbody>
      </table>
    </div>
  `;
}
