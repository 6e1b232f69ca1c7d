/**
 * Hostile clients for the hostile-client run: each opens one connection from a given loopback
 * address, misbehaves in one way, then holds the connection until the server closes it.
 * `closed` resolves with how long the server took to close it.
 */
import { connect, type Socket } from "node:net";

export type Attack =
  | "stall"
  | "endless-line"
  | "huge-literal"
  | "bdat-never-sent"
  | "tls-stall"
  | "partial-client-hello";

export interface Ports {
  smtp: number;
  imap: number;
  pop3: number;
  submissions: number;
}

export interface Attacker {
  attack: Attack;
  /** Resolves when the server has closed the connection (ms after connecting), or null if connecting failed. */
  closed: Promise<number | null>;
  socket: Socket;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function portFor(attack: Attack, ports: Ports, n: number): number {
  switch (attack) {
    case "stall":
      return [ports.smtp, ports.imap, ports.pop3][n % 3]!;
    case "endless-line":
      return [ports.smtp, ports.imap, ports.pop3][n % 3]!;
    case "huge-literal":
      return ports.imap;
    case "bdat-never-sent":
      return ports.smtp;
    case "tls-stall":
      return ports.submissions;
    case "partial-client-hello":
      return ports.submissions;
  }
}

/** What the attacker writes once connected (and, for endless lines, keeps writing). */
async function misbehave(attack: Attack, socket: Socket, n: number): Promise<void> {
  const write = (s: string | Uint8Array) => new Promise<void>((resolve) => socket.write(s, () => resolve()));
  switch (attack) {
    case "stall":
    case "tls-stall":
      return;
    case "endless-line": {
      // 64 KiB pieces without a line end, until the server gives up on us.
      const piece = "A".repeat(64 * 1024);
      for (let i = 0; i < 64 && !socket.destroyed; i++) await write(piece);
      return;
    }
    case "huge-literal":
      // Before login, as an anonymous attacker would: a synchronising literal the server must
      // refuse without reading, or a non-synchronising one whose bytes it must skip, not buffer.
      await write(`a LOGIN {${900_000_000 + n}${n % 2 ? "+" : ""}}\r\nonly a few bytes`);
      return;
    case "bdat-never-sent":
      await write(
        `EHLO hostile${n}.test\r\nMAIL FROM:<h@hostile.test>\r\nRCPT TO:<jo@example.test>\r\nBDAT 900000000 LAST\r\nonly a few bytes`,
      );
      return;
    case "partial-client-hello":
      // A TLS record header announcing a 16 KiB handshake, then 5 bytes of it.
      await write(Uint8Array.of(0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x00, 0x3f, 0xfc, 0x03));
      return;
  }
}

export function attack(kind: Attack, ports: Ports, localAddress: string, n: number): Attacker {
  const socket = connect({ host: "127.0.0.1", port: portFor(kind, ports, n), localAddress });
  socket.on("data", () => {});
  const started = Date.now();
  const closed = new Promise<number | null>((resolve) => {
    let connected = false;
    socket.once("connect", () => {
      connected = true;
      void sleep(Math.random() * 50).then(() => misbehave(kind, socket, n)).catch(() => {});
    });
    socket.once("close", () => resolve(connected ? Date.now() - started : null));
    socket.on("error", () => {});
  });
  return { attack: kind, closed, socket };
}
