extension DashboardScript {
    /// Live: memory events as the server sends them (`/v1/events`, read with fetch so that the
    /// key goes in a header, as EventSource cannot), each with the memory's text read after it;
    /// and a session run's turns as its log is written.
    static let live = #"""
        T.views.live = async (main) => {
          const controller = new AbortController();
          T.leave = () => controller.abort();
          T.following = null;
          const events = T.el("ul", { class: "plain events", id: "events" });
          const state = T.el("span", { class: "muted", id: "stream-state" }, "connecting…");
          const transcript = T.el("div", { id: "transcript" });
          const runs = await T.api("/v1/sessions").catch(() => null);
          const picker = runs === null ? T.el("span", { class: "muted" }, "Session runs are for admin and operator keys.")
            : T.el("select", { id: "session", onchange: (e) => T.followSession(transcript, e.target.value, controller.signal) },
                T.el("option", { value: "" }, runs.length ? "choose a run…" : "no runs yet"),
                runs.map((r) => T.el("option", { value: r.name }, r.name + (r.ended ? "" : " (running)"))));
          T.put(main, T.el("h2", {}, "Live"),
            T.el("div", { class: "split" },
              T.el("section", {}, T.el("h3", {}, "Memory events ", state), events),
              T.el("section", {}, T.el("h3", {}, "Session transcript"), T.el("div", { class: "controls" }, picker), transcript)));
          T.streamEvents(events, state, controller.signal);
          if (runs !== null) T.watchRuns(picker, transcript, runs, controller.signal);
        };

        // Lists the runs again every few seconds; a run that starts is followed, unless one that
        // has not ended is followed already.
        T.watchRuns = async (picker, transcript, runs, signal) => {
          while (!signal.aborted) {
            const running = runs.find((r) => !r.ended);
            const followed = T.following && T.following.name;
            if (running && running.name !== followed && !(T.following && !T.following.ended)) {
              picker.value = running.name;
              T.followSession(transcript, running.name, signal);
            }
            await new Promise((resolve) => setTimeout(resolve, 3000));
            if (signal.aborted) return;
            const fresh = await T.api("/v1/sessions", { signal }).catch(() => null);
            if (!fresh) continue;
            runs = fresh;
            const chosen = picker.value;
            T.put(picker, T.el("option", { value: "" }, runs.length ? "choose a run…" : "no runs yet"),
              runs.map((r) => T.el("option", { value: r.name }, r.name + (r.ended ? "" : " (running)"))));
            picker.value = chosen;
          }
        };

        // Server-sent events over fetch: frames split on a blank line, `event:` and `data:` fields.
        T.streamEvents = async (list, state, signal) => {
          try {
            const response = await fetch("/v1/events", { headers: T.headers({ Accept: "text/event-stream" }), signal });
            if (!response.ok) { state.textContent = "refused (" + response.status + ")"; return; }  // a key's refusal stands
            const reader = response.body.getReader(), decoder = new TextDecoder();
            let buffer = "";
            for (;;) {
              const { value, done } = await reader.read();
              if (done) break;
              buffer += decoder.decode(value, { stream: true });
              let end;
              while ((end = buffer.indexOf("\n\n")) >= 0) {
                const frame = buffer.slice(0, end);
                buffer = buffer.slice(end + 2);
                if (frame.startsWith(": subscribed")) { state.textContent = "subscribed"; list.dataset.subscribed = "true"; }
                let kind = null, data = "";
                for (const line of frame.split("\n")) {
                  if (line.startsWith("event: ")) kind = line.slice(7);
                  else if (line.startsWith("data: ")) data += line.slice(6);
                }
                if (kind && data) T.showEvent(list, kind, JSON.parse(data));
              }
            }
            state.textContent = "ended; reconnecting…";
          } catch (error) {
            if (signal.aborted) return;
            state.textContent = "lost (" + error.message + "); reconnecting…";
          }
          // The server restarted or the network dropped: subscribe again (events meanwhile are
          // not replayed; the other views read the records themselves).
          delete list.dataset.subscribed;
          await new Promise((resolve) => setTimeout(resolve, 3000));
          if (!signal.aborted) T.streamEvents(list, state, signal);
        };

        T.showEvent = async (list, kind, e) => {
          const text = T.el("div", { class: "content" });
          const item = T.el("li", { class: "event", "data-kind": kind, "data-id": e.id },
            T.el("div", {}, T.el("span", { class: "tag " + kind }, kind), T.time(e.at), " · ", e.owner + "/" + e.slice, " · ", e.id, " v" + e.version,
              e.detail ? T.el("span", { class: "muted" }, " (" + e.detail + ")") : null),
            text);
          list.prepend(item);
          while (list.children.length > 500) list.lastChild.remove();
          if (kind === "forgotten") return;
          // Events carry no content: read the memory as its owner, when the owner is a persona this key may act as.
          if (!T.personas.some((p) => p.name === e.owner)) return;
          try {
            const record = await T.api("/v1/personas/" + encodeURIComponent(e.owner) + "/memories/" + encodeURIComponent(e.id));
            text.textContent = T.short(record.content, 300);
            text.title = record.content;
          } catch (error) { text.textContent = "(" + error.message + ")"; }
        };

        // A run's turns, read again after the ones seen while the run goes on.
        T.followSession = async (box, name, signal) => {
          box.replaceChildren();
          if (!name) return;
          const token = (T.following = { name, ended: false });
          let seen = 0;
          while (!signal.aborted && T.following === token) {
            let page;
            try { page = await T.api("/v1/sessions/" + encodeURIComponent(name) + "/turns?after=" + seen, { signal }); }
            catch (error) { if (!signal.aborted) T.fail(error); return; }
            for (const turn of page.turns) {
              box.appendChild(T.el("div", { class: "turn session-turn" }, T.el("div", { class: "muted" }, "round " + turn.round), T.turnView(turn)));
            }
            seen += page.turns.length;
            box.dataset.turns = seen;
            if (page.ended) {
              token.ended = true;
              box.appendChild(T.el("p", { class: "muted", id: "session-ended" }, "The run ended."));
              return;
            }
            await new Promise((resolve) => setTimeout(resolve, 1000));
          }
        };
        """#
}
