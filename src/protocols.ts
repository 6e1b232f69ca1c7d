/**
 * Which protocol serves which listener. A listener whose protocol is not written yet is not
 * started at all (never answering as if it worked); `postern serve` logs that it was left out.
 */
import type { SecureContext } from "node:tls";
import type { Config, ListenerName } from "./config/schema.ts";
import type { ConnectionHandler } from "./net/types.ts";
import type { Store } from "./store/store.ts";

export interface ServerContext {
  config: Config;
  store: Store;
  secureContext: SecureContext;
}

export interface Protocol {
  /** TLS from the first byte (465, 993, 995) rather than STARTTLS. */
  implicitTls: boolean;
  /** Sent to a connection refused for the per-IP limit, e.g. `421 4.7.0 ...`. */
  refusalLine?: string;
  handler(context: ServerContext, listener: ListenerName): ConnectionHandler;
}

const PROTOCOLS: Partial<Record<ListenerName, Protocol>> = {};

export function protocolFor(name: ListenerName): Protocol | undefined {
  return PROTOCOLS[name];
}
