/// The dashboard's script, hand-written JavaScript without a framework: a few hundred lines
/// do what the five views need, and nothing is fetched from elsewhere. Each view is a part of
/// its own (DashboardScript+….swift); this one holds what they share: the key, calls to the
/// API, building elements (text always as text nodes, never as HTML), and the router.
enum DashboardScript {
    static let source = [core, personas, beliefs, beliefsDrawing, live, recall, health, start].joined(separator: "\n")

    static let core = #"""
        "use strict";
        const T = { views: {}, leave: null, me: null, personas: [] };

        // The key: from ?key= once (then taken out of the address), else this tab's sessionStorage.
        T.key = () => sessionStorage.getItem("troupe.key") || "";
        T.takeKeyFromAddress = () => {
          const url = new URL(location.href);
          const key = url.searchParams.get("key");
          if (key) {
            sessionStorage.setItem("troupe.key", key);
            url.searchParams.delete("key");
            history.replaceState(null, "", url.pathname + url.search + url.hash);
          }
        };

        T.headers = (extra) => {
          const headers = Object.assign({}, extra || {});
          if (T.key()) headers["Authorization"] = "Bearer " + T.key();
          return headers;
        };

        // One API call; a failure throws the API's message ("denied: …").
        T.api = async (path, options) => {
          options = options || {};
          const init = { method: options.method || "GET", headers: T.headers(options.body ? { "Content-Type": "application/json" } : {}) };
          if (options.body) init.body = JSON.stringify(options.body);
          if (options.signal) init.signal = options.signal;
          const response = await fetch(path, init);
          const type = response.headers.get("content-type") || "";
          const body = type.includes("json") ? await response.json() : await response.text();
          if (!response.ok) {
            const message = body && body.error ? body.error.code + ": " + body.error.message : response.status + " " + response.statusText;
            const error = new Error(message);
            error.status = response.status;
            throw error;
          }
          return body;
        };

        // An element: el("div", {class: "card"}, "text", child, …); strings become text nodes.
        T.el = (tag, attributes, ...children) => {
          const node = document.createElementNS(tag.startsWith("svg:") ? "http://www.w3.org/2000/svg" : "http://www.w3.org/1999/xhtml",
                                                tag.replace("svg:", ""));
          for (const [name, value] of Object.entries(attributes || {})) {
            if (value === null || value === undefined || value === false) continue;
            if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
            else node.setAttribute(name, value === true ? "" : String(value));
          }
          for (const child of children.flat()) {
            if (child === null || child === undefined || child === false) continue;
            node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
          }
          return node;
        };

        // Replaces a node's children; as T.el, strings become text and null, undefined and false nothing.
        T.put = (node, ...children) => {
          node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false)
            .map((c) => typeof c === "object" ? c : document.createTextNode(String(c))));
        };

        T.status = (text) => { document.getElementById("status").textContent = text || ""; };
        T.fail = (error) => {
          T.status(error.status === 401 ? "This server asks for a key: paste one above." : String(error.message || error));
        };
        T.time = (iso) => iso ? iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "") : "now";
        T.short = (text, n) => text.length > n ? text.slice(0, n - 1) + "…" : text;
        T.number = (x) => Number(x).toLocaleString("en");
        T.said = (record) => record.provenance ? record.provenance.said_by + " (" + record.provenance.by + ", " + record.provenance.method + ")" : record.source;

        // A persona picker, for the views that act as one.
        T.personaSelect = (current, onchange) => T.el("select", { id: "persona", onchange: (e) => onchange(e.target.value) },
          T.personas.map((p) => T.el("option", { value: p.name, selected: p.name === current }, p.name)));

        // Views are named by the address's hash: #view/argument.
        T.route = async () => {
          const [name, argument] = (location.hash.slice(1) || "personas").split("/");
          const view = T.views[name] ? name : "personas";
          if (T.leave) { T.leave(); T.leave = null; }
          for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.view === view);
          const main = document.getElementById("view");
          if (!T.me) {
            T.put(main, T.el("p", { class: "muted" }, "No data without a key this server accepts."));
            main.dataset.ready = view;
            return;
          }
          T.put(main, T.el("p", { class: "muted" }, "Loading…"));
          T.status("");
          try {
            await T.views[view](main, argument ? decodeURIComponent(argument) : (T.personas[0] || {}).name);
          } catch (error) {
            T.fail(error);
            main.replaceChildren();
          }
          main.dataset.ready = view;
        };

        T.signIn = async () => {
          try {
            T.me = await T.api("/v1/whoami");
            T.personas = await T.api("/v1/personas");
            document.getElementById("whoami").textContent = T.me.id + " (" + T.me.role + ")";
          } catch (error) {
            T.me = null;
            T.personas = [];
            document.getElementById("whoami").textContent = "";
            T.fail(error);
          }
        };
        """#

    static let start = #"""
        document.getElementById("keyform").addEventListener("submit", async (event) => {
          event.preventDefault();
          const field = document.getElementById("key");
          if (field.value) sessionStorage.setItem("troupe.key", field.value.trim());
          field.value = "";
          await T.signIn();
          await T.route();
        });
        window.addEventListener("hashchange", T.route);
        T.takeKeyFromAddress();
        T.signIn().then(T.route);
        """#
}
