"""The command line: say writes real speech through the core; serve reports ready and stops on SIGTERM."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import shlex
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile

from voxhost.cli import main

from .conftest import assert_speech, free_port, namespaces_work, run_cli, run_cli_on_tmpfs


def _env(state_dir):
    return {**os.environ, "VOXHOST_STATE_DIR": str(state_dir)}


def _check_config(config, state_dir) -> subprocess.CompletedProcess[str]:
    """``voxhost check-config -c CONFIG`` as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "voxhost", "check-config", "-c", str(config)],
        capture_output=True,
        text=True,
        env=_env(state_dir),
        timeout=60,
    )


def test_say_writes_a_wav(tmp_path, state_dir):
    out = tmp_path / "out.wav"
    subprocess.run(
        [sys.executable, "-m", "voxhost", "say", "Dinner is ready.", "-o", str(out)],
        check=True,
        env=_env(state_dir),
        timeout=120,
    )
    data, rate = soundfile.read(out, dtype="int16")
    assert_speech(data.tobytes(), rate, 0.6, 2.5)


def test_say_to_stdout(state_dir):
    result = subprocess.run(
        [sys.executable, "-m", "voxhost", "say", "-", "-o", "-"],
        input=b"Good morning. The coffee is ready.",
        capture_output=True,
        check=True,
        env=_env(state_dir),
        timeout=120,
    )
    data, rate = soundfile.read(io.BytesIO(result.stdout), dtype="int16")
    assert_speech(data.tobytes(), rate, 1.5, 4.5)
    # The audio's reader gone (`| true`) is said as for every command: it was "cannot write standard output:
    # Broken pipe".
    voxhost = shlex.join([sys.executable, "-m", "voxhost", "say", "Hello.", "-o", "-"])
    gone = subprocess.run(
        ["bash", "-c", f"{voxhost} | true; exit ${{PIPESTATUS[0]}}"], capture_output=True, text=True,
        env=_env(state_dir), timeout=120,
    )  # fmt: skip
    assert (gone.returncode, gone.stderr) == (1, "voxhost: cannot write standard output: the reader closed it\n"), gone


def test_say_with_nothing_to_say_writes_a_short_silence_and_says_so(state_dir):
    # An emoji alone: a WAV of no samples and "0.00 s" (the Wyoming door sends 0.1 s of silence for the same text).
    result = subprocess.run(
        [sys.executable, "-m", "voxhost", "say", "\N{PARTY POPPER}", "-o", "-"],
        capture_output=True,
        env=_env(state_dir),
        timeout=120,
    )
    data, rate = soundfile.read(io.BytesIO(result.stdout), dtype="int16")
    assert result.returncode == 0 and len(data) == round(rate * 0.1) and not data.any(), result.stderr
    assert result.stderr.decode() == (
        f"standard output: 0.10 s of silence at {rate} Hz: nothing in the text to say "
        "(emoji, markup or punctuation alone)\n"
    )


@pytest.mark.parametrize(
    ("option", "line"),
    [
        (("-v", "nobody"), "voxhost: unknown voice 'nobody'; see the voice list"),
        # a typo: the voice meant is named
        (
            ("-v", "en_US-joe-mediun"),
            "voxhost: unknown voice 'en_US-joe-mediun' (did you mean piper:en_US-joe-medium?)",
        ),
        # what to do said too: no German voice is installed until one is pulled
        (("-l", "de"), "voxhost: no voice speaks language 'de'; `voxhost models list piper` lists Piper's voices"),
        # as the doors say it (it was "speed: Input should be less than or equal to 4")
        (("--speed", "5"), "voxhost: speed must be between 0.25 and 4.0; got 5"),
        (("--speed", "nan"), "voxhost: speed must be between 0.25 and 4.0; got nan"),  # was "a finite number"
        # the English voice read the German text (as German: "einundzwanzig") without a word
        (("-l", "de", "-v", "piper:en_US-joe-medium"), "voxhost: voice piper:en_US-joe-medium speaks en_US, not de:"),
    ],
    ids=["voice", "voice-typo", "language", "speed", "speed-nan", "voice-of-another-language"],
)
def test_say_refuses_what_it_cannot_speak_in_one_line(state_dir, option, line):
    result = subprocess.run(
        [sys.executable, "-m", "voxhost", "say", "Hallo", *option, "-o", "-"],
        capture_output=True,
        text=True,
        env=_env(state_dir),
        timeout=120,
    )
    assert result.returncode == 1 and result.stderr.startswith(line) and not result.stdout, result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr


def test_say_text_that_is_not_utf8_is_named_as_such(state_dir):
    # A Latin-1 file or terminal: "text: the text contains a lone surrogate (U+DCE9) at position 6; send plain
    # Unicode text".
    for text, where in ((b"-", "standard input"), (b"Hello \xe9t\xe9.", "the text")):
        result = subprocess.run(
            [sys.executable, "-m", "voxhost", "say", text, "-o", "-"],
            input=b"Hello \xe9t\xe9.",
            capture_output=True,
            env=_env(state_dir),
            timeout=120,
        )
        assert result.returncode == 1 and not result.stdout, result.stderr
        assert result.stderr.decode() == (
            f"voxhost: {where} is not UTF-8 (byte 0xe9 at 6); convert it first, e.g. iconv -f latin1 -t utf-8\n"
        )
    # A byte order mark (a file saved by a Windows editor) is not text: what follows is spoken.
    marked = subprocess.run(
        [sys.executable, "-m", "voxhost", "say", "-", "-o", "-"],
        input="\ufeffGood morning.".encode(),
        capture_output=True,
        check=True,
        env=_env(state_dir),
        timeout=120,
    )
    data, rate = soundfile.read(io.BytesIO(marked.stdout), dtype="int16")
    assert_speech(data.tobytes(), rate, 0.5, 2.5)
    # A stream that never ends is refused once past the most text taken: it was read into memory to its end.
    with open("/dev/zero", "rb") as endless:
        result = run_cli(state_dir, "say", "-", "-o", "-", stdin=endless, check=False, timeout=60)
    assert result.returncode == 1 and not result.stdout, result.stderr
    assert (
        result.stderr
        == "voxhost: standard input holds more than 100000 characters, the most accepted ([text] max_chars)\n"
    )


@pytest.mark.parametrize(
    "args, line",
    [
        (["say", "--sped", "2", "Hi"], "voxhost say: error: unrecognized arguments: --sped Hi (did you mean --speed?)"),
        (["voices", "export", "--ouput", "v.zip"], "voxhost voices export: error: unrecognized arguments: --ouput"),
        (["serve", "--http-prot", "8001"], "voxhost serve: error: unrecognized arguments: --http-prot 8001 (did you"),
        # Refused for a missing argument instead: "the following arguments are required: command" (or --name).
        (["--verison"], "voxhost: error: unrecognized arguments: --verison (did you mean --version?)"),
        (["voices", "add", "--nme", "Rose", "r.wav"], "voxhost voices add: error: unrecognized arguments: --nme (did"),
    ],
)
def test_a_misspelled_option_is_refused_by_its_subcommand(state_dir, args, line):
    # argparse refused it from the top, with voxhost's own usage: "voxhost: error: unrecognized arguments: --sped Hi".
    result = run_cli(state_dir, *args, check=False)
    assert result.returncode == 2 and result.stderr.splitlines()[-1].startswith(line), result.stderr
    assert result.stderr.startswith(f"usage: voxhost {' '.join(a for a in args[:2] if not a.startswith('-'))}")


def test_serve_ready_and_sigterm(state_dir):
    # Started with stdout closed (`voxhost serve >&-`), as a careless init script does: it aborted at exit (status
    # 134, an event loop assertion) once a descriptor of its own had taken number 1.
    proc = subprocess.Popen(
        [sys.executable, "-m", "voxhost", "serve", "--no", "wyoming", "--no", "http"],
        stderr=subprocess.PIPE,
        text=True,
        env=_env(state_dir),
        preexec_fn=lambda: os.close(1),
    )
    try:
        deadline = time.monotonic() + 90
        lines = []
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            lines.append(line)
            if "Ready:" in line:
                break
        assert any("Ready:" in line and "piper" in line for line in lines), lines
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        assert "Stopped" in proc.stderr.read()
    finally:
        proc.kill()


