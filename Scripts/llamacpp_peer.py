"""The peer of `troupe bench llm`: llama.cpp (the xllamacpp wheel's server) on the same GGUF, same
prompts (token ids from Troupe's own run, so both read exactly the same tokens), same reply length,
greedy; then the table of both with the ratios. Run by Scripts/bench llm, which installs xllamacpp
into the git-ignored .venv.

  python llamacpp_peer.py --troupe PATH/troupe --model MODEL.gguf [--threads 1,2] [--runs 3] [--busy]

Each round runs Troupe once (`troupe bench llm --runs 1`, a process of its own) and then llama.cpp
once on the same prompt, so both see the same conditions on a shared machine; the table holds the
medians. llama.cpp's speeds are its server's own `timings` (prompt and generation tokens/s), its
time to first token is measured here, from sending the request to the first streamed token, its
peak RSS is the server's VmHWM. Before each round the script waits (up to a minute) until other
processes use less than 0.15 of a core, and the table reports what they used (median over the
rounds). With --busy, a second pass repeats everything beside one busy-looping process.
"""
import argparse, json, os, signal, socket, statistics, subprocess, sys, time, urllib.request

TICK = os.sysconf("SC_CLK_TCK")


def busy_seconds(pids=()):
    """CPU seconds used so far by the whole machine, and by this script, its finished children
    and the live processes `pids` (the server, the busy loop)."""
    machine = sum(int(v) for i, v in enumerate(open("/proc/stat").readline().split()[1:9]) if i not in (3, 4)) / TICK
    t = os.times()
    mine = t.user + t.system + t.children_user + t.children_system
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            mine += (int(fields[11]) + int(fields[12])) / TICK
        except OSError:
            pass
    return machine, mine


class OtherLoad:
    """Cores used by other processes (not this script's) over a stretch of time."""

    def __init__(self, pids):
        self.pids, self.t0, self.s0 = pids, time.time(), busy_seconds(pids)

    def cores(self):
        s1 = busy_seconds(self.pids)
        return max(0.0, ((s1[0] - self.s0[0]) - (s1[1] - self.s0[1])) / max(time.time() - self.t0, 1e-3))


def wait_quiet(pids, limit=60):
    """Waits until others use < 0.15 core over 3 s (at most `limit` s)."""
    start = time.time()
    while True:
        load = OtherLoad(pids)
        time.sleep(3)
        if load.cores() < 0.15 or time.time() - start > limit:
            return


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(model, port, threads):
    import xllamacpp as xlc
    p = xlc.CommonParams()
    p.model.path, p.hostnames, p.port, p.n_ctx, p.n_parallel = model, ["127.0.0.1"], port, 2048, 1
    p.cpuparams.n_threads = p.cpuparams_batch.n_threads = threads
    server = xlc.Server(p)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    while server:
        time.sleep(1)


class Llama:
    def __init__(self, model, threads):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve", model, str(self.port), str(threads)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(240):
            try:
                urllib.request.urlopen(self.url + "/health")
                return
            except Exception:
                time.sleep(0.5)
        self.close()
        raise RuntimeError("llama.cpp server did not start")

    def completion(self, ids, n):
        body = {"prompt": ids, "n_predict": n, "ignore_eos": True, "temperature": 0, "top_k": 1, "cache_prompt": False,
                "stream": True}
        request = urllib.request.Request(self.url + "/completion", json.dumps(body).encode(), {"Content-Type": "application/json"})
        start, first, timings = time.time(), None, None
        with urllib.request.urlopen(request) as response:
            for line in response:
                if not line.startswith(b"data: "):
                    continue
                event = json.loads(line[6:])
                if first is None and (event.get("content") or event.get("tokens")):
                    first = time.time()
                timings = event.get("timings", timings)
        return timings, (first - start) * 1000

    def peak_rss(self):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0

    def close(self):
        self.proc.terminate()
        self.proc.wait(10)


def ours(troupe, model, threads, line, reply):
    """One measured run of Troupe (a process of its own: its peak RSS is this run's)."""
    out = subprocess.run([troupe, "bench", "llm", "--json", "--model", model, "--threads", str(threads), "--runs", "1",
                          "--lines", str(line), "--reply-tokens", str(reply)], capture_output=True, text=True, check=True).stdout
    return [json.loads(l) for l in out.splitlines() if l.strip()][0]


