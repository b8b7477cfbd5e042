// riskshare console: the overview's chart (uPlot) and the verify page's progress. No framework,
// no network access beyond this console's own origin.
"use strict";

function dailyChart() {
  const holder = document.getElementById("daily-chart");
  const source = document.getElementById("daily-data");
  if (!holder || !source || typeof uPlot === "undefined") return;
  const data = JSON.parse(source.textContent);
  if (data.days.length === 0) {
    holder.textContent = "no records in this range";
    return;
  }
  const width = Math.max(600, holder.clientWidth - 20);
  const series = (label, stroke, scale) => ({ label, stroke, width: 2, scale, points: { show: data.days.length < 60, size: 8 } });
  new uPlot({
    width, height: 300,
    // Half a day of margin on each side (a single day would otherwise stretch the time axis over years).
    scales: { x: { time: true, auto: false, range: [data.days[0] - 43200, data.days[data.days.length - 1] + 43200] }, requests: {}, items: {} },
    series: [{}, series("requests made", "#2b5fb4", "requests"), series("answered", "#2e9e5b", "requests"), series("refused", "#c4452d", "requests"), series("items evaluated", "#8a6d00", "items")],
    axes: [{}, { scale: "requests", label: "requests" }, { scale: "items", side: 1, label: "items", grid: { show: false } }],
  }, [data.days, data.made, data.answered, data.refused, data.items], holder);
}

function describe(state) {
  switch (state.state) {
    case "idle": return "not run since the console started";
    case "reading": return `reading the ledger: block ${state.blocksRead ?? 0} of ${(state.headBlock ?? 0) + 1}, ${state.records ?? 0} records`;
    case "checking": return `checking ${state.records ?? 0} records in ${state.batches ?? 0} batches`;
    case "done": return (state.failures ?? []).length === 0
      ? `ledger verified: ${state.records} records in ${state.batches} batches`
      : `ledger verification FAILED: ${state.failures.length} problem(s) in ${state.records} records`;
    case "failed": return `verification stopped: ${state.error?.code} ${state.error?.message}`;
    default: return state.state;
  }
}

function verifyPage() {
  const button = document.getElementById("verify-run");
  if (!button) return;
  const progress = document.getElementById("verify-progress");
  const label = document.getElementById("verify-state");
  const show = (state) => {
    label.textContent = describe(state);
    label.dataset.state = state.state;
    const total = (state.headBlock ?? 0) + 1;
    progress.value = state.state === "done" ? 1 : state.state === "reading" ? (state.blocksRead ?? 0) / total : state.state === "checking" ? 0.99 : 0;
  };
  const poll = async () => {
    const state = await (await fetch("/api/verify", { headers: { accept: "application/json" } })).json();
    show(state);
    if (state.state === "reading" || state.state === "checking") setTimeout(poll, 300);
    else if (state.state === "done" || state.state === "failed") {
      // The tables are rendered by the server: load them again.
      const page = await (await fetch("/verify", { headers: { accept: "text/html" } })).text();
      const fresh = new DOMParser().parseFromString(page, "text/html").getElementById("verify-tables");
      if (fresh) document.getElementById("verify-tables").replaceWith(fresh);
      button.disabled = false;
    }
  };
  button.addEventListener("click", async () => {
    button.disabled = true;
    show(await (await fetch("/api/verify", { method: "POST", headers: { accept: "application/json" } })).json());
    poll();
  });
}

dailyChart();
verifyPage();
