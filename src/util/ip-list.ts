/**
 * Lists of IP addresses and CIDR networks from configuration (`192.0.2.1`, `10.0.0.0/8`, `2001:db8::/32`): the
 * ban allow-list and the trusted HTTP proxies.
 */
import { BlockList, isIPv6 } from "node:net";

/** A list of addresses and CIDR networks; throws naming the entry that is neither. */
export function addressList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split("/");
    const type = isIPv6(address!) ? "ipv6" : "ipv4";
    const max = type === "ipv6" ? 128 : 32;
    const prefix = bits === undefined ? max : Number(bits);
    if (!/^[\d.]+$|:/.test(address!) || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
      throw new Error(`not an IP address or network: ${entry}`);
    }
    list.addSubnet(address!, prefix, type);
  }
  return list;
}

export function listHas(list: BlockList, ip: string): boolean {
  return list.check(ip, isIPv6(ip) ? "ipv6" : "ipv4");
}
