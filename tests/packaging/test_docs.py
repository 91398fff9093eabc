"""The man page and the bash completion cannot drift from the binary.

Both are generated from `gil-prof --help` and `gil-prof COMMAND --help`
(packaging/helptext.py). This test reads those texts on its own (simple
patterns, not the generator's parser) and checks the generated files
against them, against the format table (output/output.c) and the exit
codes (exitcodes.h): every command, option, format and exit code is in
the man page, every option the man page or the README names exists, the
completion offers exactly each command's options and the table's formats.
A command added to --help flows into both (shown with a stand-in binary),
and a help text the generator cannot read fails the build.
"""
import os
import pathlib
import re
import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT, make

sys.path.insert(0, str(ROOT / "packaging"))
import helptext  # noqa: E402

MAN_PAGE = ROOT / ".output" / "gil-prof.1"
COMPLETION = ROOT / ".output" / "gil-prof.bash"
GEN_MAN = ROOT / "packaging" / "gen_manpage.py"
GEN_COMPLETION = ROOT / "packaging" / "gen_completion.py"
OPTION_LINE_RE = re.compile(r"^ {2,6}(?:(-[A-Za-z0-9]), )?(--[a-z][a-z0-9-]*)?", re.M)
OPTION_WORD_RE = re.compile(r"(?<![\w/.-])--[a-z][a-z0-9-]+")


def help_of(binary, command=None):
    args = [str(binary)] + ([command] if command else []) + ["--help"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def section(text, name):
    """A --help section ("Options:") or, in a rendered man page, a section
    by its heading ("OPTIONS"): up to the next line at column 0."""
    m = re.search(r"^%s:?\n(.*?)(?=^\S|\Z)" % re.escape(name), text, re.M | re.S)
    return m.group(1) if m else ""


def commands_of(binary):
    top = help_of(binary)
    names = re.findall(r"^  ([a-z][a-z0-9-]*)\s", section(top, "Commands"), re.M)
    assert names, "no Commands: section in gil-prof --help"
    return names


def options_in(text):
    """Every option name of a help text's Options: section."""
    names = set()
    for short, long in OPTION_LINE_RE.findall(section(text, "Options")):
        names.update(n for n in (short, long) if n)
    return names


def format_table():
    """The format names of output/output.c's table."""
    src = (ROOT / "output" / "output.c").read_text()
    names = re.findall(r"\{\s*GP_FORMAT_\w+,\s*\"([a-z]+)\"", src)
    assert len(names) >= 7, names
    return names


def exit_codes():
    src = (ROOT / "sampler" / "common" / "exitcodes.h").read_text()
    return re.findall(r"GP_EXIT_\w+\s*=\s*(\d+),\s*/\*\s*(.*?)\s*\*/", src)


def rendered(page):
    r = subprocess.run(["man", "-l", str(page)], capture_output=True, text=True,
                       env=dict(os.environ, MANWIDTH="200", MANPAGER="cat", PAGER="cat"))
    assert r.returncode == 0, r.stderr
    return re.sub(r".\x08", "", r.stdout)


@pytest.fixture(scope="module")
def docs(dev_bin):
    make("docs")
    return rendered(MAN_PAGE), COMPLETION


def complete(script, *words):
    """What the completion offers for the command line `words` (the last one
    being completed)."""
    quoted = " ".join("'%s'" % w.replace("'", "'\\''") for w in words)
    code = ". %s && COMP_WORDS=(%s) && COMP_CWORD=%d && _gil_prof; printf '%%s\\n' \"${COMPREPLY[@]}\"" % (
        script, quoted, len(words) - 1)
    r = subprocess.run(["bash", "-c", code], capture_output=True, text=True, check=True,
                       cwd=ROOT)
    return [w for w in r.stdout.splitlines() if w]


def test_man_page_lints_clean(docs):
    r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(MAN_PAGE)],
                       capture_output=True, text=True)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr


def test_man_page_has_every_command_option_format_and_exit_code(dev_bin, docs):
    text = docs[0]
    top = help_of(dev_bin)
    commands = section(text, "COMMANDS")
    for cmd in commands_of(dev_bin):
        assert re.search(r"^\s+%s\b" % cmd, commands, re.M), "command %s not in COMMANDS" % cmd
        own = help_of(dev_bin, cmd)
        where = section(text, "OPTIONS") if own == top else text.split('gil-prof %s' % cmd, 1)[-1]
        for opt in options_in(own):
            assert re.search(r"(?<![\w-])%s\b" % re.escape(opt), where), \
                "%s's option %s is not in the man page" % (cmd, opt)
    for name in format_table():
        assert re.search(r"^\s+%s\s" % name, section(text, "OPTIONS"), re.M), name
    status = section(text, "EXIT STATUS")
    for code, what in exit_codes():
        assert re.search(r"^\s+%s\s+%s" % (code, re.escape(what.split()[0])), status, re.M), \
            "exit code %s (%s) not in EXIT STATUS" % (code, what)


def test_every_option_named_exists(dev_bin, docs):
    known = set()
    for cmd in [None] + commands_of(dev_bin):
        known |= options_in(help_of(dev_bin, cmd))
    named_in_man = set(OPTION_WORD_RE.findall(docs[0]))
    assert named_in_man - known == set(), "the man page names unknown options"
    named_in_readme = set(OPTION_WORD_RE.findall((ROOT / "README.md").read_text()))
    long_options = {o for o in known if o.startswith("--")}
    assert long_options - named_in_readme == set(), "README does not document these options"


