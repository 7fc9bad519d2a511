"""Seeded malformed scripts and configs, and a driver that feeds them to ``main(argv)`` under limits.

Run by tests/cli/test_fuzz_inputs.py as a child process: ``python tests/fuzz_cases.py SEED COUNT FOLDER [PART
PARTS]`` (every PARTS-th case from case PART on; all of them without).
It imports voiceguide once, then forks one process per case with a limited address space and kills it
after a time limit; it prints one JSON line per case that failed (a traceback, a hang, a crash, an exit
code outside the documented set) and a summary line last.
The same seed gives the same cases, so a failure is reproduced by running the child with that seed.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import random
import resource
import signal
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MEMORY_LIMIT = 600 * 1024 * 1024
"""Address space of each case's process (``show demo`` peaks near 190 MB of it)."""
CASE_SECONDS = 10
"""A case still running after this long is a hang."""
WARM = ("numpy", "rich.console", "platformdirs", "voiceguide.cli.commands", "voiceguide.cli.view",
        "voiceguide.engine.compile", "voiceguide.engine.lint", "voiceguide.backends.factories")
"""Imported before the cases are forked (what ``show`` and ``validate`` load; not the sound libraries, which
``doctor`` loads itself: PortAudio is not to be initialised before a fork)."""
EXIT_CODES = {0, 1}
"""What validate, show and doctor may return for bad input (README: 1 is a problem with the input)."""

WRONG = ["1", "-1", "0", "1e308", "-1e308", "inf", "nan", "9223372036854775807", "99999999999999999999",
         "true", '""', '" "', '"x"', "[]", "[1, 2]", "{}", "{ a = 1 }", "1979-05-27T07:32:00Z", "07:32:00",
         '"\\u001b[2J"', '"\\u202e"', '"\\u0000"', "0.0000001", "[[[[[]]]]]", '"/dev/zero"', '"../../etc/passwd"']
WEIRD = ["\u200f" * 5, "\u202e evil", "\u0301\u0301", "👩\u200d👩\u200d👧", "\ufeff", "\u2028", "日本語",
         "\x1b[2J", "\x1b]0;title\x07", "\x9b31m", "\x00", "\r", "\x7f", "a\u0000b"]
KEYS = ["title", "language", "rate", "volume", "voice", "description", "speech_gap", "ambient", "ambient_volume",
        "sentence_gap", "pitch", "soften", "say", "pause", "chime", "breathe", "listen", "affirm", "sleep", "include",
        "cycles", "minutes", "cue", "bpm", "counts", "progress", "unit", "timeout", "limit", "kind", "gap", "fade",
        "audio", "after", "personal"]
CONFIG_KEYS = ["output", "input", "sample_rate", "tts", "voice", "rate", "volume", "recognizer", "model",
               "cache_dir", "path", "answers", "seconds", "from", "start", "end", "session", "at", "days",
               "minutes", "pin", "short_press", "long_press", "phrase", "sensitivity"]


def _seed_texts(folder: str) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted((REPO / folder).rglob("*.toml"))]