def _signal_while_importing(state_dir, command: list[str], sig: signal.Signals) -> subprocess.CompletedProcess[str]:
    """Start ``command`` and send it ``sig`` while Python is still importing voxhost's command line.

    Python's import-time profile (one stderr line per module loaded) tells how far it got; once numpy has loaded,
    the command stops being read: a pipe of one page then holds the process in its next few imports, where the
    signal finds it.
    """
    # As from a terminal: a test run in a shell's background job would pass its ignored SIGINT on, which voxhost
    # rightly keeps ignoring (a caught signal is reset to its default in the child, an ignored one stays ignored).
    previous = signal.signal(sig, signal.default_int_handler)
    try:
        proc = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**_env(state_dir), "PYTHONPROFILEIMPORTTIME": "1"},
        )
    finally:
        signal.signal(sig, previous)
    try:
        fcntl = pytest.importorskip("fcntl")
        if not hasattr(fcntl, "F_SETPIPE_SZ"):
            pytest.skip("pipe sizes are fixed here")
        fcntl.fcntl(proc.stderr.fileno(), fcntl.F_SETPIPE_SZ, 4096)
        lines = []
        while not lines or lines[-1].rpartition("|")[2].strip() != "numpy":
            line = proc.stderr.readline()
            assert line, "".join(lines)[-2000:]  # ended before numpy loaded
            lines.append(line)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    said = "".join(line for line in err.splitlines(keepends=True) if not line.startswith("import time:"))
    return subprocess.CompletedProcess(command, proc.returncode, "", said)


def test_a_signal_while_the_command_imports_ends_it_quietly(state_dir):
    """Ctrl-C ends `say` with 130 as once it runs; SIGTERM ends `serve` with 0 and one line, as a started daemon."""
    voxhost = os.path.join(os.path.dirname(sys.executable), "voxhost")  # the console script, as users run it
    said = _signal_while_importing(
        state_dir, [sys.executable, "-m", "voxhost", "say", "Hello.", "-o", "-"], signal.SIGINT
    )
    assert (said.returncode, said.stderr) == (130, "")  # no KeyboardInterrupt traceback
    served = _signal_while_importing(state_dir, [voxhost, "serve", "--no", "wyoming", "--no", "http"], signal.SIGTERM)
    assert (served.returncode, served.stderr) == (0, "voxhost: received SIGTERM while starting: stopped\n")


def test_serve_refuses_a_no_that_names_no_door(state_dir):
    # `--no htp` was a warning about a [doors.htp] table, and the daemon served with the HTTP door open.
    command = ["serve", "--no", "htp", "--no", "wyoming", "--http-port", str(free_port())]
    result = run_cli(state_dir, *command, check=False, timeout=60)
    assert result.returncode == 2 and "Ready" not in result.stderr, result.stderr
    assert result.stderr.splitlines()[-1].startswith("voxhost: --no htp names no door (did you mean http? doors: ")


@pytest.mark.parametrize("door", ["http", "wyoming"])
def test_serve_on_a_port_in_use_says_what_to_do(state_dir, door):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        wyoming = f"tcp://127.0.0.1:{port if door == 'wyoming' else free_port()}"
        http = str(port if door == "http" else free_port())
        result = run_cli(state_dir, "serve", "--uri", wyoming, "--http-port", http, check=False, timeout=120)
    assert result.returncode == 1, result.stderr
    last = result.stderr.splitlines()[-1]
    assert f"the {door} door could not start: " in last and "address already in use" in last, result.stderr
    flag = "--http-port N" if door == "http" else "--uri tcp://HOST:PORT"
    assert last.endswith(f"stop it, or give [doors.{door}] another (or serve {flag})"), last
    # Said before the engines load (minutes for a heavy model on a Jetson), not after.
    assert "Engine piper loaded" not in result.stderr, result.stderr
    assert "Stopped" not in result.stderr, "never started: nothing was stopped"


