/**
 * Fixed ports for tests that must know a port before a process starts (two servers pointing at
 * each other, a Debian daemon's command line). They come from below the kernel's ephemeral range,
 * where no client socket of this or another test can be holding them, and each is checked free
 * on 127.0.0.1 before it is handed out.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** The first port the kernel hands to outgoing connections (Linux default 32768). */
function ephemeralStart(): number {
  try {
    return Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

const handedOut = new Set<number>();

/** `count` distinct free loopback ports between 20000 and the ephemeral range. */
async function freePorts(count: number): Promise<number[]> {
  const low = 20_000;
  const high = Math.max(low + 1000, ephemeralStart()) - 1;
  const ports: number[] = [];
  for (let tries = 0; ports.length < count && tries < 1000; tries++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (handedOut.has(port) || !(await isFree(port))) continue;
    handedOut.add(port);
    ports.push(port);
  }
  if (ports.length < count) throw new Error(`could not find ${count} free ports between ${low} and ${high}`);
  return ports;
}

/** Two distinct free loopback ports (two servers, or a daemon's two listeners). */
export async function freePortPair(): Promise<[number, number]> {
  const [a, b] = await freePorts(2);
  return [a!, b!];
}
