import { ago, clock, esc } from "../format";
import { t } from "../i18n";
import type { State } from "../state";

/** The sync indicator at the top of every screen. */
export function renderStatus(s: State, nowMs: number): string {
  const v = s.view;
  if (!v) return "";
  const l = s.lang;
  const sync = v.sync;
  const who = v.identity
    ? `<span class="where">${esc(v.identity.store_name)} · ${esc(v.identity.register)}</span>`
    : "";
  const cashier = v.cashier ? `<span class="who">${t("cashier", l)} ${esc(v.cashier.name)}</span>` : "";
  const oldest =
    sync.oldest_pending_ms !== null ? ` · ${t("oldest", l)} ${ago(sync.oldest_pending_ms, nowMs, l)}` : "";
  const last = ` · ${t("lastSync", l)} ${sync.last_sync_ms !== null ? clock(sync.last_sync_ms) : t("never", l)}`;
  const rejected = sync.rejected.length
    ? `<details class="rejected" data-testid="rejected"><summary>${sync.rejected.length} ${t("rejected", l)}</summary><ul>${sync.rejected
        .map((r) => `<li>#${r.seq} ${esc(r.kind)}: ${esc(r.reason)}</li>`)
        .join("")}</ul></details>`
    : "";
  return `<span id="sync-state" class="sync ${sync.online ? "online" : "offline"}" data-online="${sync.online}">
      ● ${t(sync.online ? "online" : "offline", l)}</span>
    <span class="pending">
      <b id="pending-count" data-pending="${sync.pending}">${sync.pending}</b> ${t("pending", l)}${oldest}${last}
    </span>
    ${rejected}${who}${cashier}`;
}
