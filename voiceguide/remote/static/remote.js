// The Now page refreshes what is playing every few seconds while it is visible (GET only; no sound, ever).
"use strict";
(function () {
  const card = document.getElementById("now");
  if (!card) return;
  const text = (id, value) => { const el = document.getElementById(id); if (el) el.textContent = value; };
  async function refresh() {
    if (document.hidden) return;
    try {
      const r = await fetch("/api/status", { credentials: "same-origin", cache: "no-store" });
      if (!r.ok) return;
      const s = await r.json();
      card.dataset.state = s.state || "unknown";
      text("np-state", s.state || "");
      text("np-session", s.title || s.session || "Nothing is playing");
      text("np-step", s.step ? `step ${s.step} of ${s.steps}` : "");
      const left = (s.seconds && s.position != null) ? `${((s.seconds - s.position) / 60).toFixed(1)} min left` : "";
      text("np-left", left);
      if (s.volume != null) text("np-volume", `${Math.round(s.volume * 100)} %`);
    } catch (e) { /* the daemon may be restarting: try again later */ }
  }
  setInterval(refresh, 3000);
})();