def test_serve_with_a_bad_door_table_says_only_that(tmp_path, state_dir):
    # "INFO voxhost.daemon: Stopped" came first, as if a daemon had run, then the line that says why it never started.
    config = tmp_path / "voxhost.toml"
    config.write_text("[doors.http]\nprot = 8001\n")
    result = run_cli(state_dir, "serve", "-c", str(config), check=False, timeout=60)
    assert result.returncode == 2 and result.stderr == (
        "voxhost: invalid configuration: doors.http.prot: unknown setting; did you mean port? (got 8001)\n"
    ), result.stderr


def test_engines_and_voices_commands(state_dir):
    engines = subprocess.run(
        [sys.executable, "-m", "voxhost", "engines"], capture_output=True, text=True, check=True, env=_env(state_dir)
    ).stdout
    assert engines.startswith("piper") and "enabled" in engines
    voices = subprocess.run(
        [sys.executable, "-m", "voxhost", "voices"], capture_output=True, text=True, check=True, env=_env(state_dir)
    ).stdout
    assert "piper:en_US-joe-medium" in voices and "22050" in voices


@pytest.mark.parametrize(
    ("command", "named"), [("jobs", "{list}"), ("models", "{list,pull,remove}"), ("service", "{install,uninstall}")]
)
def test_a_missing_subcommand_is_named_by_its_choices(capsys, command, named):
    # "the following arguments are required: jobs_command" named a variable of the parser, not what to type.
    with pytest.raises(SystemExit) as ended:
        main([command])
    assert ended.value.code == 2
    assert capsys.readouterr().err.endswith(
        f"voxhost {command}: error: the following arguments are required: {named}\n"
    )


def _say_fails(state_dir, output, **kwargs):
    """``voxhost say`` into ``output``: its exit status and stderr (a traceback would show there)."""
    result = subprocess.run(
        [sys.executable, "-m", "voxhost", "say", "Hi", "-o", str(output)],
        stderr=subprocess.PIPE,
        text=True,
        env=_env(state_dir),
        timeout=120,
        **({"stdout": subprocess.DEVNULL} | kwargs),
    )
    return result.returncode, result.stderr


def test_say_to_an_output_it_cannot_write_is_one_line(tmp_path, state_dir):
    for output, reason in (
        (tmp_path, "it is a directory"),
        (tmp_path / "missing" / "out.wav", f"no directory {tmp_path / 'missing'}"),
    ):
        status, stderr = _say_fails(state_dir, output)
        assert status == 1 and stderr == f"voxhost: cannot write {output}: {reason}\n", stderr
    status, stderr = _say_fails(state_dir, "-", stdout=None, preexec_fn=lambda: os.close(1))  # `>&-`
    assert status == 1 and stderr == "voxhost: cannot write standard output: it is closed\n", stderr
    # `-o -` typed at a terminal: the WAV's bytes went onto the screen
    terminal, screen = pty.openpty()
    try:
        status, stderr = _say_fails(state_dir, "-", stdout=screen)
    finally:
        os.close(screen)
        os.close(terminal)
    assert status == 1 and stderr.startswith("voxhost: standard output is a terminal, not a place for audio"), stderr


def test_say_onto_a_read_only_file_is_refused_before_anything_is_spoken(tmp_path, state_dir):
    # The whole text was spoken, then the write refused: the check before speaking looked only at the folder. The
    # voice named does not exist, so only a refusal that comes first is about the file. Root writes any file, so as
    # root voxhost runs as an ordinary user of a user namespace of its own (the same files, owned by that user).
    out = tmp_path / "dinner.wav"
    out.write_text("the old file")
    out.chmod(0o444)
    as_user = ["unshare", "--user", "--map-user=1000", "--map-group=1000"] if os.geteuid() == 0 else []
    if as_user and subprocess.run([*as_user, "true"], capture_output=True).returncode != 0:
        pytest.skip("running as root, without user namespaces (unshare --user) to be an ordinary user")
    result = subprocess.run(
        [*as_user, sys.executable, "-m", "voxhost", "say", "Dinner is ready.", "-v", "nobody", "-o", str(out)],
        capture_output=True,
        text=True,
        env=_env(state_dir),
        timeout=120,
    )
    reason = "the file is read-only (make it writable to let voxhost replace it)"
    assert result.returncode == 1 and result.stderr == f"voxhost: cannot write {out}: {reason}\n", result.stderr
    assert out.read_text() == "the old file"


