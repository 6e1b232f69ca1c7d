/**
 * A listener that cannot bind its address (issue 20, item 9): the message names the listener,
 * the address and the config key to change, for a person to read instead of a stack trace.
 * `postern serve` prints it and exits 2, as for any other configuration error.
 */
import { envName } from "../config/env.ts";

export class ListenError extends Error {
  constructor(
    readonly listener: string,
    readonly host: string,
    readonly port: number,
    readonly code: string,
  ) {
    super(listenMessage(listener, host, port, code));
    this.name = "ListenError";
  }
}

function listenMessage(listener: string, host: string, port: number, code: string): string {
  const key = `listeners.${listener}`;
  const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const portKey = `${key}.port (or ${envName(["listeners", listener, "port"])})`;
  const off = `or set ${key} to false to turn the listener off`;
  switch (code) {
    case "EADDRINUSE":
      return `Cannot listen on ${where} for ${key}: the address is already in use (another program, or another postern serve, listens there). Stop it, change ${portKey}, ${off}.`;
    case "EACCES":
      return `Cannot listen on ${where} for ${key}: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE, see docs/production.md). Change ${portKey}, ${off}.`;
    case "EADDRNOTAVAIL":
      return `Cannot listen on ${where} for ${key}: ${host} is not an address of this machine. Change ${key}.host, ${off}.`;
    default:
      return `Cannot listen on ${where} for ${key}: ${code}. Change ${portKey}, ${off}.`;
  }
}

/** The error code of a failed bind on Node/Bun (`code`) or Deno (`AddrInUse`, `PermissionDenied`…). */
export function bindErrorCode(e: unknown): string | null {
  const err = e as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof err?.code === "string" && /^E[A-Z]+$/.test(err.code)) return err.code;
  const name = typeof err?.name === "string" ? err.name : "";
  const message = typeof err?.message === "string" ? err.message : "";
  if (name === "AddrInUse" || /address already in use|EADDRINUSE/i.test(message)) return "EADDRINUSE";
  if (name === "PermissionDenied" || /permission denied|EACCES/i.test(message)) return "EACCES";
  if (name === "AddrNotAvailable" || /EADDRNOTAVAIL|cannot assign requested address/i.test(message)) {
    return "EADDRNOTAVAIL";
  }
  return null;
}

/** A bind failure as a `ListenError` naming the listener and the setting to change (issue 20, item 9). */
export function listenError(options: { name: string; host: string; port: number }, e: unknown): unknown {
  const code = bindErrorCode(e);
  return code ? new ListenError(options.name, options.host, options.port, code) : e;
}
