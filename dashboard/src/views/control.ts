// The live-change control of a running test's page: change the rate (open
// models) or the connections per worker (closed models) and the duration,
// pause and resume (PATCH /tests/{id}, POST /tests/{id}/pause|resume). It is
// built once and updated in place, so what the user is typing survives the
// page's redraw every second.

import { api, ApiError, LiveChange, LoadPatch, TestDetail } from "../api";
import { h, replace } from "../dom";
import * as fmt from "../format";

// describe is one change as a line of the events list and a chart marker.
export function describe(c: LiveChange): string {
  switch (c.kind) {
    case "pause": return "paused";
    case "resume": return "resumed";
    case "rebalance": return `rebalanced over the survivors of ${(c.lost ?? []).join(", ")}`;
  }
  const parts = [
    c.rate ? `rate ${fmt.rps(c.rate)}` : "",
    c.concurrency ? `${c.concurrency} connections per worker` : "",
    c.duration ? `duration ${c.duration}` : "",
  ].filter(Boolean);
  return parts.join(", ") || "load";
}

export class LiveControl {
  readonly el: HTMLElement;
  private readonly amount = h("input", { type: "number", min: "1", step: "any", "data-test": "change-amount", size: 8 });
  private readonly amountLabel = h("span");
  private readonly duration = h("input", { type: "text", placeholder: "e.g. 2m", "data-test": "change-duration", size: 8 });
  private readonly apply = h("button", { class: "primary", "data-test": "change-apply" }, "Apply");
  private readonly pauseBtn = h("button", { "data-test": "pause" }, "Pause");
  private readonly msg = h("span", { class: "muted small", "data-test": "change-msg" });
  private readonly events = h("ul", { class: "events small", "data-test": "events" });
  private open = true;
  private paused = false;

  constructor(private readonly id: string) {
    this.el = h("section", { class: "card live-control", "data-test": "live-control" },
      h("h3", null, "Change the running test"),
      h("div", { class: "control-row" },
        h("label", null, this.amountLabel, " ", this.amount),
        h("label", null, "duration ", this.duration),
        this.apply, this.pauseBtn, this.msg),
      this.events);
    this.apply.addEventListener("click", () => void this.send());
    this.pauseBtn.addEventListener("click", () => void this.togglePause());
  }

  // update shows the test's model, pause state and events.
  update(t: TestDetail): void {
    const model = t.spec?.load?.model ?? "";
    this.open = model === "constant-rate" || model === "ramping-rate";
    this.amountLabel.textContent = this.open ? "total rate (req/s)" : "connections per worker";
    this.amount.disabled = model === "ramping-rate";
    this.paused = !!t.paused;
    this.pauseBtn.textContent = this.paused ? "Resume" : "Pause";
    this.pauseBtn.dataset.test = this.paused ? "resume" : "pause";
    const evs = t.events ?? [];
    if (this.events.childElementCount !== evs.length) {
      replace(this.events, evs.map((c) => h("li", null,
        `second ${c.at}: ${describe(c)}${c.by ? ` (${c.by}, ${fmt.time(new Date(c.time / 1e6).toISOString())})` : ""}`)));
    }
  }

  private async send(): Promise<void> {
    const load: LoadPatch = {};
    const n = Number(this.amount.value);
    if (this.amount.value !== "") {
      if (this.open) load.rate = n;
      else load.concurrency = Math.round(n);
    }
    if (this.duration.value.trim()) load.duration = this.duration.value.trim();
    await this.run(() => api.patch(this.id, load));
  }

  private async togglePause(): Promise<void> {
    await this.run(() => (this.paused ? api.resume(this.id) : api.pause(this.id)));
  }

  private async run(call: () => Promise<{ change?: LiveChange; ask?: string }>): Promise<void> {
    this.apply.disabled = this.pauseBtn.disabled = true;
    this.msg.textContent = "asking the leader…";
    try {
      const r = await call();
      this.msg.textContent = r.change
        ? `${describe(r.change)} from second ${r.change.at}`
        : "asked; the leader applies it when it leads";
    } catch (e) {
      const fields = e instanceof ApiError ? e.fields.map((f) => `${f.field} ${f.problem}`).join("; ") : "";
      this.msg.textContent = `refused: ${fields || (e as Error).message}`;
    } finally {
      this.apply.disabled = this.pauseBtn.disabled = false;
    }
  }
}