def test_completion_offers_commands_and_options(dev_bin, docs):
    script = docs[1]
    assert set(complete(script, "gil-prof", "")) == set(commands_of(dev_bin))
    top = help_of(dev_bin)
    for cmd in commands_of(dev_bin):
        own = help_of(dev_bin, cmd)
        offered = set(complete(script, "gil-prof", cmd, "-"))
        assert offered == options_in(own) | {"--"}, cmd
        if own == top:  # the default command: its options without its name too
            assert set(complete(script, "gil-prof", "-")) == offered
    assert set(complete(script, "gil-prof", "record", "--na")) == {"--native", "--native-all"}


def test_completion_offers_option_values(dev_bin, docs):
    script = docs[1]
    table = format_table()
    assert sorted(complete(script, "gil-prof", "-f", "")) == sorted(table)
    assert sorted(complete(script, "gil-prof", "record", "--format", "=", "")) == sorted(table)
    assert complete(script, "gil-prof", "--format", "sp") == ["speedscope"]
    top = helptext.parse(help_of(dev_bin))
    for opt in top.options:
        if not opt.metavar:
            continue
        values = complete(script, "gil-prof", opt.long or opt.short, "")
        if opt.metavar in ("FILE", "PATH"):
            continue  # file names
        described = " ".join(line for _, line in opt.text)
        for v in values:
            assert opt.metavar == "PID" or v in described, \
                "%s offers %r, which its help does not mention" % (opt.long, v)
    assert set(complete(script, "gil-prof", "--mode", "")) == {"wall", "cpu"}
    assert set(complete(script, "gil-prof", "--gil-trace", "")) == {"auto", "uprobes", "watchpoint"}
    assert complete(script, "gil-prof", "-d", "") == []
    files = complete(script, "gil-prof", "-o", "READ")
    assert "README.md" in files, files
    pids = complete(script, "gil-prof", "-p", "")
    assert pids and all(p.isdigit() for p in pids), pids
    assert "python3" in complete(script, "gil-prof", "-p", "1", "--", "python")


FAKE = r'''#!/usr/bin/python3
"""gil-prof with an `inspect` command added, as a later version may have."""
import subprocess, sys
REAL = %(real)r
args = sys.argv[1:]
if args[:1] == ["inspect"]:
    rest = args[1:]
    if rest[:1] == ["--style"] and rest[1:2] != ["text"] and rest[1:2] != ["json"]:
        sys.stderr.write("gil-prof: error: unknown style '%%s' (known: text, json)\n" %% rest[1])
        sys.exit(2)
    print("""Usage: gil-prof inspect [OPTIONS] -p PID

Print the Python stacks of every thread of PID once, and exit.

Options:
  -p, --pid PID          the process to inspect
      --style STYLE      text (default) or json
      --locals           also each frame's local variables
  -h, --help             show this help""")
    sys.exit(0)
out = subprocess.run([REAL] + args, capture_output=True, text=True)
text = out.stdout.replace("Commands:\n", "Commands:\n  inspect                print every thread's stack once\n")
sys.stdout.write(text)
sys.stderr.write(out.stderr)
sys.exit(out.returncode)
'''


def test_new_command_flows_in(dev_bin, tmp_path):
    fake = tmp_path / "gil-prof"
    fake.write_text(FAKE % {"real": str(dev_bin)})
    fake.chmod(0o755)
    man, comp = tmp_path / "gil-prof.1", tmp_path / "gil-prof.bash"
    subprocess.run([sys.executable, str(GEN_MAN), "--binary", str(fake), "--version", "9",
                    "--date", "2000-01-01", "-o", str(man)], check=True)
    subprocess.run([sys.executable, str(GEN_COMPLETION), "--binary", str(fake), "--version", "9",
                    "-o", str(comp)], check=True)
    text = rendered(man)
    assert re.search(r"^\s+inspect\s+print every thread", section(text, "COMMANDS"), re.M)
    dump = text.split("gil-prof inspect", 1)[1]
    for opt in ("--pid", "--style", "--locals"):
        assert opt in dump, opt
    assert set(complete(comp, "gil-prof", "")) == set(commands_of(dev_bin)) | {"inspect"}
    assert set(complete(comp, "gil-prof", "inspect", "-")) == {"-p", "--pid", "--style", "--locals",
                                                            "-h", "--help", "--"}
    assert set(complete(comp, "gil-prof", "inspect", "--style", "")) == {"text", "json"}
    assert "--native" in complete(comp, "gil-prof", "record", "--")
    assert "--style" not in complete(comp, "gil-prof", "--")


@pytest.mark.parametrize("broken,why", [
    ("Usage: gil-prof [OPTIONS]\n\nOptions:\n  -p, --pid PID   x\n\nEnvironment:\n  X  y\n",
     "unknown section"),
    ("Usage: gil-prof [OPTIONS]\n\nOptions:\n  -p, --pid PID   x\n    , --rate=HZ  y\n",
     "cannot read line"),
    ("gil-prof: profile things\n", "no 'Usage:' line"),
])
def test_unreadable_help_is_an_error(broken, why):
    with pytest.raises(helptext.HelpFormatError, match=why):
        helptext.parse(textwrap.dedent(broken))