def _quote(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid TOML basic string


def _nest(rng: random.Random) -> str:
    depth = rng.choice([31, 33, 100, 999, 1500, 5000, 20000])
    if rng.random() < 0.5:
        return "[" * depth + "]" * depth
    return "{ a = " * depth + "1" + " }" * depth


def _mutate(rng: random.Random, text: str) -> str:
    data = list(text)
    for _ in range(rng.randint(1, 8)):
        if not data:
            break
        i = rng.randrange(len(data))
        op = rng.randrange(4)
        if op == 0:
            del data[i]
        elif op == 1:
            data.insert(i, rng.choice('[]{}="\\\n#.,:' + "".join(WEIRD)))
        elif op == 2:
            data[i] = chr(rng.randrange(0x20, 0x3000))
        else:
            data[i:i] = list(data[rng.randrange(len(data)):][:40])
    return "".join(data)


def _replace_value(rng: random.Random, text: str, keys: list[str]) -> str:
    lines = text.splitlines()
    candidates = [i for i, line in enumerate(lines) if "=" in line and line.split("=")[0].strip() in keys]
    if not candidates:
        return text + f"\n{rng.choice(keys)} = {rng.choice(WRONG)}\n"
    i = rng.choice(candidates)
    key = lines[i].split("=")[0].strip()
    value = rng.choice([*WRONG, _nest(rng), _quote(rng.choice(WEIRD))])
    lines[i] = f"{key} = {value}"
    return "\n".join(lines) + "\n"


def script_case(rng: random.Random, seeds: list[str]) -> str | bytes:
    """One malformed (or oddly valid) session script."""
    base = rng.choice(seeds)
    kind = rng.randrange(11)
    header = '[session]\ntitle = "Fuzz"\n'
    if kind == 0:
        return rng.randbytes(rng.randint(0, 4000))
    if kind == 1:
        return base[:rng.randint(0, len(base))]
    if kind == 2:
        return _replace_value(rng, base, KEYS)
    if kind == 3:
        return header + f"[[step]]\nsay = \"Hi.\"\nx = {_nest(rng)}\n"
    if kind == 4:
        text = rng.choice(WEIRD) * rng.randint(1, 50)
        return header + f"[[step]]\n{rng.choice(['say', 'listen'])} = {_quote(text)}\n"
    if kind == 5:
        words = " ".join(rng.choice(["calm", "breathe", "slowly", "here."]) for _ in range(rng.randint(300, 6000)))
        return header + f"[[step]]\nsay = {_quote(words)}\n"
    if kind == 6:
        return _mutate(rng, base)
    if kind == 7:
        target = rng.choice(["/dev/zero", "/dev/null", "/proc/self/status", "/", "pipe", "../../../etc/passwd",
                             "self", "fuzz-0", "a" * 300])
        key = rng.choice(["include", "chime", "audio"])
        step = f'say = "Hi."\naudio = {_quote(target)}' if key == "audio" else f"{key} = {_quote(target)}"
        return header + f"[[step]]\n{step}\n"
    if kind == 8:
        language = _quote(rng.choice([*WEIRD, "xx", "en GB", "", "e", "qqq", "nl"]))
        return f'[session]\ntitle = "Fuzz"\nlanguage = {language}\n[[step]]\nsay = "Hello."\n'
    if kind == 9:
        steps = "".join(f"[[step]]\n{rng.choice(KEYS)} = {rng.choice(WRONG)}\n" for _ in range(rng.randint(1, 300)))
        return header + steps
    return (rng.choice(WEIRD) + base).encode("utf-16") if rng.random() < 0.5 else base.encode("latin-1", "replace") \
        + bytes([rng.randrange(0x80, 0x100)])


def config_case(rng: random.Random, seeds: list[str]) -> str | bytes:
    """One malformed (or oddly valid) daemon config."""
    base = rng.choice(seeds)
    kind = rng.randrange(7)
    if kind == 0:
        return rng.randbytes(rng.randint(0, 4000))
    if kind == 1:
        return base[:rng.randint(0, len(base))]
    if kind == 2:
        return _replace_value(rng, base, CONFIG_KEYS)
    if kind == 3:
        return f"[{rng.choice(['audio', 'speech', 'wake', 'button'])}]\nx = {_nest(rng)}\n"
    if kind == 4:
        return _mutate(rng, base)
    if kind == 5:
        return "".join(f"[[schedule]]\nsession = {_quote(rng.choice([*WEIRD, 'demo', 'nope']))}\n"
                       f"at = {rng.choice(WRONG)}\n" for _ in range(rng.randint(1, 50)))
    return "a = " + _nest(rng) + "\n"


def _child(argv: list[str], output: Path) -> int:
    """In the forked child: limits, then the case; its stdout and stderr (C-level too) go to ``output``."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115 (flushed below; the child exits)
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    try:
        if argv[0] == "fuzz-config":  # config loading alone: doctor also opens the sound output, which is slow
            from voiceguide.daemon.config_read import load_config
            from voiceguide.errors import ConfigError

            with contextlib.suppress(ConfigError):
                load_config(Path(argv[1]))
            return 0
        from voiceguide.cli.main import main

        try:
            return main(argv)
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else 99
    except BaseException:
        traceback.print_exc()
        return 98
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def run_case(argv: list[str], output: Path) -> dict[str, object] | None:
    """Run ``main(argv)`` in a forked child with a memory and a time limit; what went wrong, or None."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        os._exit(_child(argv, output))
    deadline = time.monotonic() + CASE_SECONDS
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return {"argv": argv, "why": f"still running after {CASE_SECONDS} s"}
        time.sleep(0.005)
    text = output.read_text(encoding="utf-8", errors="replace")
    if os.WIFSIGNALED(status):
        return {"argv": argv, "why": f"killed by signal {os.WTERMSIG(status)}", "output": text[-3000:]}
    code = os.WEXITSTATUS(status)
    if code not in EXIT_CODES or "Traceback" in text:
        return {"argv": argv, "why": f"exit code {code}" + (", traceback" if "Traceback" in text else ""),
                "output": text[-3000:]}
    return None


def cases(seed: int, count: int, folder: Path) -> list[list[str]]:
    """Write ``count`` cases into ``folder`` and return the command line of each."""
    rng = random.Random(seed)
    scripts, configs = _seed_texts("scripts"), [(REPO / "docs" / "config.example.toml").read_text(encoding="utf-8")]
    pipe = folder / "pipe.toml"
    if not pipe.exists():
        os.mkfifo(pipe)
    argvs: list[list[str]] = []
    for n in range(count):
        is_config = n % 4 == 3
        content = config_case(rng, configs) if is_config else script_case(rng, scripts)
        path = folder / f"fuzz-{n}.toml"
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
        if is_config:
            argvs.append(["doctor", "--config", str(path)] if n % 16 == 3 else ["fuzz-config", str(path)])
        else:
            argvs.append(["validate", str(path)] if n % 2 else ["show", str(path), "--backend", "fake"])
    return argvs


def main(seed: int, count: int, folder: Path, part: int = 0, parts: int = 1) -> int:
    """Run every ``parts``-th of the ``count`` cases, from case ``part`` on (all of them by default)."""
    import voiceguide.cli.main
    import voiceguide.daemon.config_read  # noqa: F401

    for module in WARM:  # once here, not in each forked case: 0.1 s of imports per case was most of its CPU
        importlib.import_module(module)

    failed = 0
    for number, argv in list(enumerate(cases(seed, count, folder)))[part::parts]:
        problem = run_case(argv, folder / "output.txt")
        if problem is not None:
            failed += 1
            print(json.dumps({"case": number, "seed": seed, **problem}), flush=True)
    print(json.dumps({"summary": True, "cases": len(range(part, count, parts)), "failed": failed}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), *map(int, sys.argv[4:6])))
