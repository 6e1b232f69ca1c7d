/**
 * Reverse aliases (reply through the alias, issue 19): mail forwarded through an alias of a
 * domain that has them gets a `Reply-To` naming a reverse address per correspondent,
 * `r+<token>@<alias domain>`; mail from the alias's owner to that address goes on to the
 * correspondent from the alias. The token is an HMAC of alias and correspondent under a key
 * derived from the SRS secret, so it cannot be made without the secret; the store keeps the
 * mapping, and a token is checked against what it maps to before it is used.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
/** 20 base32 characters: 100 bits of the HMAC. */
const TOKEN_LENGTH = 20;
const PREFIX = "r+";
const LOCAL_PART = new RegExp(`^r\\+([a-z2-7]{${TOKEN_LENGTH}})$`, "i");

export interface ReverseAlias {
  token: string;
  /** The alias address the correspondent wrote to. */
  alias: string;
  correspondent: string;
}

export class ReverseAddresses {
  constructor(private readonly key: Uint8Array) {}

  /** The token of an alias and a correspondent: the same pair always gets the same one. */
  token(alias: string, correspondent: string): string {
    const mac = createHmac("sha256", this.key).update(`${alias.toLowerCase()}\n${correspondent.toLowerCase()}`)
      .digest();
    let bits = 0;
    let value = 0;
    let out = "";
    for (const byte of mac) {
      value = (value << 8) | byte;
      bits += 8;
      while (bits >= 5 && out.length < TOKEN_LENGTH) {
        out += BASE32[(value >>> (bits - 5)) & 31];
        bits -= 5;
      }
      value &= (1 << bits) - 1;
      if (out.length === TOKEN_LENGTH) break;
    }
    return out;
  }

  /** The reverse address of the pair, at the alias's domain. */
  address(alias: string, correspondent: string): string {
    const domain = alias.slice(alias.lastIndexOf("@") + 1).toLowerCase();
    return `${PREFIX}${this.token(alias, correspondent)}@${domain}`;
  }

  /** Whether a stored mapping is one this key made (a row written by hand, or under another secret, is not). */
  verify(row: ReverseAlias): boolean {
    const expected = new TextEncoder().encode(this.token(row.alias, row.correspondent));
    const given = new TextEncoder().encode(row.token.toLowerCase());
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  /** The token of a reverse address's local part, or null when it is not one. */
  static tokenOf(localPart: string): string | null {
    return LOCAL_PART.exec(localPart)?.[1]?.toLowerCase() ?? null;
  }
}