def test_say_to_a_file_named_for_another_audio_form_is_refused(tmp_path, state_dir):
    # dinner.mp3 got a WAV: it plays where the player looks inside, not where it trusts the name.
    out = tmp_path / "dinner.mp3"
    status, stderr = _say_fails(state_dir, out)
    assert status == 1 and stderr.startswith(f"voxhost: cannot write {out}: say writes WAV"), stderr
    assert "name it .wav" in stderr and stderr.count("\n") == 1 and not out.exists()


def test_say_writes_the_form_its_output_is_named_for(tmp_path, state_dir):
    # dinner.pcm got a WAV (its header a click before the samples in `aplay -f S16_LE`), and --format pcm wrote raw
    # samples into dinner.wav, which no player opens.
    raw = tmp_path / "dinner.pcm"
    result = run_cli(state_dir, "say", "sos", "-v", "morse:cw", "-o", str(raw), timeout=120)
    said = re.fullmatch(rf"{re.escape(str(raw))}: ([\d.]+) s at (\d+) Hz\n", result.stderr)
    assert said, result.stderr
    data = raw.read_bytes()
    samples = np.frombuffer(data, dtype="<i2")
    assert not data.startswith(b"RIFF") and samples.any()
    assert abs(samples.size / int(said[2]) - float(said[1])) < 0.01, "the samples alone, no header"
    # --format that contradicts the name: refused before anything is spoken (the voice named does not exist)
    for name, given, writes, right in (
        ("dinner.wav", "pcm", "raw samples", ".pcm"),
        ("dinner.raw", "wav", "a WAV", ".wav"),
    ):
        out = tmp_path / name
        result = run_cli(
            state_dir, "say", "Hi", "-v", "nobody", "--format", given, "-o", str(out), check=False, timeout=120
        )
        reason = f"--format {given} writes {writes}, not a {out.suffix} file; name it {right}, or leave out --format"
        assert result.returncode == 1 and result.stderr == f"voxhost: cannot write {out}: {reason}\n", result.stderr
        assert not out.exists()


def test_say_to_a_file_the_system_refuses_is_one_line(state_dir):
    status, stderr = _say_fails(state_dir, "/proc/version")
    assert status == 1 and stderr.startswith("voxhost: cannot write /proc/version: ") and "Traceback" not in stderr
    assert stderr.count("\n") == 1, stderr


