/**
 * A message's HTML made safe to show: DOMPurify removes scripts, event handlers, forms and anything else active;
 * remote images (and other remote fetches: srcset, background, poster) are dropped and counted, so opening a
 * message tells no tracker it was read. The result goes into a sandboxed `srcdoc` frame (no scripts, an opaque
 * origin) with its own strict Content-Security-Policy.
 */
import DOMPurify from "dompurify";

/** The frame's own policy: no network at all, only inline styles and `data:` images (and, once allowed, remote ones). */
const frameCsp = (remoteImages: boolean) =>
  `default-src 'none'; style-src 'unsafe-inline'; img-src data:${remoteImages ? " https: http:" : ""}; font-src data:`;

const REMOTE_ATTRIBUTES = ["srcset", "background", "poster", "lowsrc", "dynsrc"];

export interface SafeHtml {
  /** The whole document for the frame's srcdoc. */
  document: string;
  /** How many remote images were blocked (with `remoteImages`: how many there are, shown). */
  blockedImages: number;
}

/** CSS `url(...)` values other than `data:` become `none` (background images are trackers too). */
function withoutRemoteUrls(css: string): string {
  return css.replace(/url\s*\(\s*(['"]?)(?!data:)[^)]*\)/gi, "none");
}

/**
 * With `remoteImages` (the reader's "Show images", asked for each message), `<img>` with an http(s) source keep it;
 * everything else stays as without: no scripts, no CSS `url()`, no srcset. The page's CSP allows remote images
 * and no more, and the frame is sandboxed without scripts either way.
 */
export function sanitizeMessageHtml(html: string, remoteImages = false): SafeHtml {
  let blockedImages = 0;
  const purify = DOMPurify();
  purify.addHook("uponSanitizeElement", (node, data) => {
    if (data.tagName === "style" && node.textContent) node.textContent = withoutRemoteUrls(node.textContent);
  });
  purify.addHook("afterSanitizeAttributes", (node) => {
    const element = node as Element;
    if (element.tagName === "IMG") {
      const src = element.getAttribute("src") ?? "";
      if (remoteImages && /^https?:\/\//i.test(src)) {
        blockedImages++;
        element.setAttribute("referrerpolicy", "no-referrer");
      } else if (!/^data:image\//i.test(src)) {
        if (src) blockedImages++;
        element.removeAttribute("src");
        element.setAttribute("alt", element.getAttribute("alt") || "[image blocked]");
      }
    }
    for (const name of REMOTE_ATTRIBUTES) element.removeAttribute(name);
    const style = element.getAttribute("style");
    if (style && /url\s*\(/i.test(style)) element.setAttribute("style", withoutRemoteUrls(style));
    if (element.tagName === "A" && element.hasAttribute("href")) {
      element.setAttribute("target", "_blank");
      element.setAttribute("rel", "noopener noreferrer");
    }
  });
  const body = purify.sanitize(html, {
    FORBID_TAGS: ["form", "input", "button", "textarea", "select", "link", "meta", "base"],
    FORBID_ATTR: ["action", "formaction"],
    WHOLE_DOCUMENT: false,
  }) as string;
  const document = `<!doctype html><html><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="${frameCsp(remoteImages)}">` +
    `<base target="_blank"><style>body{font-family:system-ui,sans-serif;margin:0;padding:12px;` +
    `word-wrap:break-word}img{max-width:100%}</style></head><body>${body}</body></html>`;
  return { document, blockedImages };
}
