/**
 * Owners of leases and locks in a shared database (queue claims, POP3 maildrop locks) are named
 * `host:pid:random` (`Store.instanceId`). A process on the same host can tell whether the process
 * behind such a name is gone, so a restarted server takes back at once what its previous run held
 * instead of waiting for the lease to lapse.
 */
import { hostname } from "node:os";

/** True when `owner` names a process on this host that no longer runs. */
export function ownerIsGone(owner: string): boolean {
  const [host, pid] = owner.split("#")[0]!.split(":");
  if (host !== hostname() || !pid || !/^\d+$/.test(pid) || Number(pid) === process.pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (e) {
    // EPERM: it runs, as another user.
    return (e as { code?: unknown }).code === "ESRCH";
  }
}
