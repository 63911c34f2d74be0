import net from "node:net";

/** A TCP port nothing listens on right now (the OS picks it; another process could still take it first). */
export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", resolve);
  });
  const address = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return address.port;
}
