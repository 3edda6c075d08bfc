extension DashboardScript {
    /// Personas: each one's slices and counts, and what it recalled and wrote in its last turns.
    static let personas = #"""
        T.views.personas = async (main) => {
          const cards = T.el("div", { class: "cards" });
          T.put(main, T.el("h2", {}, "Personas"), cards);
          // A card per persona in name order, each filled as its reads come.
          await Promise.all(T.personas.map(async (p) => {
            const card = cards.appendChild(T.el("section", { class: "card persona", "data-persona": p.name }, T.el("h3", {}, p.name)));
            const [counts, turns] = await Promise.all([
              T.api("/v1/personas/" + encodeURIComponent(p.name) + "/counts"),
              T.api("/v1/personas/" + encodeURIComponent(p.name) + "/turns?limit=3"),
            ]);
            const total = counts.filter((c) => c.owner === p.name).reduce((sum, c) => sum + c.count, 0);
            T.put(card,
              T.el("h3", {}, p.display_name || p.name, " ", T.el("span", { class: "muted" }, p.role)),
              T.el("p", { class: "muted" }, p.description || ""),
              T.el("table", {},
                T.el("tr", {}, T.el("th", {}, "owner"), T.el("th", {}, "slice"), T.el("th", { class: "num" }, "memories")),
                counts.map((c) => T.el("tr", {}, T.el("td", {}, c.owner), T.el("td", {}, c.slice), T.el("td", { class: "num" }, T.number(c.count)))),
                T.el("tr", {}, T.el("th", { colspan: 2 }, "own total"), T.el("th", { class: "num" }, T.number(total)))),
              T.el("p", {}, T.el("a", { href: "#beliefs/" + encodeURIComponent(p.name) }, "beliefs"), " · ",
                T.el("a", { href: "#recall/" + encodeURIComponent(p.name) }, "recall")),
              T.el("h3", {}, "Last turns"),
              turns.length === 0 ? T.el("p", { class: "muted" }, "No turns yet.") : turns.map(T.turnView));
          }));
        };

        // One turn: who said what, the reply, what it recalled (with scores) and what it wrote.
        T.turnView = (t) => T.el("div", { class: "turn" },
          t.source ? T.el("div", { class: "muted" }, t.source) : null,
          T.el("div", {}, T.el("b", {}, t.speaker), " → ", T.el("b", {}, t.persona), ": ", T.short(t.message || "", 400)),
          T.el("div", {}, T.el("i", {}, T.short(t.reply || "", 400))),
          T.el("div", { class: "muted" }, "recalled:"),
          T.el("ul", {}, (t.recalled || []).slice(0, 5).map((h) => T.el("li", {}, T.el("span", { class: "tag" }, Number(h.score).toFixed(3)), T.short(h.content, 140)))),
          T.el("div", { class: "muted" }, "wrote:"),
          T.el("ul", {}, (t.written || []).map((w) => T.el("li", {}, T.el("span", { class: "tag " + w.what }, w.what), T.short(w.content, 140)))));
        """#

    /// Recall explained: a query as a persona, the ranked memories, each component as a bar.
    static let recall = #"""
        T.componentColors = { semantic: "#3559c7", lexical: "#2f8f5b", recency: "#c9822b", importance: "#8a4fc2", context: "#1f9bb0", date: "#c23b3b" };
        T.views.recall = async (main, persona) => {
          const results = T.el("div", { id: "results" });
          const query = T.el("input", { id: "query", type: "search", placeholder: "What to recall", size: 50 });
          const limit = T.el("input", { id: "limit", type: "number", min: 1, max: 100, value: 10, style: "width:5em" });
          let chosen = persona;
          const run = async (event) => {
            if (event) event.preventDefault();
            if (!query.value.trim()) return;
            T.status("");
            try {
              const hits = await T.api("/v1/personas/" + encodeURIComponent(chosen) + "/recall",
                                       { method: "POST", body: { query: query.value, limit: Number(limit.value) || 10, why: true } });
              T.drawRecall(results, hits);
            } catch (error) { T.fail(error); }
          };
          T.put(main, T.el("h2", {}, "Recall explained"),
            T.el("form", { class: "controls", onsubmit: run }, "as", T.personaSelect(persona, (p) => { chosen = p; }), query, "limit", limit,
              T.el("button", { type: "submit" }, "Recall")),
            results);
        };

        T.drawRecall = (results, hits) => {
          const names = [...new Set(hits.flatMap((h) => Object.keys(h.components || {})))].sort();
          const top = Math.max(1e-9, ...hits.map((h) => Object.values(h.components || {}).reduce((s, c) => s + Math.max(0, c.contribution), 0)));
          T.put(results,
            T.el("p", { class: "legend" }, names.map((n) => T.el("span", {}, T.el("i", { style: "background:" + (T.componentColors[n] || "#777") }), n))),
            hits.length === 0 ? T.el("p", { class: "muted" }, "Nothing recalled.") : null,
            T.el("ol", {}, hits.map((h) => T.el("li", { class: "hit", "data-id": h.id },
              T.el("div", {}, T.el("b", {}, Number(h.score).toFixed(4)), " ", T.el("span", { class: "tag" }, h.slice), T.short(h.content, 300),
                h.disputes ? T.el("span", { class: "tag disputed" }, "disputes " + h.disputes) : null),
              T.el("div", { class: "bar", title: "each component's contribution to the score" },
                names.map((n) => {
                  const c = (h.components || {})[n];
                  const width = c ? Math.max(0, c.contribution) / top * 100 : 0;
                  return T.el("span", { class: "component", "data-component": n, style: "width:" + width + "%;background:" + (T.componentColors[n] || "#777"),
                                        title: n + " " + (c ? c.contribution.toFixed(4) : 0) });
                })),
              Object.entries(h.components || {}).some(([, c]) => c.contribution < 0)
                ? T.el("div", { class: "muted negative" }, "taken off the score: ",
                    Object.entries(h.components).filter(([, c]) => c.contribution < 0).map(([n, c]) => n + " " + c.contribution.toFixed(4)).join(", "))
                : null,
              T.el("details", {}, T.el("summary", { class: "muted" }, "components"), T.el("table", { class: "components" },
                T.el("tr", {}, ["component", "value", "× weight", "= contribution", "raw"].map((x) => T.el("th", {}, x))),
                names.filter((n) => (h.components || {})[n]).map((n) => {
                  const c = h.components[n];
                  return T.el("tr", {}, T.el("td", {}, n), T.el("td", { class: "num" }, c.value.toFixed(4)), T.el("td", { class: "num" }, c.weight.toFixed(3)),
                    T.el("td", { class: "num" }, c.contribution.toFixed(4)), T.el("td", { class: "num" }, c.raw.toFixed(4) + (c.from ? " (" + c.from + ")" : "")));
                })))))));
        };
        """#

    /// Health: the store, the hot tier, the model, the mirror, and the latency histograms of
    /// the metrics Prometheus scrapes (`/metrics`, read and drawn here).
    static let health = #"""
        T.views.health = async (main) => {
          const ready = await T.api("/readyz").catch((e) => ({ status: "failing", store: String(e.message) }));
          const stats = await T.api("/v1/stats").catch(() => null);
          const metrics = await T.api("/metrics").then(T.parseMetrics).catch(() => null);
          const figure = (label, value, id) => T.el("div", { class: "card", id }, T.el("div", { class: "muted" }, label), T.el("div", { class: "figure" }, value));
          const hits = stats && stats.hot_tier ? stats.hot_tier.cache_hits : null, misses = stats && stats.hot_tier ? stats.hot_tier.cache_misses : null;
          const rate = hits !== null && hits + misses > 0 ? (100 * hits / (hits + misses)).toFixed(1) + "% of " + T.number(hits + misses) : "no lookups";
          const lag = metrics ? metrics.samples.filter((s) => s.name === "troupe_mirror_lag_seconds") : [];
          T.put(main, T.el("h2", {}, "Health"),
            T.el("div", { class: "cards" },
              figure("status", ready.status, "health-status"),
              figure("store", ready.store + (stats && stats.bytes_on_disk ? " · " + (stats.bytes_on_disk / 1048576).toFixed(1) + " MiB" : ""), "health-store"),
              figure("memories", stats ? T.number(stats.records) + " current · " + T.number(stats.superseded_versions) + " superseded" : "operators only", "health-memories"),
              figure("hot tier", ready.hot_tier + (stats && stats.hot_tier ? " · hit rate " + rate : ""), "health-hot-tier"),
              figure("model backend", ready.model || "?", "health-model"),
              figure("mirror lag", lag.length ? lag.map((s) => (s.labels.mirror || "") + " " + s.value.toFixed(1) + " s").join(", ") : "no mirror", "health-mirror")),
            T.el("h3", {}, "Latency (from /metrics)"),
            metrics ? T.latency(metrics) : T.el("p", { class: "muted" }, "The metrics are for admin and operator keys."));
        };

        // The HTTP histograms summed over routes, the library's own, and a line per route.
        T.latency = (metrics) => {
          const all = T.histograms(metrics), http = all.filter((h) => h.name === "http_server_request_duration");
          const sum = http.length ? { key: "HTTP requests, every route", name: "", labels: {}, total: http.reduce((s, h) => s + h.total, 0),
            buckets: http[0].buckets.map((b, i) => ({ le: b.le, count: http.reduce((s, h) => s + h.buckets[i].count, 0) })) } : null;
          const quantile = (h, q) => { let seen = 0; for (const b of h.buckets) { seen += b.count; if (seen >= q * h.total) return b.le; } return "+Inf"; };
          return T.el("div", {},
            T.el("div", { class: "cards" }, [sum].concat(all.filter((h) => h.name !== "http_server_request_duration")).filter(Boolean).map(T.drawHistogram)),
            T.el("h3", {}, "By route"),
            T.el("table", { id: "routes" }, T.el("tr", {}, ["route", "method", "status", "requests", "p50 ≤", "p95 ≤"].map((x) => T.el("th", {}, x))),
              http.sort((a, b) => b.total - a.total).map((h) => T.el("tr", {}, T.el("td", {}, h.labels.http_route), T.el("td", {}, h.labels.http_request_method),
                T.el("td", {}, h.labels.http_response_status_code), T.el("td", { class: "num" }, T.number(h.total)),
                T.el("td", { class: "num" }, T.seconds(quantile(h, 0.5))), T.el("td", { class: "num" }, T.seconds(quantile(h, 0.95)))))));
        };
        T.seconds = (le) => le === "+Inf" ? "∞" : Number(le) < 1 ? Number((Number(le) * 1000).toPrecision(3)) + " ms" : Number(le) + " s";

        // Prometheus text: samples {name, labels, value}.
        T.parseMetrics = (text) => {
          const samples = [];
          for (const line of text.split("\n")) {
            if (!line || line.startsWith("#")) continue;
            const m = line.match(/^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/);
            if (!m) continue;
            const labels = {};
            for (const l of (m[2] || "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
            samples.push({ name: m[1], labels, value: Number(m[3]) });
          }
          return { samples };
        };

        // Each histogram series (name and labels but `le`), its buckets made per-bucket from cumulative.
        T.histograms = (metrics) => {
          const series = new Map();
          for (const s of metrics.samples.filter((s) => s.name.endsWith("_bucket"))) {
            const labels = Object.entries(s.labels).filter(([k]) => k !== "le").map(([k, v]) => k + "=" + v).join(", ");
            const key = s.name.slice(0, -7) + (labels ? " {" + labels + "}" : "");
            if (!series.has(key)) series.set(key, { name: s.name.slice(0, -7), labels: s.labels, buckets: [] });
            series.get(key).buckets.push({ le: s.labels.le, count: s.value });
          }
          return [...series.entries()].map(([key, { name, labels, buckets }]) => {
            buckets.sort((a, b) => (a.le === "+Inf" ? Infinity : Number(a.le)) - (b.le === "+Inf" ? Infinity : Number(b.le)));
            const counts = buckets.map((b, i) => b.count - (i ? buckets[i - 1].count : 0));
            return { key, name, labels, buckets: buckets.map((b, i) => ({ le: b.le, count: counts[i] })), total: buckets.length ? buckets[buckets.length - 1].count : 0 };
          }).filter((h) => h.total > 0).sort((a, b) => a.key.localeCompare(b.key));
        };

        T.drawHistogram = (h) => {
          const top = Math.max(1, ...h.buckets.map((b) => b.count));
          return T.el("div", { class: "card histogram" }, T.el("h3", {}, h.key), T.el("div", { class: "muted" }, T.number(h.total) + " observations"),
            T.el("div", { class: "hist" }, h.buckets.map((b) => T.el("div", { style: "height:" + (100 * b.count / top) + "%", title: "≤ " + b.le + " s: " + b.count }))),
            T.el("div", { class: "hist-labels" }, h.buckets.map((b, i) => T.el("span", {}, i % 3 !== 0 ? "" : T.timed(h) ? T.seconds(b.le) : b.le === "+Inf" ? "∞" : b.le))));
        };
        // Whether a histogram counts time (its buckets are seconds) rather than some other figure.
        T.timed = (h) => /_seconds$|_duration$/.test(h.name || "") || !h.name;
        """#
}
