# SPDX-License-Identifier: BSD-2-Clause
"""gil-prof's --help texts read as data, for the man page and the shell
completion (gen_manpage.py, gen_completion.py), so neither can drift from
what the binary says.

`gil-prof --help` lists the commands ("Commands:"); `gil-prof COMMAND
--help` gives each one's usage, description, options and examples. An
option's accepted values ("--mode MODE": wall, cpu) come from the binary's
own refusal of a value that is none of them ("unknown mode 'x' (known:
wall, cpu)"), i.e. from the tables the command line is checked against.

The parser is strict: a line it does not understand is an error, so a
--help text whose layout changes fails the build instead of dropping an
option from the man page.
"""
import re
import subprocess
from dataclasses import dataclass, field

SECTION_RE = re.compile(r"^([A-Z][A-Za-z -]*):$")
# "  -p, --pid PID          text", "      --native           text",
# "  -q, --quiet", "  -x ARG   text"
OPTION_RE = re.compile(
    r"^ {2,6}(?=-)(?:(?P<short>-[A-Za-z0-9?])(?:, |  ))?\s*(?P<long>--[a-z0-9][a-z0-9-]*)?"
    r"(?:[ =](?P<metavar>[A-Z][A-Z0-9_.\[\]-]*))?(?:\s{2,}(?P<text>\S.*))?$"
)
COMMAND_RE = re.compile(r"^  (?P<name>[a-z][a-z0-9-]*)(?:\s{2,}(?P<text>\S.*))?$")
# Entries start within the first 6 columns ("  -p, --pid", "      --native");
# anything deeper continues the entry above.
ENTRY_MAX_INDENT = 8
KNOWN_RE = re.compile(r"\(known: ([^)]*)\)")
PROBE = "__gp_probe__"


class HelpFormatError(ValueError):
    pass


@dataclass
class Item:
    """An entry of a list (an option, a command, a sub-list of values):
    its first line of text and the lines that continue it, each with its
    indentation relative to the first (deeper lines are a sub-list)."""
    text: list = field(default_factory=list)  # [(relative indent, str)]

    def add(self, indent, line):
        self.text.append((indent, line))


@dataclass
class Option(Item):
    short: str = None
    long: str = None
    metavar: str = None
    values: list = None  # accepted values, when the binary lists them

    @property
    def names(self):
        return [n for n in (self.short, self.long) if n]


@dataclass
class Command(Item):
    name: str = ""
    help: "Help" = None  # its own --help


@dataclass
class Help:
    usage: list = field(default_factory=list)  # "gil-prof [record] [OPTIONS] -p PID"
    description: list = field(default_factory=list)  # paragraphs (lists of lines)
    sections: dict = field(default_factory=dict)  # name -> raw lines, in order
    options: list = field(default_factory=list)
    commands: list = field(default_factory=list)
    examples: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # trailing paragraphs
    text: str = ""

    def option(self, name):
        return next((o for o in self.options if name in o.names), None)


def _paragraphs(lines):
    out, cur = [], []
    for line in lines:
        if line.strip():
            cur.append(line.strip())
        elif cur:
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    return out


def _items(lines, pattern, make, where):
    """Entries of an indented list; continuation lines go to the last one."""
    items, column = [], None
    for line in lines:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        m = pattern.match(line) if indent < ENTRY_MAX_INDENT else None
        if m:
            item = make(m)
            if m.group("text"):
                column = m.start("text")
                item.add(0, m.group("text"))
            items.append(item)
            continue
        if not items or indent < ENTRY_MAX_INDENT:
            raise HelpFormatError("%s: cannot read line %r" % (where, line))
        if column is None or not items[-1].text:
            column = indent
        items[-1].add(indent - column, line.strip())
    return items


def parse(text, where="--help"):
    h = Help(text=text)
    lines = text.splitlines()
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i == len(lines) or not lines[i].startswith("Usage: "):
        raise HelpFormatError("%s: no 'Usage:' line" % where)
    h.usage.append(lines[i][len("Usage: "):].strip())
    i += 1
    while i < len(lines) and lines[i].startswith(" ") and lines[i].strip().startswith("gil-prof"):
        h.usage.append(lines[i].strip())
        i += 1
    # The description: text up to the first section.
    desc = []
    while i < len(lines) and not SECTION_RE.match(lines[i]):
        desc.append(lines[i])
        i += 1
    h.description = _paragraphs(desc)
    # Sections: a header, indented lines; text back at column 0 after a
    # blank line is a trailing note.
    name, body, tail = None, [], []
    for line in lines[i:]:
        m = SECTION_RE.match(line)
        if m:
            if name:
                h.sections[name] = body
            name, body = m.group(1), []
        elif line.strip() and not line.startswith(" "):
            if name:
                h.sections[name] = body
                name, body = None, []
            tail.append(line)
        elif name:
            body.append(line)
        else:
            tail.append(line)
    if name:
        h.sections[name] = body
    h.notes = _paragraphs(tail)
    for sec, body in h.sections.items():
        if sec == "Options":
            h.options = _items(
                body, OPTION_RE,
                lambda m: Option(short=m.group("short"), long=m.group("long"),
                                 metavar=m.group("metavar")),
                where + " Options")
            for o in h.options:
                if not o.names:
                    raise HelpFormatError("%s: an option without a name" % where)
        elif sec == "Commands":
            h.commands = _items(body, COMMAND_RE, lambda m: Command(name=m.group("name")),
                                where + " Commands")
        elif sec == "Examples":
            h.examples = [line.strip() for line in body if line.strip()]
        else:
            raise HelpFormatError("%s: unknown section %r (teach packaging/helptext.py)"
                                  % (where, sec))
    return h


def run_help(binary, command=None):
    args = [binary] + ([command] if command else []) + ["--help"]
    r = subprocess.run(args, capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise HelpFormatError("%s failed (exit %d): %s" % (" ".join(args), r.returncode, r.stderr))
    return r.stdout


def probe_values(binary, command, option):
    """The values OPTION accepts, from the binary's refusal of another one.

    `--help` after the probe: a value the option takes without checking
    (a path, a number) only prints the help, so the probe never runs
    anything."""
    args = [binary] + ([command] if command else []) + [option, PROBE, "--help"]
    r = subprocess.run(args, capture_output=True, text=True, timeout=30)
    m = KNOWN_RE.search(r.stderr) if r.returncode != 0 else None
    return [v.strip() for v in m.group(1).split(",")] if m else None


def read(binary):
    """The top-level help, with each command's own help and every option's
    accepted values."""
    top = parse(run_help(binary), "gil-prof --help")
    for o in top.options:
        if o.metavar:
            o.values = probe_values(binary, None, o.long or o.short)
    for c in top.commands:
        text = run_help(binary, c.name)
        c.help = top if text == top.text else parse(text, "gil-prof %s --help" % c.name)
        if c.help is top:
            continue
        for o in c.help.options:
            if o.metavar:
                o.values = probe_values(binary, c.name, o.long or o.short)
    return top
