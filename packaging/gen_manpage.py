#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Write gil-prof(1) from the binary's --help texts (helptext.py), the exit
codes of sampler/common/exitcodes.h and the prose of packaging/gil-prof.1.in.

    gen_manpage.py --binary ./gil-prof --version 0.1.0 --date 2026-12-01 -o gil-prof.1
"""
import argparse
import os
import pathlib
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import helptext  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
EXIT_RE = re.compile(r"^\s*GP_EXIT_\w+\s*=\s*(\d+),\s*/\*\s*(.*?)\s*\*/")
# An option name in running text: "--native", "-o".
OPTION_WORD_RE = re.compile(r"(?<![\w/.-])(--?[A-Za-z][A-Za-z0-9-]*)")
LIST_ENTRY_RE = re.compile(r"^(\S+)\s{2,}(\S.*)$")


def esc(text):
    """Running text as troff: backslashes, and dots or quotes opening a line."""
    text = text.replace("\\", "\\e")
    return re.sub(r"^([.'])", r"\\&\1", text)


def bold_options(text):
    """Running text with option names in bold and their minus signs kept."""
    return OPTION_WORD_RE.sub(lambda m: "\\fB" + m.group(1).replace("-", "\\-") + "\\fR",
                              esc(text))


def dash(name):
    return name.replace("-", "\\-")


def option_head(o):
    names = ", ".join("\\fB%s\\fR" % dash(n) for n in o.names)
    return names + (" \\fI%s\\fR" % o.metavar if o.metavar else "")


def item_body(item):
    """An entry's text: its paragraph, and a deeper list (the formats of
    --format) as nested tagged paragraphs."""
    out, para, sub = [], [], []

    def flush_para():
        if para:
            out.append(bold_options(" ".join(para)))
            para.clear()

    def flush_sub():
        if not sub:
            return
        out.extend([".RS", ".PD 0"])
        for name, lines in sub:
            out.extend([".TP 14", ".B " + esc(name), bold_options(" ".join(lines))])
        out.extend([".PD", ".RE"])
        out.append(".IP")
        sub.clear()

    sub_indent = None
    for indent, line in item.text:
        if indent == 0:
            flush_sub()
            para.append(line)
            continue
        # A deeper block whose first line is "NAME  text" is a list: every
        # line at its indentation is an entry, deeper ones continue it.
        m = LIST_ENTRY_RE.match(line) if sub_indent is None else None
        if m or indent == sub_indent:
            flush_para()
            sub_indent = indent
            name, _, rest = line.partition(" ")
            sub.append((name, [rest.strip()]))
        elif sub:
            sub[-1][1].append(line)
        else:
            para.append(line)
    flush_para()
    flush_sub()
    while out and out[-1] == ".IP":
        out.pop()
    return out


def synopsis(usage):
    out = []
    for i, line in enumerate(usage):
        if i:
            out.append(".br")
        words = line.split()
        rendered = []
        for w in words:
            if w == "gil-prof":
                rendered.append("\\fBgil\\-prof\\fR")
            elif w.startswith("-"):
                rendered.append("\\fB%s\\fR" % dash(w))
            elif re.match(r"^[A-Z][A-Z.\[\]]*$", w):
                rendered.append("\\fI%s\\fR" % esc(w))
            else:
                rendered.append(esc(w).replace("-", "\\-"))
        out.append(" ".join(rendered))
    return out


def paragraphs(paras):
    out = []
    for i, p in enumerate(paras):
        if i:
            out.append(".PP")
        out.append(bold_options(" ".join(p)))
    return out


def options(opts):
    out = []
    for o in opts:
        out.extend([".TP", option_head(o)])
        out.extend(item_body(o))
    return out


def options_lead(top):
    """Which command the top-level options belong to, if one does."""
    default = [c.name for c in top.commands if c.help is top]
    if not top.options:
        return ["Each command's options are under \\fBCOMMAND OPTIONS\\fR."]
    if default:
        return ["The options of \\fB%s\\fR, the default command:" % dash(default[0])]
    return []


def examples(helps):
    lines = [e for h in helps for e in h.examples]
    if not lines:
        return []
    out = [".SH EXAMPLES", ".nf", ".RS"]
    out.extend(esc(line).replace("-", "\\-") for line in dict.fromkeys(lines))
    out.extend([".RE", ".fi"])
    return out


def command_sections(top):
    out = []
    for c in top.commands:
        h = c.help
        if h is top:
            continue
        out.append('.SS "gil\\-prof %s"' % dash(c.name))
        out.extend(synopsis(h.usage))
        out.append(".PP")
        out.extend(paragraphs(h.description + h.notes))
        out.extend(options(h.options))
    return [".SH COMMAND OPTIONS"] + out if out else []


def commands(top):
    out = []
    for c in top.commands:
        out.extend([".TP", "\\fB%s\\fR" % dash(c.name)])
        out.extend(item_body(c))
    if not out:
        raise helptext.HelpFormatError("gil-prof --help lists no commands")
    return out


def exit_status(header):
    rows = []
    for line in pathlib.Path(header).read_text().splitlines():
        m = EXIT_RE.match(line)
        if m:
            rows.extend([".TP", "\\fB%s\\fR" % m.group(1), bold_options(m.group(2))])
    if not rows:
        raise helptext.HelpFormatError("no exit codes found in %s" % header)
    return rows


def render(binary, template, exit_header, version, date):
    top = helptext.read(binary)
    helps = [top] + [c.help for c in top.commands if c.help is not top]
    usage = list(dict.fromkeys(u for h in helps for u in h.usage))
    fill = {
        "VERSION": esc(version),
        "DATE": esc(date),
        "SYNOPSIS": synopsis(usage),
        "DESCRIPTION": paragraphs(top.description + top.notes),
        "COMMANDS": commands(top),
        "OPTIONS": options_lead(top) + options(top.options),
        "COMMAND_SECTIONS": command_sections(top),
        "EXAMPLES": examples(helps),
        "EXIT_STATUS": exit_status(exit_header),
    }
    out = []
    for line in pathlib.Path(template).read_text().splitlines():
        m = re.fullmatch(r"@([A-Z_]+)@", line)
        if m:
            out.extend(fill.pop(m.group(1)))
            continue
        out.append(re.sub(r"@([A-Z_]+)@", lambda k: fill.pop(k.group(1)), line))
    if fill:
        raise helptext.HelpFormatError("template %s lacks %s" % (template, ", ".join(fill)))
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--template", default=str(HERE / "gil-prof.1.in"))
    ap.add_argument("--exit-codes", default=str(ROOT / "sampler" / "common" / "exitcodes.h"))
    ap.add_argument("--version", required=True)
    ap.add_argument("--date", required=True)
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    try:
        text = render(a.binary, a.template, a.exit_codes, a.version, a.date)
    except helptext.HelpFormatError as e:
        sys.exit("gen_manpage.py: %s" % e)
    tmp = a.output + ".tmp"
    pathlib.Path(tmp).write_text(text)
    os.replace(tmp, a.output)


if __name__ == "__main__":
    main()
