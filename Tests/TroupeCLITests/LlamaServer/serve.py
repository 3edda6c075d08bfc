"""llama.cpp's own server (the xllamacpp wheel, installed into .venv by Scripts/setup --tests) on
a GGUF, for the tests that talk to a real OpenAI-compatible server.

  python serve.py MODEL.gguf PORT

Serves http://127.0.0.1:PORT/v1 until killed (SIGTERM). Prints "ready" on stdout once /health
answers; exits 1 if it never does.
"""
import os, signal, sys, threading, time, urllib.request


def main():
    model, port = sys.argv[1], int(sys.argv[2])
    import xllamacpp as xlc
    params = xlc.CommonParams()
    params.model.path, params.hostnames, params.port, params.n_ctx, params.n_parallel = model, ["127.0.0.1"], port, 4096, 1
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = 1
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    parent = os.getppid()

    def orphaned():  # a test process killed before it stops the server leaves none behind
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=orphaned, daemon=True).start()
    server = xlc.Server(params)
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
            print("ready", flush=True)
            break
        except Exception:
            time.sleep(0.2)
    else:
        sys.exit(1)
    # The server runs on its own threads; this one only keeps the process (and `server`) alive.
    threading.Event().wait()
    del server


if __name__ == "__main__":
    main()