@pytest.mark.skipif(not namespaces_work(), reason="no user namespaces here (unshare -rm)")
def test_say_on_a_full_disk_leaves_the_file_as_it_was(tmp_path, state_dir):
    # The file was truncated first, then written until the disk was full: a WAV cut short in place of the old one.
    disk = tmp_path / "disk"
    disk.mkdir()
    out = disk / "dinner.wav"
    text = "Dinner is ready. Please come to the kitchen, and bring the plates and the glasses with you."
    result = run_cli_on_tmpfs(
        disk,
        "say",
        text,
        "-o",
        str(out),
        "--state-dir",
        str(state_dir),
        size="40k",
        prepare=f"printf 'the old file' > {out}",
        after=f"ls -A {disk}; grep -qx 'the old file' {out} && echo same",
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr == f"voxhost: cannot write {out}: No space left on device\n", result.stderr
    assert result.stdout == "dinner.wav\nsame\n", "untouched, and nothing else left beside it"


def test_models_pull_says_why_it_cannot_find_a_model(state_dir):
    # Offline with no Piper catalog fetched yet, a real voice was "engine 'piper' has no model ... (models: none)".
    # Said as every command says its errors ("error: ...", exit status 2, was models' own form).
    offline = run_cli(state_dir, "models", "pull", "piper", "en_US-lessac-medium", check=False, HF_HUB_OFFLINE="1")
    assert offline.returncode == 1 and "has no model" not in offline.stderr, offline.stderr
    assert offline.stderr.startswith("voxhost: cannot look up piper 'en_US-lessac-medium': ") and (
        "unset HF_HUB_OFFLINE" in offline.stderr
    )
    typo = run_cli(state_dir, "models", "pull", "whisper", "smal", check=False)
    assert typo.returncode == 1 and typo.stderr.startswith(
        "voxhost: engine 'whisper' has no model 'smal' (did you mean "
    )
    assert "(did you mean small? models: " in typo.stderr and typo.stderr.count("\n") == 1, typo.stderr
    engine = run_cli(state_dir, "models", "remove", "pipr", "x", check=False)
    assert engine.returncode == 1 and engine.stderr.startswith(
        "voxhost: no engine 'pipr' (did you mean piper? engines: "
    )


def test_jobs_list_with_a_bad_url_is_one_line(state_dir):
    result = subprocess.run(
        [sys.executable, "-m", "voxhost", "jobs", "list", "--url", "notaurl"],
        capture_output=True,
        text=True,
        env=_env(state_dir),
        timeout=60,
    )
    assert result.returncode == 1 and result.stderr.startswith("voxhost: --url 'notaurl' is not an HTTP address")
    assert "Traceback" not in result.stderr
    # A page size the daemon refuses is refused before asking it; 0 was left out of the query and showed 50 jobs.
    for limit in ("0", "-5", "501", "ten"):
        bad = run_cli(state_dir, "jobs", "list", "--limit", limit, "--url", "notaurl", check=False, timeout=60)
        assert bad.returncode == 2 and f"argument --limit: a number from 1 to 500, not '{limit}'" in bad.stderr, bad


def test_jobs_list_reaches_a_daemon_on_ipv6_loopback(tmp_path, state_dir):
    config = tmp_path / "voxhost.toml"
    wyoming = free_port()
    config.write_text(
        f'[doors.http]\nhost = "::1"\nport = {free_port()}\n'
        f'[doors.wyoming]\nuri = ["tcp://[::1]:{wyoming}"]\nzeroconf = false\n'
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "voxhost", "serve", "-c", str(config)],
        stderr=subprocess.PIPE,
        text=True,
        env=_env(state_dir),
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and "Ready:" not in proc.stderr.readline():
            pass
        result = subprocess.run(
            [sys.executable, "-m", "voxhost", "jobs", "list", "-c", str(config), "--json"],
            capture_output=True,
            text=True,
            env=_env(state_dir),
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["data"] == []
        # doctor beside the running daemon: its ports are the daemon's, not a failure ("a running voxhost counts")
        result = subprocess.run(
            [sys.executable, "-m", "voxhost", "doctor", "--json", "--engine", "piper", "-c", str(config)],
            capture_output=True,
            text=True,
            env=_env(state_dir),
            timeout=120,
        )
        doors = [check for check in json.loads(result.stdout)["checks"] if check["scope"].startswith("door ")]
        assert result.returncode == 0 and len(doors) == 2, result.stdout
        assert all(c["status"] == "ok" and c["detail"].startswith("in use by the voxhost serve") for c in doors), doors
        # The Wyoming port given for the HTTP door's: its answer is no HTTP, said in one line
        result = subprocess.run(
            [sys.executable, "-m", "voxhost", "jobs", "list", "--url", f"http://[::1]:{wyoming}"],
            capture_output=True,
            text=True,
            env=_env(state_dir),
            timeout=60,
        )
        assert result.returncode == 1 and result.stderr == (
            f"voxhost: what answers at http://[::1]:{wyoming} is not voxhost's HTTP door; --url names that door "
            "(http://127.0.0.1:8000 by default; not the Wyoming port)\n"
        )
    finally:
        proc.terminate()
        proc.wait(30)


def test_a_missing_plugins_dir_is_warned_about(tmp_path, state_dir):
    result = subprocess.run(
        [sys.executable, "-m", "voxhost", "engines", "--plugins-dir", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        env=_env(state_dir),
        timeout=60,
    )
    assert result.returncode == 0 and f"Plugins directory {tmp_path / 'nope'} is not a directory" in result.stderr


def test_check_config_prints_the_warnings_serve_gives(tmp_path, state_dir):
    # [doors.htp] and [engines.pipr] were accepted in silence by check-config; serve warns about them, with the table
    # likely meant (its settings went unread: the HTTP door opened on its defaults), where one is named alike.
    config = tmp_path / "typo.toml"
    config.write_text("[doors.htp]\nport = 8001\n[engines.pipr]\nenabled = true\n[engines.kokoro]\n")
    result = _check_config(config, state_dir)
    assert result.returncode == 0 and result.stdout.startswith("config OK"), result.stderr
    door, engine = "no plugin provides that door", "no plugin provides that engine"
    assert f"voxhost: WARNING: Config has [doors.htp] but {door}; did you mean [doors.http]?\n" in result.stderr
    assert f"voxhost: WARNING: Config has [engines.pipr] but {engine}; did you mean [engines.piper]?\n" in result.stderr
    assert f"voxhost: WARNING: Config has [engines.kokoro] but {engine}\n" in result.stderr


@pytest.mark.parametrize("linesay", [False, True], ids=["every door off", "a plugin door on"])
def test_check_config_warns_when_no_door_is_open(tmp_path, state_dir, linesay):
    # A daemon with every door off started in silence, out of every client's reach.
    config = tmp_path / "closed.toml"
    tables = "[doors.wyoming]\nenabled = false\n[doors.http]\nenabled = false\n"
    config.write_text(tables + ("[doors.linesay]\nenabled = true\n" if linesay else ""))
    result = _check_config(config, state_dir)
    assert result.returncode == 0 and result.stdout.startswith("config OK"), result.stderr
    warning = "voxhost: WARNING: No door is open (each [doors.<name>] has enabled = false"
    assert (warning in result.stderr) is not linesay, result.stderr


DANGLING = 'default_voice = "nope"\naliases = { kitchen = "piper:nonexistent", joe = "piper:en_US-joe-medium" }\n'
"""A default voice and an alias naming voices no engine offers (and an alias that is fine)."""


def test_serve_warns_of_a_default_voice_or_alias_that_names_no_voice(tmp_path, state_dir):
    # Every request without a voice was refused (400), with nothing said at start.
    config = tmp_path / "dangling.toml"
    config.write_text(DANGLING)
    proc = subprocess.Popen(
        [sys.executable, "-m", "voxhost", "serve", "-c", str(config), "--no", "wyoming", "--no", "http"],
        stderr=subprocess.PIPE,
        text=True,
        env=_env(state_dir),
    )
    try:
        lines = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not any("Ready:" in line for line in lines):
            lines.append(proc.stderr.readline())
        warnings = [line for line in lines if "WARNING voxhost.core: Config" in line]
        assert len(warnings) == 2, lines
        assert "default_voice names voice 'nope', which no running engine or stored voice offers" in warnings[0]
        assert "aliases.kitchen names voice 'piper:nonexistent'" in warnings[1]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        proc.kill()


def test_doctor_fails_a_default_voice_or_alias_that_names_no_voice(tmp_path, state_dir):
    config = tmp_path / "dangling.toml"
    config.write_text(DANGLING + "[doors.wyoming]\nenabled = false\n[doors.http]\nenabled = false\n")
    result = subprocess.run(
        [sys.executable, "-m", "voxhost", "doctor", "--json", "-c", str(config)],
        capture_output=True,
        text=True,
        env=_env(state_dir),
        timeout=300,
    )
    assert result.returncode == 1, result.stderr
    voices = [check for check in json.loads(result.stdout)["checks"] if check["scope"] == "voices"]
    assert [(check["name"], check["status"]) for check in voices] == [
        ("default_voice", "fail"),
        ("aliases.kitchen", "fail"),
    ]
    assert voices[1]["fix"] == "set aliases.kitchen to a voice `voxhost voices` lists, or remove it"


def test_a_serve_that_ends_in_process_gives_the_signals_back(tmp_path):
    # serve's recorder of early signals stayed installed after a serve refused its config: in a process that goes on
    # (a program embedding voxhost, a test run), Ctrl-C and SIGTERM were swallowed from then on.
    config = tmp_path / "voxhost.toml"
    config.write_text("log_level = 'loud'\n")
    handled = (signal.SIGINT, signal.SIGTERM)
    before = [signal.getsignal(sig) for sig in handled]
    assert main(["serve", "-c", str(config)]) == 2
    assert [signal.getsignal(sig) for sig in handled] == before
