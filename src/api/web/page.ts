/**
 * The HTML page of each web application and the headers it is served with. The Content-Security-Policy allows only
 * this server's own script and style, no plugins, no framing by other sites, and images only from this server or
 * `data:`; a message's HTML, shown in a sandboxed `srcdoc` frame, inherits it (CSP3 §7.8), so its scripts stay
 * blocked even if the sanitiser missed one. The webmail's policy also allows remote images, for a message whose
 * reader asked for them ("Show images"): the sanitiser drops them otherwise, and the frame's own policy, which
 * applies as well, allows them only then.
 */
export const contentSecurityPolicy = (remoteImages: boolean) =>
  [
    "default-src 'none'",
    "script-src 'self'",
    // Messages carry their own inline styles; style cannot run code or fetch past img-src/font-src.
    "style-src 'self' 'unsafe-inline'",
    `img-src 'self' data: blob:${remoteImages ? " https: http:" : ""}`,
    "font-src 'self' data:",
    "connect-src 'self'",
    "frame-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");

const escape = (text: string) => text.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

export function page(
  title: string,
  base: string,
  remoteImages = false,
): { body: string; headers: Record<string, string> } {
  const body = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escape(title)}</title>
<link rel="stylesheet" href="${base}/app.css">
</head>
<body>
<div id="app"></div>
<script type="module" src="${base}/app.js"></script>
</body>
</html>
`;
  return {
    body,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": contentSecurityPolicy(remoteImages),
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "cache-control": "no-cache",
    },
  };
}
