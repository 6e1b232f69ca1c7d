import { describe, expect, test } from "bun:test";
import { decodeBase64Bytes, decodeQuotedPrintable, decodeTransfer } from "../../src/mime/decode.ts";
import { dec, enc } from "./fixtures.ts";

describe("transfer decoding (RFC 2045 §6.7, §6.8)", () => {
  test("base64: line breaks and junk skipped, missing padding, concatenated chunks", () => {
    expect(dec.decode(decodeBase64Bytes(enc.encode("SGVs\r\nbG8s\r\nIHdv cmxk")))).toBe("Hello, world");
    expect(dec.decode(decodeBase64Bytes(enc.encode("SGk")))).toBe("Hi");
    expect(dec.decode(decodeBase64Bytes(enc.encode("SGk=\r\nIQ==")))).toBe("Hi!");
    expect(decodeBase64Bytes(enc.encode(""))).toEqual(new Uint8Array());
  });

  test("quoted-printable: soft breaks (CRLF, LF, padded), bytes, malformed escapes kept", () => {
    expect(dec.decode(decodeQuotedPrintable(enc.encode("a=\r\nb=\nc= \t\r\nd")))).toBe("abcd");
    expect(dec.decode(decodeQuotedPrintable(enc.encode("caf=C3=A9 =3D 100=")))).toBe("café = 100");
    expect(dec.decode(decodeQuotedPrintable(enc.encode("=ZZ =4")))).toBe("=ZZ =4");
  });

  test("quoted-printable: white space at the end of an encoded line is removed, encoded =20 kept (RFC 2045 §6.7 rule 3)", () => {
    expect(dec.decode(decodeQuotedPrintable(enc.encode("Hello \t \r\nWorld=20\r\nsoft =\r\nbreak\t\nend  ")))).toBe(
      "Hello\r\nWorld \r\nsoft break\nend",
    );
    expect(dec.decode(decodeQuotedPrintable(enc.encode("a b\tc")))).toBe("a b\tc");
  });

  test("identity encodings pass through", () => {
    const bytes = enc.encode("=C3 SGk=");
    for (const e of ["7bit", "8bit", "binary", "x-unknown"]) expect(decodeTransfer(bytes, e)).toBe(bytes);
    expect(dec.decode(decodeTransfer(bytes, "BASE64"))).not.toBe("=C3 SGk=");
  });
});
