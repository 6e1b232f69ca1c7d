/**
 * RFC 8291 push message encryption (src/api/jmap/push-encryption.ts): the example of RFC 8291
 * §5 / Appendix A byte for byte, and keys that cannot be encrypted to refused.
 */
import { describe, expect, test } from "bun:test";
import { encryptPush, usableKeys } from "../../src/api/jmap/push-encryption.ts";

const b64 = (text: string) => new Uint8Array(Buffer.from(text, "base64url"));

/** RFC 8291 Appendix A (line breaks removed). */
const EXAMPLE = {
  plaintext: "When I grow up, I want to be a watermelon",
  senderPrivateKey: "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw",
  p256dh: "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
  auth: "BTBZMqHH6r4Tts7J_aSIgg",
  salt: "DGv6ra1nlYgDCS1FRnbzlw",
  body:
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A" +
    "_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
};

describe("RFC 8291 push encryption", () => {
  test("reproduces the RFC's example message", () => {
    const body = encryptPush(new TextEncoder().encode(EXAMPLE.plaintext), EXAMPLE, {
      senderPrivateKey: b64(EXAMPLE.senderPrivateKey),
      salt: b64(EXAMPLE.salt),
    });
    expect(Buffer.from(body).toString("base64url")).toBe(EXAMPLE.body);
  });

  test("a fresh key and salt each time", () => {
    const plaintext = new TextEncoder().encode("{}");
    const [a, b] = [encryptPush(plaintext, EXAMPLE), encryptPush(plaintext, EXAMPLE)];
    expect(Buffer.from(a.subarray(0, 16)).equals(Buffer.from(b.subarray(0, 16)))).toBe(false);
    expect(a[20]).toBe(65);
  });

  test("keys must be a P-256 point and a 16-octet secret", () => {
    expect(usableKeys({ p256dh: EXAMPLE.p256dh, auth: EXAMPLE.auth })).toBe(true);
    expect(usableKeys({ p256dh: "x", auth: EXAMPLE.auth })).toBe(false);
    expect(usableKeys({ p256dh: EXAMPLE.p256dh, auth: "short" })).toBe(false);
    // 65 octets, but not a point on the curve.
    expect(usableKeys({ p256dh: Buffer.alloc(65, 4).toString("base64url"), auth: EXAMPLE.auth })).toBe(false);
    expect(usableKeys(null)).toBe(false);
  });
});
