import net from "node:net"; import tls from "node:tls";
import { createSelfSigned, createSecureContext } from "./src/net/certificate.ts";
const pem = await createSelfSigned("localhost");
const ctx = createSecureContext(pem);
const server = net.createServer((sock) => {
  sock.write("220 hi\r\n");
  sock.once("data", (d) => {
    console.log("server got", JSON.stringify(d.toString()));
    sock.write("220 go\r\n", () => {
      const t = new tls.TLSSocket(sock, { isServer: true, secureContext: ctx });
      t.on("secure", () => { console.log("server secure", t.getProtocol(), t.getCipher()?.name); });
      t.on("data", (x) => { console.log("server tls data", JSON.stringify(x.toString())); t.write("250 ok\r\n"); });
      t.on("error", (e) => console.log("server err", e.message));
    });
  });
});
server.listen(0, "127.0.0.1", () => {
  const port = (server.address() as net.AddressInfo).port;
  const c = net.connect(port, "127.0.0.1");
  let step = 0;
  c.on("data", (d) => {
    console.log("client got", JSON.stringify(d.toString()));
    if (step++ === 0) c.write("STARTTLS\r\n");
    else if (step === 2) {
      const t = tls.connect({ socket: c, rejectUnauthorized: false, servername: "localhost" }, () => { console.log("client secure"); t.write("EHLO x\r\n"); });
      t.on("data", (x) => { console.log("client tls got", JSON.stringify(x.toString())); t.end(); server.close(); });
    }
  });
});
