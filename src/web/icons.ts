/**
 * Small line icons as inline SVG (24×24 grid, drawn for Postern): no icon font or emoji font needed, so they look
 * the same on every machine, and they inherit the text colour.
 */
import { html } from "htm/preact";

const PATHS = {
  inbox: "M3 13h5l2 3h4l2-3h5M3 13l3-8h12l3 8v6H3z",
  drafts: "M4 20h4L19 9l-4-4L4 16zM13 7l4 4",
  sent: "M3 11l18-8-8 18-2-8zM11 13l10-10",
  archive: "M3 4h18v4H3zM5 8v12h14V8M10 12h4",
  junk: "M12 3l10 18H2zM12 10v4M12 17v.5",
  trash: "M4 6h16M9 6V4h6v2M6 6l1 14h10l1-14M10 10v7M14 10v7",
  folder: "M3 6h6l2 2h10v11H3z",
  attachment: "M8 12l6-6a3 3 0 0 1 4 4l-8 8a5 5 0 0 1-7-7l7-7",
  answered: "M10 8l-5 4 5 4M5 12h9a5 5 0 0 1 5 5v2",
  star: "M12 3l2.8 5.8 6.2.9-4.5 4.4 1 6.3-5.5-3-5.5 3 1-6.3L3 9.7l6.2-.9z",
} as const;

export type IconName = keyof typeof PATHS;

export function Icon(props: { name: IconName; label?: string; filled?: boolean }) {
  return html`
    <svg class=${`icon icon-${props.name}`} viewBox="0 0 24 24" width="16" height="16"
      fill=${props.filled ? "currentColor" : "none"} stroke="currentColor" stroke-width="2" stroke-linecap="round"
      stroke-linejoin="round" role=${props.label ? "img" : undefined} aria-label=${props.label}
      aria-hidden=${props.label ? undefined : "true"}>${props.label ? html`<title>${props.label}</title>` : null}<path
        d=${PATHS[props.name]} /></svg>
  `;
}