def measure(troupe, model, threads, lines, runs, reply, busy_pids):
    """For each prompt, `runs` rounds of one Troupe run then one llama.cpp run, so that both see
    the same conditions on a shared machine; medians per prompt."""
    llama = Llama(model, threads)
    try:
        first = ours(troupe, model, threads, lines[0], 8)
        llama.completion(first["prompt_ids"], 8)       # warm-up
        pairs = []
        for line in lines:
            mine, theirs, loads = [], [], []
            for _ in range(runs):
                wait_quiet([llama.proc.pid] + busy_pids)
                load = OtherLoad([llama.proc.pid] + busy_pids)
                mine.append(ours(troupe, model, threads, line, reply))
                timings, ttft = llama.completion(mine[-1]["prompt_ids"], reply)
                theirs.append({"prefill_tok_s": timings["prompt_per_second"], "decode_tok_s": timings["predicted_per_second"],
                               "ttft_ms": ttft})
                loads.append(load.cores())
            row = dict(mine[0])
            for key in ("prefill_tok_s", "decode_tok_s", "ttft_ms", "peak_rss_bytes"):
                row[key] = statistics.median(m[key] for m in mine)
            peer = {key: statistics.median(t[key] for t in theirs) for key in ("prefill_tok_s", "decode_tok_s", "ttft_ms")}
            peer["peak_rss_bytes"] = llama.peak_rss()
            row["other_cores"] = peer["other_cores"] = round(statistics.median(loads), 2)
            pairs.append((row, peer))
        return pairs
    finally:
        llama.close()


def table(title, pairs):
    print(f"\n{title}")
    print(f"{'prompt':<9} {'tok':>4} {'thr':>3} | {'prefill tok/s':^23} | {'decode tok/s':^23} | {'first token ms':^23} | {'peak RSS MiB':^17} | {'others':>7}")
    print(f"{'':<9} {'':>4} {'':>3} | {'troupe':>7} {'llama':>7} {'ratio':>7} | {'troupe':>7} {'llama':>7} {'ratio':>7} | "
          f"{'troupe':>7} {'llama':>7} {'ratio':>7} | {'troupe':>8} {'llama':>8} | {'cores':>7}")
    for o, p in pairs:
        print(f"{o['prompt']:<9} {o['prompt_tokens']:>4.0f} {o['threads']:>3.0f} | {o['prefill_tok_s']:>7.0f} {p['prefill_tok_s']:>7.0f} "
              f"{o['prefill_tok_s'] / p['prefill_tok_s']:>7.2f} | {o['decode_tok_s']:>7.1f} {p['decode_tok_s']:>7.1f} "
              f"{o['decode_tok_s'] / p['decode_tok_s']:>7.2f} | {o['ttft_ms']:>7.0f} {p['ttft_ms']:>7.0f} {o['ttft_ms'] / p['ttft_ms']:>7.2f} | "
              f"{o['peak_rss_bytes'] / 2**20:>8.0f} {p['peak_rss_bytes'] / 2**20:>8.0f} | {o['other_cores']:>7.2f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--troupe")
    ap.add_argument("--model")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--reply-tokens", type=int, default=128)
    ap.add_argument("--busy", action="store_true", help="also measure with a busy loop on the other core")
    a = ap.parse_args()
    if a.serve:
        return serve(a.serve[0], int(a.serve[1]), int(a.serve[2]))
    passes = [("idle", False)] + ([("one core busy (a busy loop beside the benchmark)", True)] if a.busy else [])
    for title, busy in passes:
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
        try:
            pairs = []
            for threads in map(int, a.threads.split(",")):
                pairs += measure(a.troupe, a.model, threads, [6, 7], a.runs, a.reply_tokens, [hog.pid] if hog else [])
        finally:
            if hog:
                hog.kill()
        table(f"{title}: {a.reply_tokens}-token greedy replies, medians of {a.runs} runs (ratio = troupe / llama.cpp; "
              "above 1 is faster for tok/s, below 1 is faster for first token)", pairs)
    print("\nllama.cpp: xllamacpp's prebuilt server (generic x86-64 build), same GGUF and prompt ids, cache_prompt off, "
          "ignore_eos; 'others' = cores used by other processes during the rounds (the machine is shared).")


if __name__ == "__main__":
    main()
