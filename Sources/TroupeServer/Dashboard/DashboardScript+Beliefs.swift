extension DashboardScript {
    /// Beliefs over time: a persona's records of one slice (semantic by default) with every
    /// version's validity, a page at a time; an "as of" slider over the moments something
    /// changed, showing what was believed then; and a diff between two moments.
    static let beliefs = #"""
        T.views.beliefs = async (main, persona) => {
          const state = { persona, slice: "semantic", shared: null, facts: [], next: null, moments: [], asOf: 0, a: 0, b: 0 };
          const shared = (T.personas.find((p) => p.name === persona) || {}).shared || [];
          const sliceSelect = T.el("select", { id: "slice", onchange: (e) => {
              const value = e.target.value;
              [state.slice, state.shared] = value.startsWith("shared:") ? [state.slice, value.slice(7)] : [value, null];
              reload();
            } },
            ["semantic", "episodic", "procedural", "working"].map((s) => T.el("option", { value: s }, s)),
            shared.map((name) => T.el("option", { value: "shared:" + name }, "shared: " + name)));
          const more = T.el("button", { id: "more", type: "button", onclick: () => load() }, "Load more");
          const counter = T.el("span", { class: "muted", id: "loaded" });
          const body = T.el("div", { id: "beliefs-body" });
          const load = async () => {
            const query = (state.shared ? "?shared=" + encodeURIComponent(state.shared) : "?slice=" + state.slice) + "&limit=100"
              + (state.next ? "&after=" + encodeURIComponent(state.next) : "");
            const page = await T.api("/v1/personas/" + encodeURIComponent(state.persona) + "/beliefs" + query);
            state.facts = state.facts.concat(page.facts);
            state.next = page.next;
            more.hidden = !page.next;
            counter.textContent = T.number(state.facts.length) + " records loaded" + (page.next ? " (more to load)" : " (all)");
            T.beliefMoments(state);
            T.drawBeliefs(body, state);
          };
          const reload = async () => { state.facts = []; state.next = null; try { await load(); } catch (e) { T.fail(e); } };
          T.put(main, T.el("h2", {}, "Beliefs over time"),
            T.el("div", { class: "controls" }, "persona", T.personaSelect(persona, (p) => { location.hash = "beliefs/" + encodeURIComponent(p); }),
              "slice", sliceSelect, counter, more),
            body);
          await load();
        };

        T.ms = (iso) => iso ? Date.parse(iso) : Infinity;
        // The moments something changed (a version began or ended), oldest first, then "now".
        T.beliefMoments = (state) => {
          const times = new Set();
          for (const f of state.facts) for (const v of f.versions) { times.add(T.ms(v.valid_from)); if (v.valid_to) times.add(T.ms(v.valid_to)); }
          state.moments = [...times].sort((x, y) => x - y).concat([Infinity]);
          state.asOf = state.moments.length - 1;
          state.a = 0;
          state.b = state.moments.length - 1;
        };
        // The version of a fact believed at time t, if any.
        T.believedAt = (fact, t) => fact.versions.find((v) => T.ms(v.valid_from) <= t && (!v.valid_to || t < T.ms(v.valid_to))) || null;
        T.momentText = (t) => t === Infinity ? "now" : T.time(new Date(t).toISOString());
        T.byID = (state) => new Map(state.facts.map((f) => [f.id, f]));

        T.drawBeliefs = (body, state) => {
          const last = state.moments.length - 1;
          const slider = (id, key, label) => T.el("label", {}, label + " ",
            T.el("input", { id, type: "range", min: 0, max: last, step: 1, value: state[key],
              oninput: (e) => { state[key] = Number(e.target.value); T.drawMoments(body, state); } }));
          T.put(body,
            T.el("div", { class: "controls" }, slider("asof", "asOf", "as of"), T.el("b", { id: "asof-label" })),
            T.el("div", { class: "timeline", id: "timeline" }),
            T.el("div", { class: "split" },
              T.el("section", {}, T.el("h3", {}, "Believed then"), T.el("ul", { class: "plain", id: "believed" })),
              T.el("section", {}, T.el("h3", {}, "Diff between two moments"),
                T.el("div", { class: "controls" }, slider("diff-a", "a", "from"), T.el("span", { id: "diff-a-label" })),
                T.el("div", { class: "controls" }, slider("diff-b", "b", "to"), T.el("span", { id: "diff-b-label" })),
                T.el("ul", { class: "plain", id: "diff" }))));
          T.drawTimeline(body.querySelector("#timeline"), state);
          T.drawMoments(body, state);
        };

        // What depends on the sliders: the believed list, the diff, the line on the timeline.
        T.drawMoments = (body, state) => {
          const t = state.moments[state.asOf], byID = T.byID(state);
          body.querySelector("#asof-label").textContent = T.momentText(t);
          T.put(body.querySelector("#believed"), ...state.facts.map((f) => {
            const v = T.believedAt(f, t);
            if (!v) return null;
            const earlier = f.versions.filter((x) => x.version < v.version);
            const disputes = v.metadata && v.metadata.disputes ? byID.get(v.metadata.disputes) : null;
            return T.el("li", { class: "belief", "data-id": v.id, "data-version": v.version },
              T.el("div", {}, v.content),
              T.el("div", { class: "muted" }, "v" + v.version + " since " + T.time(v.valid_from) + ", said by " + T.said(v)),
              earlier.map((x) => T.el("div", { class: "muted" }, T.el("span", { class: "tag superseded" }, "superseded"),
                x.content + " (said by " + T.said(x) + ", until " + T.time(x.valid_to) + ")")),
              disputes ? T.el("div", {}, T.el("span", { class: "tag disputed" }, "disputes"), disputes.versions[disputes.versions.length - 1].content) : null,
              (f.lost || []).map((l) => T.el("div", {}, T.el("span", { class: "tag conflict-resolved" }, "lost a conflict"),
                l.content + " (written by " + l.writer + " on version " + l.base_version + ", " + l.outcome + ", " + T.time(l.written_at) + ")")),
              (f.links || []).map((k) => {
                const other = byID.get(k.id);
                return T.el("div", {}, T.el("span", { class: "tag" }, "kept beside"), other ? other.versions[other.versions.length - 1].content : k.id);
              }),
              f.disputed_by.map((id) => {
                const claim = byID.get(id), c = claim ? claim.versions[claim.versions.length - 1] : null;
                return T.el("div", {}, T.el("span", { class: "tag disputed" }, "disputed by"), c ? c.content + " (said by " + T.said(c) + ")" : id);
              }));
          }).filter(Boolean));
          if (!body.querySelector("#believed").children.length) body.querySelector("#believed").appendChild(T.el("li", { class: "muted" }, "Nothing believed then."));
          const line = body.querySelector("#asof-line");
          if (line) { const x = T.timelineX(state, t); line.setAttribute("x1", x); line.setAttribute("x2", x); }
          T.drawDiff(body, state);
        };

        T.drawDiff = (body, state) => {
          const ta = state.moments[state.a], tb = state.moments[state.b];
          body.querySelector("#diff-a-label").textContent = T.momentText(ta);
          body.querySelector("#diff-b-label").textContent = T.momentText(tb);
          const lines = [];
          for (const f of state.facts) {
            const va = T.believedAt(f, ta), vb = T.believedAt(f, tb);
            if (va && vb && va.version === vb.version) continue;
            if (!va && vb) lines.push(T.el("li", { class: "diff-added" }, "+ " + vb.content));
            else if (va && !vb) lines.push(T.el("li", { class: "diff-removed" }, "− " + va.content));
            else if (va && vb) lines.push(T.el("li", { class: "diff-changed" }, "~ " + va.content + " → " + vb.content + " (" + T.said(vb) + ")"));
          }
          T.put(body.querySelector("#diff"), ...(lines.length ? lines : [T.el("li", { class: "muted" }, "No change between these moments.")]));
        };
        """#

    /// The timeline: a row per record, a bar per version from valid_from to valid_to.
    static let beliefsDrawing = #"""
        T.timelineGeometry = { label: 300, width: 1100, row: 20, top: 24 };
        T.timelineX = (state, t) => {
          const g = T.timelineGeometry, finite = state.moments.filter((m) => m !== Infinity);
          const start = finite.length ? finite[0] : Date.now(), end = Math.max(Date.now(), finite.length ? finite[finite.length - 1] : 0);
          const span = Math.max(1, end - start);
          const at = t === Infinity ? end : Math.min(Math.max(t, start), end);
          return g.label + (g.width - g.label - 10) * (at - start) / span;
        };

        T.drawTimeline = (box, state) => {
          const g = T.timelineGeometry, facts = state.facts.slice(0, 300);
          const height = g.top + facts.length * g.row + 10;
          const svg = T.el("svg:svg", { width: g.width, height, viewBox: "0 0 " + g.width + " " + height, role: "img", "aria-label": "validity of each version" });
          svg.appendChild(T.el("svg:text", { x: 4, y: 14 }, "record (current value)"));
          svg.appendChild(T.el("svg:text", { x: g.label, y: 14 }, T.momentText(state.moments[0] === undefined ? Infinity : state.moments[0])));
          svg.appendChild(T.el("svg:text", { x: g.width - 40, y: 14 }, "now"));
          facts.forEach((f, i) => {
            const y = g.top + i * g.row, current = f.versions[f.versions.length - 1];
            const claim = (current.tags || []).includes("disputed");
            svg.appendChild(T.el("svg:text", { x: 4, y: y + 13 }, T.short(current.content, 44)));
            for (const v of f.versions) {
              const x1 = T.timelineX(state, T.ms(v.valid_from)), x2 = T.timelineX(state, T.ms(v.valid_to));
              const fill = claim ? "var(--warn)" : v.valid_to ? "var(--old)" : "var(--ok)";
              svg.appendChild(T.el("svg:rect", { x: x1, y: y + 3, width: Math.max(2, x2 - x1), height: g.row - 6, rx: 2, fill, "data-id": v.id, "data-version": v.version },
                T.el("svg:title", {}, "v" + v.version + ": " + v.content + "\n" + T.time(v.valid_from) + " – " + T.time(v.valid_to) + "\nsaid by " + T.said(v))));
            }
          });
          const x = T.timelineX(state, state.moments[state.asOf]);
          svg.appendChild(T.el("svg:line", { id: "asof-line", x1: x, x2: x, y1: g.top - 4, y2: height, stroke: "var(--accent)", "stroke-width": 2 }));
          box.replaceChildren(svg);
          if (state.facts.length > facts.length) box.appendChild(T.el("p", { class: "muted" }, "The timeline draws the first 300 loaded records; the lists use all."));
        };
        """#
}
