/// The dashboard's page and style: hand-written, no framework and nothing fetched from the
/// network, so `troupe serve` works offline and the build needs nothing new. The page holds no
/// data; the script (DashboardScript.swift) reads everything through the API with the key the
/// user gives, kept in the tab's sessionStorage.
enum DashboardPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Troupe dashboard</title>
        <link rel="stylesheet" href="/dashboard/app.css">
        </head>
        <body>
        <header>
          <h1>Troupe</h1>
          <nav id="nav">
            <a href="#personas" data-view="personas">Personas</a>
            <a href="#beliefs" data-view="beliefs">Beliefs</a>
            <a href="#live" data-view="live">Live</a>
            <a href="#recall" data-view="recall">Recall explained</a>
            <a href="#health" data-view="health">Health</a>
          </nav>
          <form id="keyform" autocomplete="off">
            <span id="whoami" class="muted"></span>
            <input id="key" type="password" placeholder="API key (trp_…)" aria-label="API key">
            <button type="submit">Use key</button>
          </form>
        </header>
        <div id="status" role="status"></div>
        <main id="view"><p class="muted">Loading…</p></main>
        <script src="/dashboard/app.js"></script>
        </body>
        </html>
        """#

    static let css = #"""
        :root { --fg: #1d2330; --muted: #6b7385; --line: #d9dde6; --bg: #f6f7fa; --card: #fff; --accent: #3559c7;
                --ok: #2f8f5b; --old: #a3a9b7; --warn: #c9822b; --bad: #c23b3b; font-family: system-ui, sans-serif; }
        * { box-sizing: border-box; }
        body { margin: 0; color: var(--fg); background: var(--bg); font-size: 14px; }
        header { display: flex; gap: 1.5rem; align-items: center; padding: .6rem 1rem; background: #1d2330; color: #fff; flex-wrap: wrap; }
        header h1 { font-size: 1.1rem; margin: 0; }
        nav a { color: #cfd6ea; text-decoration: none; margin-right: 1rem; padding: .2rem 0; }
        nav a.active { color: #fff; border-bottom: 2px solid #8fb0ff; }
        #keyform { margin-left: auto; display: flex; gap: .4rem; align-items: center; }
        #keyform .muted { color: #aab3c8; }
        #status { padding: .3rem 1rem; min-height: 1.6rem; color: var(--bad); }
        main { padding: 0 1rem 2rem; }
        .muted { color: var(--muted); }
        .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: 1rem; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1rem; }
        .card h2, .card h3 { margin: 0 0 .4rem; font-size: 1.05rem; }
        table { border-collapse: collapse; width: 100%; }
        td, th { text-align: left; padding: .2rem .4rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { font-weight: 600; color: var(--muted); }
        .num { text-align: right; font-variant-numeric: tabular-nums; }
        .turn { border-left: 3px solid var(--line); padding-left: .6rem; margin: .5rem 0; }
        .tag { display: inline-block; font-size: .75rem; padding: 0 .35rem; border-radius: 3px; background: #e8ecf6; margin-right: .25rem; }
        .tag.superseded { background: #eceef2; color: var(--muted); }
        .tag.disputed { background: #fbe9d5; color: #8a5312; }
        .tag.written { background: #dff1e6; color: #1f6b42; }
        .tag.forgotten { background: #f6dada; color: #8e2626; }
        .tag.conflict-resolved { background: #e6e0f6; color: #4b348f; }
        .controls { display: flex; gap: .8rem; align-items: center; flex-wrap: wrap; margin: .6rem 0; }
        .controls input[type=range] { width: 32rem; max-width: 100%; }
        .timeline { background: var(--card); border: 1px solid var(--line); border-radius: 6px; overflow-x: auto; }
        .timeline svg text { font-size: 11px; fill: var(--fg); }
        .split { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
        @media (max-width: 900px) { .split { grid-template-columns: 1fr; } }
        ul.plain { list-style: none; padding: 0; margin: 0; }
        ul.plain li { padding: .3rem 0; border-bottom: 1px solid var(--line); }
        .diff-added { color: var(--ok); } .diff-removed { color: var(--bad); text-decoration: line-through; } .diff-changed { color: var(--warn); }
        .bar { display: flex; height: 14px; border-radius: 3px; overflow: hidden; background: #eceef2; margin: .25rem 0; }
        .bar span { display: block; height: 100%; }
        .legend span { display: inline-flex; align-items: center; margin-right: .8rem; }
        .legend i { display: inline-block; width: 10px; height: 10px; margin-right: .25rem; border-radius: 2px; }
        .events { max-height: 60vh; overflow-y: auto; }
        .hist { display: flex; align-items: flex-end; gap: 2px; height: 90px; border-bottom: 1px solid var(--line); }
        .hist div { background: var(--accent); min-width: 14px; flex: 1; }
        .hist-labels { display: flex; gap: 2px; font-size: .65rem; color: var(--muted); }
        .hist-labels span { flex: 1; min-width: 14px; overflow: hidden; }
        .figure { font-size: 1.4rem; font-weight: 600; }
        button, select, input { font: inherit; padding: .2rem .5rem; }
        """#
}
